"""SYNC.md's time: a valid UTC instant written `YYYY-MM-DDTHH:MM:SS.sssZ`."""

from __future__ import annotations

import datetime as dt
import re

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def format_time(when: dt.datetime) -> str:
    when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def format_unix(seconds: float) -> str:
    return format_time(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


def parse_time(text: object) -> dt.datetime:
    """Parse strictly (real calendar date, no leap second); raises ValueError."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValueError("not a time YYYY-MM-DDTHH:MM:SS.sssZ")
    # The constructor checks the calendar (and refuses second 60) at a tenth of strptime's cost,
    # which ingest pays per record.
    return dt.datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                       int(text[17:19]), int(text[20:23]) * 1000, tzinfo=dt.timezone.utc)


def is_time(text: object) -> bool:
    try:
        parse_time(text)
    except ValueError:
        return False
    return True
