"""Records: what the kiosk files, built from card + answers + engine results, checked by schema.

Each kind has a versioned JSON Schema in kiosk/schemas/<kind>.v<N>.json whose
`$defs` come from common.v1.json.  `build_draft` refuses a payload that does not
match its schema, so a malformed record never reaches the outbox.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from kiosk.errors import EstationError
from kiosk.ports import RecordDraft

SCHEMAS = Path(__file__).parent / "schemas"
SCHEMA_VERSION = 1
KINDS = (
    "unemployment_registration", "jobseeker_registration", "employment_difficulty_application",
    "public_welfare_job_application", "job_interest", "employment_status_report", "service_request", "feedback",
)
PERSONAL_KINDS = frozenset(KINDS) - {"feedback"}  # carry personal data: need consent first

# Policy programs that are applications, by the record kind they file.  Programs not
# listed (service tiers, priority classes) are information shown with the results.
_KIND_BY_PROGRAM_PREFIX = (
    ("unemployment_registration", "unemployment_registration"),
    ("jobseeker_registration", "jobseeker_registration"),
    ("employment_difficulty", "employment_difficulty_application"),
    ("public_welfare_job", "public_welfare_job_application"),
    ("graduate_service", "service_request"),
    ("estation_services", "service_request"),
)
SEX_CODES = {"M": "1", "F": "2", "U": "0"}


class RecordError(EstationError, ValueError):
    """A record that does not match its schema (a bug upstream, never the resident's fault)."""

    message_id = "error.generic"


def kind_for_program(program: str) -> str | None:
    for prefix, kind in _KIND_BY_PROGRAM_PREFIX:
        if program.startswith(prefix):
            return kind
    return None


def sync_time(moment: dt.datetime) -> str:
    """SYNC.md §1 time: `YYYY-MM-DDTHH:MM:SS.sssZ`, UTC."""
    if moment.tzinfo is None:
        raise ValueError("need a timezone-aware datetime")
    utc = moment.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def applicant(card: Mapping[str, Any], phone: str | None) -> dict[str, Any]:
    """The applicant block of the forms (002 annex) from the ID-card dict (IDCARD.md §12.2)."""
    number = card["id_number"]
    resident = card["card_type"] == "resident"
    return {
        "name": card["name"],
        "id_type": card["card_type"],
        "id_number": number,
        "sex_code": card.get("sex_code") or SEX_CODES[card["sex"]],
        "ethnicity_code": card.get("ethnicity_code"),
        "birth_date": card["birth_date"],
        "division_code": number[:6] if resident else None,  # GB/T 2260 division of hukou registration
        "address": card.get("address"),
        "nationality": card.get("nationality"),
        "phone": phone,
    }


@cache
def _validator(kind: str, version: int) -> Any:
    from jsonschema import Draft202012Validator  # imported on first use: keeps start-up light

    schema = json.loads((SCHEMAS / f"{kind}.v{version}.json").read_text("utf-8"))
    common = json.loads((SCHEMAS / "common.v1.json").read_text("utf-8"))
    schema["$defs"] = {**common["$defs"], **schema.get("$defs", {})}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problems(kind: str, payload: Mapping[str, Any], version: int = SCHEMA_VERSION) -> list[str]:
    """Every way `payload` breaks its kind's schema, as `path: message` lines."""
    if kind not in KINDS:
        return [f"unknown record kind {kind!r}"]
    errors = sorted(_validator(kind, version).iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def build_draft(kind: str, payload: dict[str, Any], *, record_id: str, created_at: dt.datetime) -> RecordDraft:
    """A schema-checked record, ready for the RecordSink.  Raises RecordError otherwise.

    Error messages name the path only: values may be personal data."""
    problems = schema_problems(kind, payload)
    if problems:
        paths = ", ".join(p.split(":", 1)[0] for p in problems)
        raise RecordError(f"{kind} payload does not match its schema at: {paths}")
    return RecordDraft(record_id=record_id, kind=kind, schema_version=SCHEMA_VERSION,
                      created_at=sync_time(created_at), payload=payload)


def json_answers(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Answers as JSON-profile values (dates as YYYY-MM-DD)."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in facts.items()}
