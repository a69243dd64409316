"""`estation jobs` as a subprocess: exit codes, one `error:` line, JSON contract."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jobs_testdata import jsonl, posting

from kiosk.jobs.samplegen import SAMPLE_PATH

REPO = Path(__file__).resolve().parents[3]


def estation(*args: str, cwd: Path, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ESTATION_DATA_DIR"}
    env["PYTHONPATH"] = str(REPO)
    if data_dir is not None:
        env["ESTATION_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "kiosk", "jobs", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def assert_usage_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """A working directory whose default index (./var/jobs.sqlite) holds the sample feed."""
    cwd = tmp_path_factory.mktemp("cli")
    proc = estation("import", str(SAMPLE_PATH), cwd=cwd)
    expected = len(json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))["postings"])
    assert proc.returncode == 0 and f"imported {expected} postings" in proc.stdout, proc
    assert (cwd / "var" / "jobs.sqlite").is_file()
    return cwd


def test_search_json_contract(imported):
    proc = estation("search", "保安", "--on", "2026-11-20", "--limit", "5", "--json", cwd=imported)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert 1 <= len(hits) <= 5
    for hit in hits:
        assert {"id", "title", "employer", "district_code", "salary_min", "salary_max", "public_welfare"} <= hit.keys()
        assert hit["expires_on"] >= "2026-11-20"
    assert "保安" in hits[0]["title"]


def test_search_filters_and_date_alias(imported):
    proc = estation("search", "司機", "--date", "2026-11-20", "--district", "330300", "--min-salary", "5000",
                    "--json", cwd=imported)
    hits = json.loads(proc.stdout)
    assert hits and all(h["district_code"].startswith("3303") and h["salary_min"] >= 5000 for h in hits)
    proc = estation("search", " ", "--on", "2026-11-20", "--pw-only", "--json", cwd=imported)
    hits = json.loads(proc.stdout)
    assert hits and all(h["public_welfare"] for h in hits)


def test_search_table(imported):
    proc = estation("search", "保洁", "--on", "2026-11-20", "--limit", "3", cwd=imported)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("岗位") and len(lines) == 4
    proc = estation("search", "飞行员", "--on", "2026-11-20", cwd=imported)
    assert proc.returncode == 0 and "no postings found" in proc.stdout


def test_data_dir_env(tmp_path):
    data = tmp_path / "data"
    assert estation("import", str(SAMPLE_PATH), cwd=tmp_path, data_dir=data).returncode == 0
    assert (data / "jobs.sqlite").is_file() and not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["search", "保安", "--on", "2026-02-30"], ["--on", "2026-02-30"]),
        (["search", "保安", "--on", "tomorrow"], ["--on"]),
        (["search", "保安", "--district", "3303"], ["--district"]),
        (["search", "保安", "--limit", "0"], ["--limit"]),
        (["search", "保安", "--min-salary", "lots"], ["--min-salary"]),
        (["search", "保安", "--bogus"], ["--bogus"]),
        (["search"], ["QUERY"]),
        ([], ["import or search"]),
    ],
)
def test_bad_arguments(imported, args, needles):
    assert_usage_error(estation(*args, cwd=imported), *needles)


def test_search_without_index(tmp_path):
    assert_usage_error(estation("search", "保安", cwd=tmp_path), "no job index", "import")


def test_bad_feeds_fail_and_leave_the_index_untouched(imported, tmp_path):
    index = imported / "var" / "jobs.sqlite"
    before = hashlib.sha256(index.read_bytes()).hexdigest()
    cases = {
        "missing.jsonl": (None, ["cannot read"]),
        "garbage.jsonl": (jsonl([posting(id="a")]) + b"{not json\n", ["line 2", "not valid JSON"]),
        "field.jsonl": (jsonl([posting(id="a"), posting(id="b", salary_max=1)]), ["line 2", "salary_max"]),
        "snapshot.json": (json.dumps({"version": 1, "generated": "x", "postings": [posting(district_code="12")]}).encode(),
                          ["postings[0]", "district_code"]),
        "empty.jsonl": (b"", ["no postings"]),
    }
    for name, (data, needles) in cases.items():
        feed = tmp_path / name
        if data is not None:
            feed.write_bytes(data)
        assert_usage_error(estation("import", str(feed), cwd=imported), *needles)
    assert hashlib.sha256(index.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in index.parent.iterdir()) == ["jobs.sqlite"]


def test_help_exits_zero(tmp_path):
    for args in (["--help"], ["search", "--help"], ["import", "--help"]):
        proc = estation(*args, cwd=tmp_path)
        assert proc.returncode == 0 and "usage:" in proc.stdout
