"""The 2025 retirement-age reform and the date helpers built on it."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.policy.dates import add_months
from kiosk.policy.retirement import retirement

D = dt.date
REFORM_TABLE = [
    # (sex, base, birth, age months, delay) — boundaries of each schedule
    ("M", None, D(1964, 12, 31), 720, 0),
    ("M", None, D(1965, 1, 1), 721, 1),
    ("M", None, D(1965, 4, 30), 721, 1),
    ("M", None, D(1965, 5, 1), 722, 2),
    ("M", None, D(1969, 10, 5), 735, 15),  # POLICY.md §6 example
    ("M", None, D(1976, 8, 1), 755, 35),
    ("M", None, D(1976, 9, 1), 756, 36),  # 63 reached
    ("M", None, D(1990, 1, 1), 756, 36),
    ("F", 50, D(1974, 12, 31), 600, 0),
    ("F", 50, D(1975, 1, 1), 601, 1),
    ("F", 50, D(1975, 2, 1), 601, 1),
    ("F", 50, D(1975, 3, 1), 602, 2),
    ("F", 50, D(1984, 10, 1), 659, 59),
    ("F", 50, D(1984, 11, 1), 660, 60),  # 55 reached
    ("F", 55, D(1969, 12, 31), 660, 0),
    ("F", 55, D(1970, 1, 1), 661, 1),
    ("F", 55, D(1970, 5, 1), 662, 2),
    ("F", 55, D(1981, 9, 1), 696, 36),  # 58 reached
    ("F", None, D(1975, 1, 1), 601, 1),  # base defaults to 50
]


@pytest.mark.parametrize("sex,base,birth,age,delay", REFORM_TABLE)
def test_reform_table(sex, base, birth, age, delay):
    r = retirement(birth, sex, base)
    assert (r.age_months, r.delay_months) == (age, delay)
    assert r.date == add_months(birth, age)


def test_month_end_birthday_clamps():
    # born 31 Jan 1965: 60 years 1 month later is 28 Feb 2025
    assert retirement(D(1965, 1, 31), "M").date == D(2025, 2, 28)


births = st.dates(min_value=D(1940, 1, 1), max_value=D(2010, 12, 31))
kinds = st.sampled_from([("M", None), ("F", 50), ("F", 55)])


@given(births, births, kinds)
def test_later_birth_never_retires_younger_or_earlier(a, b, kind):
    a, b = sorted((a, b))
    ra, rb = retirement(a, *kind), retirement(b, *kind)
    assert ra.age_months <= rb.age_months and ra.date <= rb.date


@given(births)
def test_bases_order(birth):
    assert retirement(birth, "F", 50).date <= retirement(birth, "F", 55).date <= add_months(birth, 58 * 12)
    assert add_months(birth, 720) <= retirement(birth, "M").date <= add_months(birth, 756)
