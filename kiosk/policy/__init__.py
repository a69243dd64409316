"""Policy engine and city packs (POLICY.md): who may apply for what, with reasons.

Pure: no I/O at evaluation time, no clock (the date is always passed in), no imports of
UI, drivers or sync.  Packs are data in kiosk/policy/packs/<name>/.

    pack = load_pack("xinyu")
    facts = validate_person({"sex": "F", "birth_date": "1980-05-01"}, on)
    result = evaluate(pack, facts, on)      # .results, .next_question, .to_json()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kiosk.policy.dates import add_months, add_working_days, first_contact_deadline, reapply_from
from kiosk.policy.engine import Evaluation, ProgramResult, Reason, evaluate
from kiosk.policy.facts import (
    FACTS,
    ID_CARD_FACTS,
    FactError,
    facts_from_idcard,
    validate_person,
)
from kiosk.policy.pack import Pack, PackError, load_pack, pack_names
from kiosk.policy.retirement import Retirement, retirement

__all__ = [
    "FACTS",
    "ID_CARD_FACTS",
    "Evaluation",
    "FactError",
    "Pack",
    "PackError",
    "ProgramResult",
    "Reason",
    "Retirement",
    "add_months",
    "add_working_days",
    "evaluate",
    "facts_from_idcard",
    "filing_materials",
    "first_contact_deadline",
    "load_pack",
    "pack_names",
    "reapply_from",
    "retirement",
    "validate_person",
]


def filing_materials(pack: Pack, categories: Iterable[str]) -> list[str]:
    """Documents to bring for the given categories (002 §2(1)); [] if the pack lists none."""
    table: dict[str, Any] = pack.extra.get("materials", {})
    out = list(table.get("common", []))
    for category in categories:
        out += [m for m in table.get(category, []) if m not in out]
    return out
