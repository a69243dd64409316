"""How each policy fact is asked on the touchscreen: big yes/no or pick-one choices, no typing.

The policy engine names the fact to ask next; this table turns it into a
question the resident can answer with one tap.  Date and year facts are asked
as ranges and mapped to the *cautious* end of the range (the answer never
makes someone look eligible earlier than they are): "registered 6-12 months
ago" becomes "registered exactly 6 months ago".  The choice texts are catalogue
keys (`question.<fact>` / `choice.<fact>.<id>`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.policy import FACTS, ID_CARD_FACTS, add_months

Value = Callable[[dt.date], Any]


@dataclass(frozen=True)
class Choice:
    id: str
    value: Value  # the fact value this choice means, on the visit's date

    @property
    def label_key(self) -> str:
        return f"choice.{self.id}"


@dataclass(frozen=True)
class Question:
    fact: str
    choices: tuple[Choice, ...]

    @property
    def prompt_key(self) -> str:
        return f"question.{self.fact}"

    def choice(self, choice_id: str) -> Choice:
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        raise KeyError(f"{self.fact}: no choice {choice_id!r}")

    def value_of(self, choice_id: str, on: dt.date) -> Any:
        return self.choice(choice_id).value(on)


def _const(value: Any) -> Value:
    return lambda on: value


def _months_ago(n: int) -> Value:
    return lambda on: add_months(on, -n)


YES_NO = (Choice("yes", _const(True)), Choice("no", _const(False)))

# Facts whose question is not a plain yes/no.
_SPECIAL: dict[str, tuple[Choice, ...]] = {
    "female_base_age": (Choice("female_base_age.worker", _const(50)), Choice("female_base_age.staff", _const(55))),
    "registered_unemployed_since": (
        Choice("registered.never", _const(None)),
        Choice("registered.under_6_months", lambda on: on),
        Choice("registered.6_to_12_months", _months_ago(6)),
        Choice("registered.over_12_months", _months_ago(12)),
    ),
    "difficulty_exited_on": (
        Choice("exited.never", _const(None)),
        Choice("exited.within_3_months", lambda on: on),
        Choice("exited.over_3_months", lambda on: add_months(on, -3) - dt.timedelta(days=1)),
    ),
    "graduate_year": (
        Choice("graduate.this_year", lambda on: on.year),
        Choice("graduate.last_year", lambda on: on.year - 1),
        Choice("graduate.two_years_ago", lambda on: on.year - 2),
        Choice("graduate.earlier_or_not", _const(None)),
    ),
}


def question_for(fact: str) -> Question:
    """The touch question for a policy fact; ID-card facts are never asked."""
    if fact in ID_CARD_FACTS:
        raise ValueError(f"{fact} comes from the ID card and is never asked")
    if fact not in FACTS:
        raise KeyError(f"unknown fact {fact!r}")
    if fact in _SPECIAL:
        return Question(fact, _SPECIAL[fact])
    if FACTS[fact] == "bool":
        return Question(fact, YES_NO)
    raise ValueError(f"no question defined for fact {fact!r}")


def askable_facts() -> list[str]:
    return [f for f in FACTS if f not in ID_CARD_FACTS]
