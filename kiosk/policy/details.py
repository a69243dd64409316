"""Program details (POLICY.md §3 'details'): values shown once they are determined.

A pack declares each detail in TOML as one of
    key = "literal"                              given when eligible
    key = {value = ..., if = "rule"}            given when eligible and the rule holds
    key = {expr = "rule"}                        the rule's truth, when eligible and known
    key = {first = [["rule", value], ...]}       value of the first rule that holds
    key = {derive = "name", ...params}          a function of DERIVERS (or the pack's hooks)
Every form may carry `clause = "..."`.  A detail whose value is not determined is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.policy import dates
from kiosk.policy.expr import Parser

Deriver = Callable[[Any, "bool | None", dict[str, Any]], Any]


@dataclass(frozen=True)
class DetailSpec:
    key: str
    clause: str
    fn: Callable[[Any, "bool | None"], Any]  # (context, eligible) -> value or None


def compile_detail(key: str, spec: Any, parser: Parser, derivers: dict[str, Deriver]) -> DetailSpec:
    if not isinstance(spec, dict):
        return DetailSpec(key, "", lambda ctx, eligible: spec if eligible else None)
    clause = spec.get("clause", "")
    if "derive" in spec:
        deriver = derivers[spec["derive"]]
        params = {k: v for k, v in spec.items() if k not in ("derive", "clause")}
        return DetailSpec(key, clause, lambda ctx, eligible: deriver(ctx, eligible, params))
    if "expr" in spec:
        node = parser.parse(spec["expr"])
        return DetailSpec(key, clause, lambda ctx, eligible: node.ev(ctx)[0] if eligible else None)
    if "first" in spec:
        branches = [(parser.parse(rule), value) for rule, value in spec["first"]]

        def first(ctx: Any, eligible: bool | None) -> Any:
            if not eligible:
                return None
            for node, value in branches:
                holds = node.ev(ctx)[0]
                if holds is None:
                    return None  # an earlier branch might still hold: not determined yet
                if holds:
                    return value
            return None

        return DetailSpec(key, clause, first)
    value = spec["value"]
    guard = parser.parse(spec["if"]) if "if" in spec else None
    return DetailSpec(
        key, clause, lambda ctx, eligible: value if eligible and (guard is None or guard.ev(ctx)[0]) else None
    )


def subsidy_ends_on(ctx: Any, eligible: bool | None, params: dict[str, Any]) -> str | None:
    """First day not covered: R if <5 years to retirement at first approval, else +36 months
    (000 §2(3)2, 003 §2(4)); rural posts (`cap_at_retirement = false`) just count months."""
    if not eligible:
        return None
    months = params.get("months", dates.SUBSIDY_MONTHS)
    if not params.get("cap_at_retirement", True):
        return dates.add_months(ctx.on, months).isoformat()
    if ctx.facts.get("birth_date") is None:
        return None
    on, plain = ctx.on, dates.add_months(ctx.on, months)
    ends = {r if on < r < dates.add_months(on, 60) else plain for _, _, r in ctx.variants()}
    return ends.pop().isoformat() if len(ends) == 1 else None


def reapply_from(ctx: Any, eligible: bool | None, params: dict[str, Any]) -> str | None:
    """When the 3-month wait after a withdrawn status still runs: the first allowed day."""
    exited = ctx.facts.get("difficulty_exited_on")
    if exited is None:
        return None
    first_day = dates.reapply_from(exited)
    return first_day.isoformat() if ctx.on < first_day else None


DERIVERS: dict[str, Deriver] = {"subsidy_ends_on": subsidy_ends_on, "reapply_from": reapply_from}
