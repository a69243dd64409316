"""SYNC.md's time: a valid UTC instant written `YYYY-MM-DDTHH:MM:SS.sssZ`."""

from __future__ import annotations

import datetime as dt
import re

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def format_time(when: dt.datetime) -> str:
    when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def format_unix(seconds: float) -> str:
    return format_time(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))


def parse_time(text: object) -> dt.datetime:
    """Parse strictly (real calendar date, no leap second); raises ValueError."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValueError("not a time YYYY-MM-DDTHH:MM:SS.sssZ")
    return dt.datetime.strptime(text[:-1] + "000", "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)


def is_time(text: object) -> bool:
    try:
        parse_time(text)
    except ValueError:
        return False
    return True
