"""Job postings and the feed snapshot they arrive in, validated on import.

A feed is UTF-8 text in one of two shapes (detected, see `parse_feed`):

* JSON Lines: one posting object per line (the sync contract, issue 5);
  errors name the line number: ``line 17: salary_max: ...``.
* A snapshot object ``{"version": 1, "generated": "...", "postings": [...]}``;
  errors name the posting index: ``postings[16] (id J0016): salary_max: ...``.

Every problem is a `FeedError` (a `UsageError`, so the CLI prints one
``error:`` line and exits 2); nothing else escapes `parse_feed` for any input.
Keys not listed here are ignored, so a newer feed can add fields.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from kiosk.errors import UsageError

FEED_VERSION = 1
MAX_SALARY = 1_000_000  # yuan/month; anything above is a unit mistake (fen, per year)
MAX_TEXT = 2000
MAX_TITLE = 100
# GB/T 2260 province-level prefixes (11 Beijing … 65 Xinjiang, 71 Taiwan, 81/82 HK/Macau).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DISTRICT = re.compile(r"\d{6}")


class FeedError(UsageError):
    """A feed file that cannot be imported; the reason names line/index and field."""

    message_id = "error.jobs.feed"


@dataclasses.dataclass(frozen=True, slots=True)
class Posting:
    id: str
    title: str
    employer: str
    district_code: str  # GB/T 2260, 6 digits
    address: str
    salary_min: int  # yuan per month
    salary_max: int
    category: str
    public_welfare: bool  # 公益性岗位
    hours: str
    requirements: str
    contact: str
    posted_on: dt.date
    expires_on: dt.date  # last day the posting is shown (inclusive)
    source: str
    url: str = ""  # optional link for the job QR code

    def is_live(self, on: dt.date) -> bool:
        return self.expires_on >= on

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["posted_on"] = self.posted_on.isoformat()
        out["expires_on"] = self.expires_on.isoformat()
        return out


FIELDS = tuple(f.name for f in dataclasses.fields(Posting))
REQUIRED = tuple(f for f in FIELDS if f != "url")
# Text fields that may be empty; the rest must say something.
OPTIONAL_TEXT = frozenset({"hours", "requirements", "contact", "url"})


@dataclasses.dataclass(frozen=True, slots=True)
class Feed:
    version: int
    generated: str
    postings: tuple[Posting, ...]


class _FieldError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(raw: Mapping[str, Any], field: str, limit: int = MAX_TEXT) -> str:
    value = raw.get(field, "" if field in OPTIONAL_TEXT else None)
    if not isinstance(value, str):
        raise _FieldError(field, f"must be a string (got {_short(value)})")
    if field not in OPTIONAL_TEXT and not value.strip():
        raise _FieldError(field, "must not be empty")
    if len(value) > limit:
        raise _FieldError(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise _FieldError(field, "contains a NUL character")
    return value


def _int(raw: Mapping[str, Any], field: str) -> int:
    value = raw.get(field)
    # bool is an int in Python; `true` as a salary is a mistake, not 1 yuan.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _FieldError(field, f"must be an integer number of yuan per month (got {_short(value)})")
    if not 0 <= value <= MAX_SALARY:
        raise _FieldError(field, f"must be between 0 and {MAX_SALARY} (got {value})")
    return value


def parse_date(value: Any, field: str = "date") -> dt.date:
    """Strict YYYY-MM-DD (no times, no week dates); also used by the CLI."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _FieldError(field, f"must be a date YYYY-MM-DD (got {_short(value)})")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _FieldError(field, f"is not a real date (got {_short(value)})") from None


def check_district(value: Any, field: str = "district_code") -> str:
    if not isinstance(value, str) or not _DISTRICT.fullmatch(value):
        raise _FieldError(field, f"must be a 6-digit GB/T 2260 code as a string (got {_short(value)})")
    if value[:2] not in PROVINCES:
        raise _FieldError(field, f"{value} has no GB/T 2260 province {value[:2]}")
    return value


def posting_from_json(raw: Any) -> Posting:
    """One posting from its decoded JSON; raises _FieldError naming the field."""
    if not isinstance(raw, dict):
        raise _FieldError("posting", f"must be a JSON object (got {_short(raw)})")
    missing = [f for f in REQUIRED if f not in raw]
    if missing:
        raise _FieldError(missing[0], "missing" + (f" (also {', '.join(missing[1:])})" if missing[1:] else ""))
    salary_min, salary_max = _int(raw, "salary_min"), _int(raw, "salary_max")
    if salary_max < salary_min:
        raise _FieldError("salary_max", f"{salary_max} is below salary_min {salary_min}")
    if not isinstance(raw["public_welfare"], bool):
        raise _FieldError("public_welfare", f"must be true or false (got {_short(raw['public_welfare'])})")
    posted_on = parse_date(raw["posted_on"], "posted_on")
    expires_on = parse_date(raw["expires_on"], "expires_on")
    if expires_on < posted_on:
        raise _FieldError("expires_on", f"{expires_on} is before posted_on {posted_on}")
    return Posting(
        id=_text(raw, "id", 64),
        title=_text(raw, "title", MAX_TITLE),
        employer=_text(raw, "employer"),
        district_code=check_district(raw["district_code"]),
        address=_text(raw, "address"),
        salary_min=salary_min,
        salary_max=salary_max,
        category=_text(raw, "category", MAX_TITLE),
        public_welfare=raw["public_welfare"],
        hours=_text(raw, "hours"),
        requirements=_text(raw, "requirements"),
        contact=_text(raw, "contact"),
        posted_on=posted_on,
        expires_on=expires_on,
        source=_text(raw, "source"),
        url=_text(raw, "url"),
    )


def _json(text: str) -> Any:
    # Reject NaN/Infinity (not JSON) and keep big-number strings from costing time.
    def bad_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    return json.loads(text, parse_constant=bad_constant)


def _snapshot_items(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    version = doc.get("version")
    if version != FEED_VERSION or isinstance(version, bool):
        raise FeedError(f"version: unsupported feed version {_short(version)} (this kiosk reads {FEED_VERSION})")
    if not isinstance(doc.get("generated"), str):
        raise FeedError(f"generated: must be a string (got {_short(doc.get('generated'))})")
    postings = doc["postings"]
    if not isinstance(postings, list):
        raise FeedError(f"postings: must be a list (got {_short(postings)})")
    for i, raw in enumerate(postings):
        ident = raw.get("id") if isinstance(raw, dict) else None
        label = f"postings[{i}]" + (f" (id {ident})" if isinstance(ident, str) and len(ident) <= 64 else "")
        yield label, raw


def _jsonl_items(text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", _json(line)
        except (ValueError, RecursionError) as exc:
            raise FeedError(f"line {number}: not valid JSON ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__


def parse_feed(data: bytes) -> Feed:
    """Decode and validate a whole feed; the first problem raises FeedError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    doc: Any = None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = _json(text)
        except (ValueError, RecursionError):
            doc = None  # not one JSON document: maybe JSON Lines
    if isinstance(doc, dict) and "postings" in doc:
        items, version, generated = _snapshot_items(doc), FEED_VERSION, doc.get("generated", "")
    else:
        items, version, generated = _jsonl_items(text), FEED_VERSION, ""
    postings: list[Posting] = []
    seen: dict[str, str] = {}
    for label, raw in items:
        try:
            posting = posting_from_json(raw)
        except _FieldError as exc:
            raise FeedError(f"{label}: {exc}") from None
        if posting.id in seen:
            raise FeedError(f"{label}: id: duplicate id {_short(posting.id)} (first at {seen[posting.id]})")
        seen[posting.id] = label
        postings.append(posting)
    if not postings:
        # An empty feed would wipe the catalogue; a truncated download looks just like it.
        raise FeedError("the feed has no postings; refusing to replace the catalogue with nothing")
    return Feed(version=version, generated=str(generated), postings=tuple(postings))
