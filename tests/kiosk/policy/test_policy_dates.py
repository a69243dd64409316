"""Derived dates (POLICY.md §1, §4)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.policy import dates

D = dt.date


@pytest.mark.parametrize(
    "start,n,expected",
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
        (D(2025, 1, 15), -13, D(2023, 12, 15)),
    ],
)
def test_add_months_clamps(start, n, expected):
    assert dates.add_months(start, n) == expected


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2090, 1, 1)), st.integers(-1200, 1200))
def test_add_months_lands_in_the_right_month(d, n):
    r = dates.add_months(d, n)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n and r.day <= d.day


def test_age_in_years_on_birthdays():
    assert dates.age_in_years(D(1985, 6, 1), D(2025, 5, 31)) == 39
    assert dates.age_in_years(D(1985, 6, 1), D(2025, 6, 1)) == 40
    assert dates.age_in_years(D(1984, 2, 29), D(2025, 2, 28)) == 41


def test_working_days_skip_weekends_and_holidays():
    fri = D(2025, 5, 30)
    assert dates.add_working_days(fri, 1) == D(2025, 6, 2)
    assert dates.add_working_days(fri, 5) == D(2025, 6, 6)
    assert dates.add_working_days(fri, 5, holidays={D(2025, 6, 2)}) == D(2025, 6, 9)
    assert dates.add_working_days(fri, 1, extra_workdays={D(2025, 5, 31)}) == D(2025, 5, 31)


def test_first_contact_deadlines():
    assert dates.first_contact_deadline(D(2025, 5, 30), "5_working_days") == D(2025, 6, 6)
    assert dates.first_contact_deadline(D(2025, 1, 31), "1_month") == D(2025, 2, 28)


def test_follow_up_cadence_and_dates():
    assert dates.follow_up_cadence() == "monthly"
    assert dates.follow_up_cadence(refused_monthly=True) == "half_yearly"
    assert dates.follow_up_cadence(pack="xuchang", work="flexible") == "quarterly"
    assert dates.follow_up_cadence(pack="xuchang", work="stable") == "half_yearly"
    # anchored at registration: 31 Jan → 28 Feb → 31 Mar, never drifting to the 28th
    assert list(dates.follow_up_dates(D(2025, 1, 31), "monthly", 3)) == [D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30)]
    assert list(dates.follow_up_dates(D(2025, 1, 31), "half_yearly", 2)) == [D(2025, 7, 31), D(2026, 1, 31)]


def test_reapply_and_subsidy():
    assert dates.reapply_from(D(2025, 1, 15)) == D(2025, 4, 16)
    assert dates.reapply_from(D(2024, 11, 30)) == D(2025, 3, 1)
    assert dates.subsidy_ends_on(D(2025, 6, 1), D(2040, 1, 1), False) == D(2028, 6, 1)
    assert dates.subsidy_ends_on(D(2025, 6, 1), D(2027, 1, 1), True) == D(2027, 1, 1)


@pytest.mark.parametrize("bad", ["2025-02-30", "2025-6-1", "20250601", "２０２５-06-01", "2025-13-01", ""])
def test_parse_date_is_strict(bad):
    with pytest.raises(ValueError):
        dates.parse_date(bad)
