"""Shared helpers for the policy tests: build a person, evaluate, pick a result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.policy import evaluate, load_pack, validate_person
from kiosk.policy.dates import parse_date

# A person who meets every non-category requirement of the difficulty programmes.
BASE: dict[str, Any] = {
    "resident_type": "mainland",
    "hukou_local": True,
    "able_to_work": True,
    "wants_work": True,
    "employed": False,
    "receiving_pension": False,
    "in_school": False,
    "difficulty_exited_on": None,
}
NO_CATEGORY = {
    "poverty_relieved_family": False,
    "poverty_monitoring": False,
    "subsistence_allowance_family": False,
    "marginal_subsistence_family": False,
    "extreme_poverty": False,
    "zero_employment_family": False,
    "disability_certificate": False,
    "supports_seriously_ill_relative": False,
    "community_correction_or_released": False,
    "land_expropriated": False,
    "rural_low_income": False,
}


def person(*, base: bool = True, no_category: bool = True, **facts: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if base:
        out.update(BASE)
    if no_category:
        out.update(NO_CATEGORY)
    out.update(facts)
    return {k: v for k, v in out.items() if v is not ...}  # `...` deletes a key


def run(pack: str, on: str, facts: dict[str, Any], lang: str = "zh"):
    day = parse_date(on)
    return evaluate(load_pack(pack), validate_person(facts, day), day, lang)


def result(pack: str, on: str, facts: dict[str, Any], program: str):
    return run(pack, on, facts).result(program)


def check_case(pack: str, case: dict[str, Any]) -> None:
    """A case: on, facts, program, eligible, and optionally categories / details / missing."""
    r = result(pack, case["on"], case["facts"], case["program"])
    assert r.eligible is case["eligible"], (case["id"], r)
    if "categories" in case:
        assert r.categories == case["categories"], (case["id"], r.categories)
    if "has_category" in case:
        assert case["has_category"] in r.categories, (case["id"], r.categories)
    if "details" in case:
        for key, value in case["details"].items():
            if value is None:
                assert key not in r.details, (case["id"], r.details)
            else:
                assert r.details.get(key) == value, (case["id"], r.details)
    if "missing" in case:
        assert r.missing_facts == case["missing"], (case["id"], r.missing_facts)
    # every result explains itself with clauses of this seed
    seed = load_pack(pack).seed
    assert r.reasons and all(x.clause.startswith(seed) and x.text for x in r.reasons)
    if "reason_clause" in case:
        assert case["reason_clause"] in [x.clause for x in r.reasons], (case["id"], r.reasons)


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


def day(text: str) -> dt.date:
    return parse_date(text)
