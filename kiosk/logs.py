"""Structured logging with personal data masked by one function, `mask_personal`.

`setup_logging()` puts a `JsonFormatter` on every handler it installs on the root
logger, and that formatter passes everything it writes (message, %-args, extra
fields, exception and stack text) through `mask_personal`.  Masking sits at the
handler, not at the call site, so loggers that cannot import our code
(`drivers.idcard.*` uses plain stdlib logging) are covered as well.

What is masked (PIPL; IDCARD.md §15, ARCHITECTURE.md "Storage on the kiosk"):

* in any text: 18-char citizen / HMT / 2023-foreign ID numbers and any other run of
  15 or more digits (`110105********002X`: first 6 and last 4 kept), 2017 foreign
  permanent-residence numbers (3 letters + 12 digits), HK/Macau home-return permit
  numbers (H/M + 8 or 10 digits), mainland mobile numbers (`138****5678`), and
  `key=value` / `'key': 'value'` pairs whose key is a sensitive field name;
* in dicts (extra fields, dict %-args, nested): the values of the sensitive keys.

Every mask only turns characters into `*`, so applying it until nothing changes
terminates and makes `mask_personal` idempotent.  Pure module: no clock reads
(the timestamp comes from the LogRecord).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

STAR = "*"
SENSITIVE_KEYS = frozenset({"name", "english_name", "id_number", "address", "pass_number", "phone", "birth_date"})
_NAME_KEYS = frozenset({"name", "english_name"})

# ----------------------------------------------------------------- the masks


def _star_middle(text: str, keep_start: int, keep_end: int) -> str:
    """Star every alphanumeric between the kept ends; separators stay."""
    if len(text) <= keep_start + keep_end:
        return "".join(STAR if c.isalnum() else c for c in text)
    middle = "".join(STAR if c.isalnum() else c for c in text[keep_start:len(text) - keep_end])
    return text[:keep_start] + middle + text[len(text) - keep_end:]


def _mask_field(key: str, value: str) -> str:
    """Mask the value of a sensitive field by the field's kind."""
    if key in _NAME_KEYS:
        return value[:1] + STAR * (len(value) - 1) if len(value) > 1 else STAR * len(value)
    if key == "birth_date":
        return re.sub(r"\d", STAR, value)
    if key == "address":
        return _star_middle(value, 2, 0)  # the province says little; the rest says where they live
    if key == "id_number":
        n = len(value)
        return _star_middle(value, 6, 4) if n >= 18 else _star_middle(value, 3, 4) if n >= 12 else _star_middle(value, 1, 2)
    if key == "phone":
        return _star_middle(value, 3, 4) if len(value) >= 11 else _star_middle(value, 1, 2)
    return _star_middle(value, 1, 2) if len(value) >= 6 else STAR * len(value)  # pass_number


def _keep_groups(first: int, last: int) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        return _star_middle(m.group(0), first, last)
    return replace


_KEY_VALUE = re.compile(
    r"\b(?P<key>" + "|".join(sorted(SENSITIVE_KEYS, key=len, reverse=True)) + r")\b"
    r"(?P<sep>['\"]?\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;'\")}\]]+)",
    re.IGNORECASE,
)


def _mask_key_value(m: re.Match[str]) -> str:
    value = m.group("value")
    quoted = value[:1] in ("'", '"') and len(value) >= 2
    inner = value[1:-1] if quoted else value
    masked = _mask_field(m.group("key").lower(), inner)
    if quoted:
        masked = value[0] + masked + value[-1]
    return m.group("key") + m.group("sep") + masked


# (pattern, replacement) in order; each replacement only turns characters into STAR.
_TEXT_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_KEY_VALUE, _mask_key_value),
    # Citizen (also HMT and 2023 foreign) IDs, old 15-digit IDs, and any digit run that
    # contains one: masking every long run beats missing an ID glued to other digits.
    (re.compile(r"(?<!\d)\d{15,}[Xx]?"), _keep_groups(6, 4)),
    (re.compile(r"[A-Za-z]{3}\d{12}"), _keep_groups(3, 4)),  # 2017 foreign permanent residence
    (re.compile(r"[HM]\d{8,11}"), _keep_groups(1, 2)),  # home-return permit: H/M + 8 (or old 10) digits
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), lambda m: _mask_mobile(m.group(0))),
)


def _mask_mobile(text: str) -> str:
    """Keep the first 3 and last 4 digits of the 11-digit number (and any +86 prefix)."""
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    subscriber = digits[-11:]
    hidden = set(subscriber[3:7])
    return "".join(STAR if i in hidden else c for i, c in enumerate(text))


def _mask_text(text: str) -> str:
    # Defensive: should a mask ever expose a new match for an earlier rule, repeat until
    # stable.  Each pass that changes anything adds a STAR, so this terminates.
    while True:
        masked = text
        for pattern, replacement in _TEXT_RULES:
            masked = pattern.sub(replacement, masked)
        if masked == text:
            return masked
        text = masked


def _is_sensitive(key: str | None) -> bool:
    return key is not None and key.lower() in SENSITIVE_KEYS


def mask_personal(value: Any, *, key: str | None = None) -> Any:
    """Return `value` with personal data masked; THE function every log path uses.

    str → masked str; Mapping → dict with the values of sensitive keys masked by
    kind (a name keeps its first character, an ID number its first 6 and last 4...),
    recursively; list/tuple → same kind, element-wise; set → list; None/bool/float →
    unchanged; int → unchanged unless it looks personal (then the masked digits as a
    str); anything else → its masked `str()`.  `key` names the field that `value` is
    the value of; containers under a sensitive key pass it on to their contents.
    Never raises for str input; idempotent.
    """
    if _is_sensitive(key) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return _mask_text(_mask_field(key.lower(), str(value)))  # type: ignore[union-attr]
    if isinstance(value, str):
        return _mask_text(value)
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        text = str(value)
        masked = _mask_text(text)
        return value if masked == text else masked
    if isinstance(value, Mapping):
        # {"address": {"street": ...}}: everything under a sensitive key is that kind of data
        return {k: mask_personal(v, key=str(k) if _is_sensitive(str(k)) or not _is_sensitive(key) else key)
                for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(mask_personal(v, key=key) for v in value)
    if isinstance(value, (list, tuple, set, frozenset)):  # subclasses (namedtuples...) and sets
        return [mask_personal(v, key=key) for v in value]
    text = str(value)
    return _mask_text(_mask_field(key.lower(), text)) if _is_sensitive(key) else _mask_text(text)  # type: ignore[union-attr]


# ----------------------------------------------------------------- formatting

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
_CORE_FIELDS = ("ts", "level", "logger", "msg")


def _masked_message(record: logging.LogRecord) -> str:
    msg = record.msg if isinstance(record.msg, str) else str(mask_personal(record.msg))
    args = record.args
    if args:
        # Structured args are masked by key before formatting (the key is lost afterwards);
        # plain strings are caught by the text pass over the finished message.
        if isinstance(args, Mapping):
            args = mask_personal(args)
        else:
            args = tuple(mask_personal(a) if isinstance(a, (Mapping, list, tuple, set)) else a for a in args)
        try:
            msg = msg % args
        except Exception:  # a bad format string must not lose the line (nor leak its args unmasked)
            msg = f"{msg} {args!r}"
    return mask_personal(msg)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, extra fields, exc/stack; all masked."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        line: dict[str, Any] = {"ts": ts, "level": record.levelname, "logger": record.name,
                                "msg": _masked_message(record)}
        extras = {k: v for k, v in record.__dict__.items() if k not in _RECORD_ATTRS and not k.startswith("_")}
        for k, v in mask_personal(extras).items():
            line[f"extra_{k}" if k in _CORE_FIELDS else k] = v
        # Not record.exc_text: Formatter caches it unmasked on the record for other handlers.
        if record.exc_info and record.exc_info[0] is not None:
            line["exc"] = mask_personal(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = mask_personal(record.exc_text)
        if record.stack_info:
            line["stack"] = mask_personal(self.formatStack(record.stack_info))
        # default=: objects inside extras that masking left alone still serialise (masked).
        return json.dumps(line, ensure_ascii=False, default=lambda o: mask_personal(str(o)))


# ----------------------------------------------------------------- set-up

_OURS = "_estation_handler"  # marks handlers setup_logging installed, so a second call replaces them


def setup_logging(level: str | int = "INFO", file: str | Path | None = None,
                  stream: TextIO | None = None) -> list[logging.Handler]:
    """Route all logging (every logger, ours or a library's) through masked JSON lines.

    Writes to `stream` (default stderr) and, when `file` is given, appends to it too.
    Safe to call again (e.g. after reading the config): it replaces its own handlers
    and leaves others (pytest's, say) alone.  Returns the installed handlers.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream if stream is not None else sys.stderr)]
    if file:
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        # WatchedFileHandler reopens after logrotate moves the file.
        from logging.handlers import WatchedFileHandler
        handlers.append(WatchedFileHandler(path, encoding="utf-8"))
    formatter = JsonFormatter()
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # warnings.warn text goes through the same mask.  Off, then on: `captureWarnings(True)` is a no-op
    # while it believes itself on, even after `warnings.catch_warnings()` has put showwarning back.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    return handlers
