"""Date arithmetic the policies need, with no clock reads: every 'today' is passed in.

POLICY.md §1: `add_months` clamps the day to the month's end; age N is reached on
add_months(birth, 12·N) (年满N周岁).  §4: derived dates (subsidy end, re-recognition wait,
first contact in working days, follow-up cadence) are plain functions so the UI and the
records compute them the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_length(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(d: dt.date, n: int) -> dt.date:
    """`d` moved by `n` calendar months; the day is clamped to the target month's end."""
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    day = min(d.day, _month_length(year, month0 + 1))
    return dt.date(year, month0 + 1, day)


def parse_date(text: str) -> dt.date:
    """Strict YYYY-MM-DD (ValueError otherwise); `date.fromisoformat` also takes other forms."""
    if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    if not (text[:4] + text[5:7] + text[8:]).isdigit() or not text.isascii():
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))


def age_reached_on(birth: dt.date, years: int) -> dt.date:
    """The day someone born on `birth` turns `years` (a 29 Feb birthday falls on 28 Feb)."""
    return add_months(birth, 12 * years)


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Completed years (周岁) on `on`."""
    years = on.year - birth.year
    if add_months(birth, 12 * years) > on:
        years -= 1
    return years


# --- derived dates (POLICY.md §4) -------------------------------------------------------

SUBSIDY_MONTHS = 36  # 000 §2(3)2, 003 §2(4): at most 3 years
REAPPLY_WAIT_MONTHS = 3  # 002 §3(2): 满3个月


def subsidy_ends_on(first_approval: dt.date, retirement: dt.date, near_retirement: bool) -> dt.date:
    """First day no longer covered: retirement if <5 years were left at first approval."""
    return retirement if near_retirement else add_months(first_approval, SUBSIDY_MONTHS)


def reapply_from(exited_on: dt.date) -> dt.date:
    """First day a withdrawn difficulty status may be re-recognised (002 §3(2)).

    3 full months counted from the day after exit (Civil Code arts. 201-202), so the
    wait ends on the corresponding day and the next day is the first allowed one.
    """
    return add_months(exited_on, REAPPLY_WAIT_MONTHS) + dt.timedelta(days=1)


def is_working_day(
    d: dt.date, holidays: Collection[dt.date] = (), extra_workdays: Collection[dt.date] = ()
) -> bool:
    """Mon-Fri unless a public holiday; `extra_workdays` are the make-up weekends (调休)."""
    if d in extra_workdays:
        return True
    return d.weekday() < 5 and d not in holidays


def add_working_days(
    start: dt.date,
    n: int,
    holidays: Collection[dt.date] = (),
    extra_workdays: Collection[dt.date] = (),
) -> dt.date:
    """The n-th working day after `start` (the start day itself is not counted)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    d = start
    while n:
        d += dt.timedelta(days=1)
        if is_working_day(d, holidays, extra_workdays):
            n -= 1
    return d


FIRST_CONTACT = {"5_working_days": ("working_days", 5), "1_month": ("months", 1)}


def first_contact_deadline(
    registered_on: dt.date,
    kind: str,
    holidays: Collection[dt.date] = (),
    extra_workdays: Collection[dt.date] = (),
) -> dt.date:
    """Last day for the first contact (000 §2(1)1-2, 001 §3(2)1); `kind` as in pack details."""
    unit, amount = FIRST_CONTACT[kind]
    if unit == "months":
        return add_months(registered_on, amount)
    return add_working_days(registered_on, amount, holidays, extra_workdays)


CADENCE_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6}


def follow_up_cadence(*, refused_monthly: bool = False, work: str = "none", pack: str = "wenzhou") -> str:
    """Follow-up cadence (000 §2(2), 001 §3(3)).

    Wenzhou: monthly; a person who refuses monthly calls gets one every 6 months from
    registration.  Xuchang: monthly without work, quarterly in flexible work ("flexible"),
    half-yearly in stable work ("stable").
    """
    if pack == "xuchang":
        return {"none": "monthly", "flexible": "quarterly", "stable": "half_yearly"}[work]
    return "half_yearly" if refused_monthly else "monthly"


def follow_up_dates(anchor: dt.date, cadence: str, count: int) -> Iterator[dt.date]:
    """The next `count` follow-up dates, anchored at registration so days never drift."""
    step = CADENCE_MONTHS[cadence]
    for k in range(1, count + 1):
        yield add_months(anchor, step * k)
