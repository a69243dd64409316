"""The evaluation context and the library of rule predicates packs may name.

Predicates over the person (age bands, working age, retirement) are evaluated for every
(sex, female base) the known facts still allow: when all give the same answer the fact
is not needed (POLICY.md §5: female_base_age is missing only when the bases disagree).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from kiosk.policy.dates import add_months, reapply_from
from kiosk.policy.expr import EMPTY, Leaf, Node, Result
from kiosk.policy.retirement import retirement

_BIRTH = frozenset({"birth_date"})


class Context:
    """One evaluation: the date, the checked facts, memos.  Built per call, never shared."""

    __slots__ = ("on", "facts", "memo", "_variants", "programs", "program_eval")

    def __init__(self, on: dt.date, facts: dict[str, Any]) -> None:
        self.on = on
        self.facts = facts
        self.memo: dict[Node, Result] = {}
        self._variants: list[tuple[str, int | None, dt.date]] | None = None
        self.programs: dict[str, Any] = {}
        self.program_eval: Callable[[str], Result] | None = None

    def variants(self) -> list[tuple[str, int | None, dt.date]]:
        """(sex, female base, retirement date) for every reading the facts still allow."""
        if self._variants is None:
            birth = self.facts["birth_date"]
            sex = self.facts.get("sex")
            base = self.facts.get("female_base_age")
            out = []
            if sex in (None, "M"):
                out.append(("M", None, retirement(birth, "M").date))
            if sex in (None, "F"):
                for b in (base,) if base is not None else (50, 55):
                    out.append(("F", b, retirement(birth, "F", b).date))
            self._variants = out
        return self._variants


PersonTest = Callable[[dt.date, dt.date, str, dt.date], bool]  # (on, birth, sex, R)


def person_leaf(text: str, test: PersonTest, *, uses_sex: bool, uses_base: bool) -> Leaf:
    """A leaf over sex, birth date and (optionally) the retirement date."""
    facts = {"birth_date"} | ({"sex"} if uses_sex or uses_base else set())
    if uses_base:
        facts.add("female_base_age")

    def fn(ctx: Context) -> Result:
        f = ctx.facts
        if f.get("birth_date") is None:
            missing = set(_BIRTH)
            if (uses_sex or uses_base) and f.get("sex") is None:
                missing.add("sex")
            if uses_base and f.get("sex") != "M" and f.get("female_base_age") is None:
                missing.add("female_base_age")
            return None, frozenset(missing)
        on, birth = ctx.on, f["birth_date"]
        values = [(s, b, test(on, birth, s, r)) for s, b, r in ctx.variants()]
        first = values[0][2]
        if all(v == first for _, _, v in values):
            return first, EMPTY
        # Not all readings agree.  Sex matters iff the men's answer is not the only
        # women's answer; the base matters iff the two women's readings disagree.
        missing = set()
        male = {v for s, _, v in values if s == "M"}
        female = {v for s, _, v in values if s == "F"}
        if male and female and male != female:
            missing.add("sex")
        if len(female) > 1:
            missing.add("female_base_age")
        return None, frozenset(missing)

    return Leaf(text, frozenset(facts), fn)


# --- the library ------------------------------------------------------------------------


def _years(kwargs: dict[str, Any]) -> tuple[int, int]:
    if "years" in kwargs:
        return kwargs["years"], kwargs["years"]
    return kwargs["M"], kwargs["F"]


def age_at_least(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """年满N周岁 (N以上 includes N): on >= add_months(birth, 12N); N may differ by sex."""
    men, women = _years(kwargs)

    def test(on: dt.date, birth: dt.date, sex: str, r: dt.date) -> bool:
        return on >= add_months(birth, 12 * (men if sex == "M" else women))

    return person_leaf(_text("age_at_least", kwargs), test, uses_sex=men != women, uses_base=False)


def age_between(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """min—max周岁 with both ends included: from the min-th birthday to the day before max+1."""
    low, high = kwargs["min"], kwargs["max"]

    def test(on: dt.date, birth: dt.date, sex: str, r: dt.date) -> bool:
        return add_months(birth, 12 * low) <= on < add_months(birth, 12 * (high + 1))

    return person_leaf(_text("age_between", kwargs), test, uses_sex=False, uses_base=False)


def working_age(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """16 reached and retirement not reached (reaching R ends it: 002 §3(1)1, 000 §3(3))."""

    def test(on: dt.date, birth: dt.date, sex: str, r: dt.date) -> bool:
        return add_months(birth, 192) <= on < r

    return person_leaf("working_age", test, uses_sex=True, uses_base=True)


def before_retirement(args: list[Any], kwargs: dict[str, Any]) -> Node:
    def test(on: dt.date, birth: dt.date, sex: str, r: dt.date) -> bool:
        return on < r

    return person_leaf("before_retirement", test, uses_sex=True, uses_base=True)


def near_retirement(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """距法定退休年龄不足5年: on < R and add_months(on, 60) > R (exactly 5 years is not near)."""

    def test(on: dt.date, birth: dt.date, sex: str, r: dt.date) -> bool:
        return on < r < add_months(on, 60)

    return person_leaf("near_retirement", test, uses_sex=True, uses_base=True)


def _date_leaf(text: str, key: str, test: Callable[[dt.date, Any], bool]) -> Leaf:
    missing = frozenset({key})

    def fn(ctx: Context) -> Result:
        if key not in ctx.facts:
            return None, missing
        return test(ctx.on, ctx.facts[key]), EMPTY

    return Leaf(text, missing, fn)


def registered(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """A valid unemployment registration that started on or before `on`."""
    return _date_leaf("registered", "registered_unemployed_since", lambda on, since: since is not None and since <= on)


def registered_months(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """Registered for `at_least` months (N个月以上, inclusive) or `over` months (超过N个月)."""
    if "at_least" in kwargs:
        n = kwargs["at_least"]
        return _date_leaf(
            _text("registered_months", kwargs),
            "registered_unemployed_since",
            lambda on, since: since is not None and on >= add_months(since, n),
        )
    n = kwargs["over"]
    return _date_leaf(
        _text("registered_months", kwargs),
        "registered_unemployed_since",
        lambda on, since: since is not None and on > add_months(since, n),
    )


def reapply_wait_over(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """No withdrawn difficulty status, or the 3-month wait after it is over (002 §3(2))."""
    return _date_leaf(
        "reapply_wait_over", "difficulty_exited_on", lambda on, exited: exited is None or on >= reapply_from(exited)
    )


def graduated_within(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """Graduated (or graduates) in on's year or the `years` before it (pack decision 9)."""
    years = kwargs["years"]
    return _date_leaf(
        _text("graduated_within", kwargs),
        "graduate_year",
        lambda on, year: year is not None and on.year - years <= year <= on.year,
    )


def resident_type_in(args: list[Any], kwargs: dict[str, Any]) -> Node:
    allowed = frozenset(args)
    missing = frozenset({"resident_type"})

    def fn(ctx: Context) -> Result:
        value = ctx.facts.get("resident_type")
        return (None, missing) if value is None else (value in allowed, EMPTY)

    return Leaf(f"resident_type_in({', '.join(sorted(allowed))})", missing, fn)


def program(args: list[Any], kwargs: dict[str, Any]) -> Node:
    """Another program's eligibility, e.g. Xuchang's tiers hang on unemployment registration."""
    (name,) = args

    def fn(ctx: Context) -> Result:
        assert ctx.program_eval is not None
        return ctx.program_eval(name)

    return ProgramLeaf(name, fn)


class ProgramLeaf(Leaf):
    __slots__ = ("program",)

    def __init__(self, name: str, fn: Callable[[Any], Result]) -> None:
        super().__init__(f"program({name})", EMPTY, fn)
        self.program = name


def _text(name: str, kwargs: dict[str, Any]) -> str:
    return name + "(" + ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())) + ")"


PREDICATES: dict[str, Callable[[list[Any], dict[str, Any]], Node]] = {
    "age_at_least": age_at_least,
    "age_between": age_between,
    "working_age": working_age,
    "before_retirement": before_retirement,
    "near_retirement": near_retirement,
    "registered": registered,
    "registered_months": registered_months,
    "reapply_wait_over": reapply_wait_over,
    "graduated_within": graduated_within,
    "resident_type_in": resident_type_in,
    "program": program,
}
