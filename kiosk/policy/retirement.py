"""Statutory retirement age under the 2025 gradual reform (NPC SC decision 2024-09-13).

POLICY.md §1: base 60 (men), 50 (women, default) or 55 (women in cadre/staff posts);
men born from 1965-01 get +1 month per 4 birth months (cap 36), women-55 from 1970-01
+1 per 4 (cap 36), women-50 from 1975-01 +1 per 2 (cap 60).  R = add_months(birth, age).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from kiosk.policy.dates import add_months

# (base years, first birth month affected, birth months per extra month, cap in months)
_SCHEDULES: dict[tuple[str, int], tuple[int, tuple[int, int], int, int]] = {
    ("M", 60): (60, (1965, 1), 4, 36),
    ("F", 55): (55, (1970, 1), 4, 36),
    ("F", 50): (50, (1975, 1), 2, 60),
}


class Retirement(NamedTuple):
    age_months: int
    date: dt.date
    delay_months: int


def schedule_key(sex: str, female_base_age: int | None) -> tuple[str, int]:
    if sex == "M":
        return ("M", 60)
    if sex == "F":
        base = 50 if female_base_age is None else female_base_age
        if base not in (50, 55):
            raise ValueError(f"female base age must be 50 or 55, not {base!r}")
        return ("F", base)
    raise ValueError(f"sex must be M or F, not {sex!r}")


def retirement(birth: dt.date, sex: str, female_base_age: int | None = None) -> Retirement:
    """Retirement age, date and delay for a person born on `birth` (month arithmetic only)."""
    base, (year0, month0), per, cap = _SCHEDULES[schedule_key(sex, female_base_age)]
    months_after = (birth.year - year0) * 12 + (birth.month - month0)
    delay = 0 if months_after < 0 else min(cap, months_after // per + 1)
    age = base * 12 + delay
    return Retirement(age, add_months(birth, age), delay)
