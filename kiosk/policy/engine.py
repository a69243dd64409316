"""Evaluate a pack for one person on one date (POLICY.md §5): pure, no I/O, no clock.

Each program is `all(require) and any(categories)` in three-valued logic.  An open
outcome lists the absent facts of its still-open conditions; the next question is the
askable fact found in most open outcomes (ties: §2 table order).  ID-card facts are
never offered as questions: the kiosk reads them from the card.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from kiosk.policy.expr import EMPTY, Result, kleene_all, kleene_any
import itertools

from kiosk.policy.facts import BOOL, FACT_ORDER, FACTS, ID_CARD_FACTS, sort_facts
from kiosk.policy.pack import Condition, Pack, Program
from kiosk.policy.predicates import Context

CondResult = tuple[Condition, "bool | None", frozenset[str]]


@dataclass(slots=True)
class Reason:
    clause: str
    message_id: str
    text: str
    unknown: bool = False  # text is the "not yet known" template around message_id

    def to_json(self) -> dict[str, str]:
        return {"clause": self.clause, "text": self.text}


@dataclass(slots=True)
class ProgramResult:
    program: str
    eligible: bool | None
    categories: list[str]
    reasons: list[Reason]
    missing_facts: list[str]
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "eligible": self.eligible,
            "categories": self.categories,
            "reasons": [r.to_json() for r in self.reasons],
            "missing_facts": self.missing_facts,
            "details": self.details,
        }


@dataclass(slots=True)
class Evaluation:
    pack: str
    on: dt.date
    next_question: str | None
    results: list[ProgramResult]

    def result(self, program: str) -> ProgramResult:
        return next(r for r in self.results if r.program == program)

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "on": self.on.isoformat(),
            "next_question": self.next_question,
            "results": [r.to_json() for r in self.results],
        }


class _Decision:
    __slots__ = ("eligible", "missing", "require", "categories", "category_value")

    def __init__(self, eligible, missing, require, categories, category_value) -> None:
        self.eligible, self.missing = eligible, missing
        self.require, self.categories, self.category_value = require, categories, category_value


def evaluate(pack: Pack, facts: dict[str, Any], on: dt.date, lang: str = "zh") -> Evaluation:
    """`facts` as returned by facts.validate_person (dates already parsed)."""
    ctx = Context(on, facts)
    decisions: dict[str, _Decision] = {}

    by_id = {p.id: p for p in pack.programs}

    def decide(program_id: str) -> Result:
        d = decisions.get(program_id)
        if d is None:
            d = decisions[program_id] = _decide(by_id[program_id], ctx)
        return d.eligible, d.missing

    ctx.program_eval = decide
    results = []
    counts: Counter[str] = Counter()
    for program in pack.programs:
        decide(program.id)
        d = decisions[program.id]
        missing = sort_facts(_could_change(pack, facts, on, program.id, d.missing)) if d.missing else []
        if missing:
            counts.update(f for f in missing if f not in ID_CARD_FACTS)
        details = {}
        for spec in program.details:
            value = spec.fn(ctx, d.eligible)
            if value is not None:
                details[spec.key] = value
        results.append(
            ProgramResult(
                program=program.id,
                eligible=d.eligible,
                categories=[c.id for c, v, _ in d.categories if v is True],
                reasons=_reasons(pack, program, d, lang),
                missing_facts=missing,
                details=details,
            )
        )
    next_question = min(counts, key=lambda f: (-counts[f], FACT_ORDER[f])) if counts else None
    return Evaluation(pack.name, on, next_question, results)


# Facts with few values are tried value by value; dates and years are kept whenever they are open.
_DOMAINS = {name: (True, False) if kind == BOOL else kind for name, kind in FACTS.items() if isinstance(kind, tuple)
            or kind == BOOL}
MAX_TRIED = 1024  # outcomes tried per program at most (~30 ms); beyond, the open facts are kept as they are


def _eligible(by_id: dict[str, Program], facts: dict[str, Any], on: dt.date, program_id: str) -> bool | None:
    ctx, memo = Context(on, facts), {}

    def decide(pid: str) -> Result:
        if pid not in memo:
            d = _decide(by_id[pid], ctx)
            memo[pid] = (d.eligible, d.missing)
        return memo[pid]
    ctx.program_eval = decide
    return decide(program_id)[0]


def _could_change(pack: Pack, facts: dict[str, Any], on: dt.date, program_id: str, missing: frozenset[str]) -> set[str]:
    """POLICY.md §5: exactly the absent facts that could change the outcome.  The three-valued
    evaluation names every open fact it met; a fact with few values is dropped when no answers to
    the other open facts make its value matter (Liaocheng's rural jobs: once `urban` is answered the
    disability certificate never changes the outcome, so it is not asked).  An outcome left open by
    a date or year is never taken as proof that a fact does not matter."""
    finite = [f for f in sort_facts(set(missing)) if f in _DOMAINS]
    if not finite:
        return set(missing)
    space = 1
    for f in finite:
        space *= len(_DOMAINS[f])
    if space * len(finite) > MAX_TRIED:
        return set(missing)
    keep = set(missing) - set(finite)
    by_id = {p.id: p for p in pack.programs}
    for fact in finite:
        others = [f for f in finite if f != fact]
        for values in itertools.product(*(_DOMAINS[f] for f in others)):
            known = {**facts, **dict(zip(others, values))}
            outcomes = {_eligible(by_id, {**known, fact: v}, on, program_id) for v in _DOMAINS[fact]}
            if len(outcomes) > 1 or None in outcomes:
                keep.add(fact)
                break
    return keep


def _decide(program: Program, ctx: Context) -> _Decision:
    require = [(c, *c.node.ev(ctx)) for c in program.require]
    categories = [(c, *c.node.ev(ctx)) for c in program.categories]
    req_value, req_missing = kleene_all([vm[1:] for vm in require])
    if program.categories_required:
        cat_value, cat_missing = kleene_any([vm[1:] for vm in categories])
    else:
        cat_value, cat_missing = True, EMPTY
    eligible, missing = kleene_all([(req_value, req_missing), (cat_value, cat_missing)])
    return _Decision(eligible, missing, require, categories, cat_value)


def _reasons(pack: Pack, program: Program, d: _Decision, lang: str) -> list[Reason]:
    texts = pack.messages[lang]
    out: list[Reason] = []

    def add(clause: str, message_id: str, unknown: bool = False) -> None:
        text = texts[message_id]
        if unknown:
            # replace, not str.format: a pack's text (fed over the policy feed too) is data, and
            # format fields such as {1} or {0:>999999999} would raise or allocate mid-visit.
            text = texts["unknown"].replace("{}", text, 1)
        out.append(Reason(clause, message_id, text, unknown))

    held = [(c.clause, f"{c.id}.yes") for c, v, _ in d.categories if v is True]
    if d.eligible is True:
        for c, _, _ in d.require:
            add(c.clause, f"{c.id}.yes")
        for clause, mid in held:
            add(clause, mid)
    elif d.eligible is False:
        for c, v, _ in d.require:
            if v is False:
                add(c.clause, f"{c.id}.no")
        if d.category_value is False:
            add(program.categories_clause, "no_category")
    else:
        for c, v, _ in d.require:
            if v is None:
                add(c.clause, f"{c.id}.yes", unknown=True)
        if d.category_value is None:
            add(program.categories_clause, "category_open")
        for clause, mid in held:
            add(clause, mid)
    if not out:  # e.g. a program with no conditions at all
        add(program.clause, f"program.{program.id}")
    return out
