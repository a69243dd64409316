"""`estation policy ...` as a subprocess: JSON on stdout, exit codes, one error line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def estation(*args, stdin=None):
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "policy", *args],
        cwd=ROOT, capture_output=True, input=stdin, timeout=60,
    )
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def write(tmp_path, obj, name="person.json"):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(path)


def test_evaluate_contract_shape(tmp_path):
    person = {"sex": "M", "birth_date": "1975-06-01", "hukou_local": True, "able_to_work": True,
              "wants_work": True, "employed": False, "receiving_pension": False, "in_school": False,
              "registered_unemployed_since": "2025-01-01", "difficulty_exited_on": None}
    code, out, err = estation("evaluate", "--pack", "xinyu", "--person", write(tmp_path, person), "--on", "2025-06-01")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert list(doc) == ["pack", "on", "next_question", "results"]
    assert (doc["pack"], doc["on"], doc["next_question"]) == ("xinyu", "2025-06-01", None)
    (r,) = doc["results"]
    assert list(r) == ["program", "eligible", "categories", "reasons", "missing_facts", "details"]
    assert (r["program"], r["eligible"], r["categories"], r["missing_facts"]) == (
        "employment_difficulty", True, ["age_4050"], [])
    assert {"clause": "002 §1(1)", "text": r["reasons"][-1]["text"]} in r["reasons"]
    assert all(set(x) == {"clause", "text"} and x["clause"].startswith("002") for x in r["reasons"])


def test_evaluate_programs_in_pack_order(tmp_path):
    code, out, _ = estation("evaluate", "--pack", "xuchang", "--person", write(tmp_path, {}), "--on", "2025-06-01")
    doc = json.loads(out)
    assert code == 0 and [r["program"] for r in doc["results"]] == [
        "unemployment_registration", "jobseeker_registration", "service_tier", "service_class", "pw_priority"]
    assert all(r["eligible"] is None and r["details"] == {} for r in doc["results"])
    assert doc["next_question"] not in ("sex", "birth_date", "hukou_local", "resident_type", None)


def test_retirement_example():
    code, out, err = estation("retirement", "--sex", "M", "--birth", "1969-10-05")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"retirement_age_months": 735, "retirement_date": "2031-01-05", "reform_delay_months": 15}


def test_retirement_female_bases():
    _, out50, _ = estation("retirement", "--sex", "F", "--birth", "1975-03-01")
    _, out55, _ = estation("retirement", "--sex", "F", "--birth", "1975-03-01", "--female-base", "55")
    _, outm, _ = estation("retirement", "--sex", "M", "--birth", "1975-03-01", "--female-base", "55")
    assert json.loads(out50)["retirement_age_months"] == 602
    assert json.loads(out55)["retirement_age_months"] == 55 * 12 + 16
    assert json.loads(outm)["retirement_age_months"] == 720 + 31


def test_packs_listing():
    code, out, _ = estation("packs")
    doc = json.loads(out)
    assert code == 0 and [p["name"] for p in doc["packs"]] == ["wenzhou", "xuchang", "xinyu", "liaocheng", "hubei"]
    for p in doc["packs"]:
        assert set(p) == {"name", "version", "programs", "clauses"} and p["programs"] and p["clauses"]


BAD = [
    ("unknown-pack", ["--pack", "beijing"], {}),
    ("path-as-pack", ["--pack", "kiosk/policy/packs/xinyu"], {}),
    ("not-json", [], "{not json"),
    ("not-object", [], "[1, 2]"),
    ("unknown-key", [], {"shoe_size": 42}),
    ("wrong-type-bool", [], {"employed": "yes"}),
    ("int-for-bool", [], {"employed": 1}),
    ("wrong-sex", [], {"sex": "U"}),
    ("bool-for-base", [], {"female_base_age": True}),
    ("bad-base", [], {"female_base_age": 60}),
    ("float-for-base", [], {"female_base_age": 50.0}),
    ("impossible-date", [], {"birth_date": "1990-02-30"}),
    ("null-birth", [], {"birth_date": None}),
    ("null-bool", [], {"employed": None}),
    ("date-after-on", [], {"registered_unemployed_since": "2025-06-02"}),
    ("birth-after-on", [], {"birth_date": "2030-01-01"}),
    ("bad-on", ["--on", "2025-13-01"], {}),
    ("missing-file", ["--person", "/nonexistent/p.json"], None),
]


@pytest.mark.parametrize("case,args,person", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_error_line_exit_2(tmp_path, case, args, person):
    argv = {"--pack": "xinyu", "--on": "2025-06-01"}
    if person is not None:
        argv["--person"] = write(tmp_path, person)
    for i in range(0, len(args), 2):
        argv[args[i]] = args[i + 1]
    code, out, err = estation("evaluate", *[x for kv in argv.items() for x in kv])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [["retirement", "--sex", "X", "--birth", "1970-01-01"], ["retirement", "--sex", "M", "--birth", "1970-1-1"],
     ["retirement", "--sex", "F", "--birth", "1970-01-01", "--female-base", "52"], ["evaluate", "--pack", "xinyu"],
     ["frobnicate"], []],
)
def test_bad_flags(args):
    code, out, err = estation(*args)
    assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1
