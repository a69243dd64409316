"""The engine stays pure, and a new city is data plus (optionally) a hook file."""

import ast
import datetime as dt
import re
import textwrap
from pathlib import Path

from kiosk.policy import evaluate, load_pack, pack_names, validate_person

ROOT = Path(__file__).resolve().parents[3]
KIOSK = ROOT / "kiosk"
FORBIDDEN_IMPORTS = ("kivy", "serial", "httpx", "fastapi", "ui", "drivers", "sync")


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_policy_imports_nothing_impure():
    for path in (KIOSK / "policy").rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] not in FORBIDDEN_IMPORTS, (path, name)


def test_no_clock_reads_under_kiosk():
    clock = re.compile(r"\b(datetime\.now|date\.today|time\.time|datetime\.utcnow|dt\.datetime\.now)\s*\(")
    # our files; other modules under kiosk/ are checked by their owners' suites
    for path in [*(KIOSK / "policy").rglob("*.py"), KIOSK / "cli" / "policy.py"]:
        assert not clock.search(path.read_text(encoding="utf-8")), path


def test_modules_stay_small():
    for path in (KIOSK / "policy").rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path


def test_every_installed_pack_loads_with_both_languages():
    for name in pack_names():
        pack = load_pack(name)
        assert pack.programs and pack.clauses
        for lang in ("zh", "en"):
            evaluate(pack, {}, dt.date(2025, 6, 1), lang)


def test_docs_table_names_every_clause():
    doc = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    for name in pack_names():
        for clause in load_pack(name).clauses:
            assert f"`{clause}`" in doc, (name, clause)


def test_new_city_is_a_directory(tmp_path):
    pack_dir = tmp_path / "newtown"
    pack_dir.mkdir()
    (pack_dir / "pack.toml").write_text(textwrap.dedent('''
        [pack]
        name = "newtown"
        seed = "009"
        version = "1"
        region_codes = ["9999"]
        [[programs]]
        id = "pension_top_up"
        clause = "009 §1"
        require = [{ id = "aged_70", test = "older_than(years=70)", clause = "009 §1(1)" }]
        [programs.details]
        pays = { derive = "fixed_amount", amount = 100, clause = "009 §2" }
    '''), encoding="utf-8")
    (pack_dir / "messages.toml").write_text(textwrap.dedent('''
        [zh]
        "aged_70.yes" = "您已年满70周岁。"
        "aged_70.no" = "您未满70周岁。"
        "program.pension_top_up" = "养老补贴。"
        [en]
        "aged_70.yes" = "You are 70 or over."
        "aged_70.no" = "You are under 70."
        "program.pension_top_up" = "Pension top-up."
    '''), encoding="utf-8")
    (pack_dir / "hooks.py").write_text(textwrap.dedent('''
        from kiosk.policy.predicates import age_at_least

        def older_than(args, kwargs):
            return age_at_least(args, kwargs)

        PREDICATES = {"older_than": older_than}
        DERIVERS = {"fixed_amount": lambda ctx, eligible, params: params["amount"] if eligible else None}
    '''), encoding="utf-8")
    pack = load_pack(pack_dir)
    on = dt.date(2025, 6, 1)
    yes = evaluate(pack, validate_person({"birth_date": "1950-01-01"}, on), on).results[0]
    no = evaluate(pack, validate_person({"birth_date": "1960-01-01"}, on), on).results[0]
    assert (yes.eligible, yes.details, no.eligible, no.details) == (True, {"pays": 100}, False, {})
    assert pack.clauses == ["009 §1", "009 §1(1)", "009 §2"]
