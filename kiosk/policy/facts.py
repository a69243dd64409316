"""Person facts (POLICY.md §2): their schema, validation, and the ones the ID card gives.

A person is a plain dict; an absent key means "unknown".  `null` is allowed only for the
`date|null` and `int|null` keys and then means "none".  The order of FACTS is the table
order of §2, which breaks ties when choosing the next question.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kiosk.divisions import place_names
from kiosk.policy.dates import parse_date

BOOL, DATE_OR_NONE, INT_OR_NONE = "bool", "date|null", "int|null"

# key -> kind; kinds other than the three above are tuples of allowed values.
FACTS: dict[str, Any] = {
    "sex": ("M", "F"),
    "birth_date": "date",
    "female_base_age": (50, 55),
    "resident_type": ("mainland", "hmt", "foreign"),
    "hukou_local": BOOL,
    "lives_local": BOOL,
    "insured_or_worked_local": BOOL,
    "urban": BOOL,
    "employed": BOOL,
    "receiving_pension": BOOL,
    "able_to_work": BOOL,
    "wants_work": BOOL,
    "wants_training": BOOL,
    "wants_business": BOOL,
    "in_school": BOOL,
    "registered_unemployed_since": DATE_OR_NONE,
    "difficulty_exited_on": DATE_OR_NONE,
    "zero_employment_family": BOOL,
    "subsistence_allowance_family": BOOL,
    "marginal_subsistence_family": BOOL,
    "extreme_poverty": BOOL,
    "disability_certificate": BOOL,
    "poverty_relieved_family": BOOL,
    "poverty_monitoring": BOOL,
    "rural_low_income": BOOL,
    "land_expropriated": BOOL,
    "supports_seriously_ill_relative": BOOL,
    "community_correction_or_released": BOOL,
    "graduate_year": INT_OR_NONE,
}
FACT_ORDER = {name: i for i, name in enumerate(FACTS)}

# Read from the ID card (IDCARD.md §12.2) and the ID number's division code: never asked.
ID_CARD_FACTS = frozenset({"sex", "birth_date", "resident_type", "hukou_local"})

_CARD_TYPES = {"resident": "mainland", "hmt_residence": "hmt", "foreign_permanent": "foreign"}


class FactError(ValueError):
    """A person document that breaks §2: the message names the key."""


def validate_person(raw: Any, on: dt.date) -> dict[str, Any]:
    """Checked facts with dates parsed; raises FactError naming the first bad key."""
    if not isinstance(raw, Mapping):
        raise FactError("person must be a JSON object")
    facts: dict[str, Any] = {}
    for key, value in raw.items():
        kind = FACTS.get(key)
        if kind is None:
            raise FactError(f"unknown fact {key!r}")
        facts[key] = _check(key, kind, value, on)
    return facts


def _check(key: str, kind: Any, value: Any, on: dt.date) -> Any:
    if kind == BOOL:
        if not isinstance(value, bool):
            raise FactError(f"{key}: expected true or false, got {value!r}")
        return value
    if kind in ("date", DATE_OR_NONE):
        if value is None and kind == DATE_OR_NONE:
            return None
        try:
            d = parse_date(value)
        except (ValueError, TypeError):
            raise FactError(f"{key}: expected a real YYYY-MM-DD date, got {value!r}") from None
        if d > on:
            raise FactError(f"{key}: {value} is after the evaluation date {on.isoformat()}")
        return d
    if kind == INT_OR_NONE:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 9999:
            raise FactError(f"{key}: expected a year or null, got {value!r}")
        return value
    # enumerated values, of their own type: True == 1 and 50.0 == 50 must not pass for 50/55
    if isinstance(value, bool) or value not in kind or not any(type(value) is type(v) for v in kind):
        allowed = ", ".join(repr(v) for v in kind)
        raise FactError(f"{key}: expected one of {allowed}, got {value!r}")
    return value


def facts_from_idcard(card: Mapping[str, Any], region_codes: tuple[str, ...]) -> dict[str, Any]:
    """The facts an ID card gives (IDCARD.md §12.2 dict), as JSON-ready values.

    hukou_local: a resident card's address (住址) is where the hukou is registered now, so it
    decides: local when it names the pack's region (province, city, or one of the city's districts
    and counties).  The number's first digits only say where the number was first issued and stay
    when a hukou moves; they decide only for a card without an address or a region whose place
    names are not known here.  HMT and foreign cards are never local.  Sex `U` stays unknown.
    """
    facts: dict[str, Any] = {}
    card_type = card.get("card_type")
    if card_type in _CARD_TYPES:
        facts["resident_type"] = _CARD_TYPES[card_type]
    if card.get("sex") in ("M", "F"):
        facts["sex"] = card["sex"]
    birth = card.get("birth_date")
    if isinstance(birth, str):
        try:
            parse_date(birth)
            facts["birth_date"] = birth
        except ValueError:
            pass
    number = card.get("id_number")
    if isinstance(number, str) and card_type in _CARD_TYPES and region_codes:
        facts["hukou_local"] = card_type == "resident" and _registered_in(card.get("address"), number, region_codes)
    return facts


def _registered_in(address: Any, number: str, region_codes: tuple[str, ...]) -> bool:
    names = [name for code in region_codes for name in place_names(code)]
    if isinstance(address, str) and address.strip() and names:
        return any(name in address for name in names)
    return number.startswith(tuple(region_codes))


def sort_facts(names: set[str] | frozenset[str]) -> list[str]:
    return sorted(names, key=FACT_ORDER.__getitem__)
