"""The JSON profile of SYNC.md §1 (parse strictly) and C(x), its canonical bytes (RFC 8785).

Under the profile (integers only, ASCII keys, no lone surrogates) JCS reduces to
sorted keys, no whitespace and raw UTF-8, which the stdlib encoder produces.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 32


class ProfileViolation(ValueError):
    """The bytes are not a JSON text under the profile (→ 400 malformed_body)."""


def _no_floats(text: str) -> Any:
    raise ProfileViolation(f"number {text} is not an integer")


def _no_constants(text: str) -> Any:
    raise ProfileViolation(f"{text} is not allowed")


def _checked_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INT:
        raise ProfileViolation("integer outside ±(2^53-1)")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ProfileViolation("duplicate key")
    if not all(map(str.isascii, obj)):
        raise ProfileViolation("non-ASCII key")
    return obj


# A lone surrogate can only come from a \uD800-\uDFFF escape: UTF-8 decoding refuses encoded
# ones.  Without such an escape (and with no more brackets than MAX_DEPTH), the walk below has
# nothing to find; with one, or an escaped backslash before "uD8", it runs in full.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _check_values(value: Any, *, strings: bool = True) -> None:
    """Depth ≤ 32 (top = 1) and, when `strings`, no lone surrogates; walked without recursion.
    Keys need no look: non-ASCII keys are refused while parsing."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ProfileViolation("lone surrogate in a string") from None
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise ProfileViolation(f"nesting deeper than {MAX_DEPTH}")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if strings or isinstance(child, (dict, list)))


def parse_profile(raw: bytes) -> Any:
    """Parse bytes under the profile; raises ProfileViolation with a short reason."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise ProfileViolation("byte order mark")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileViolation("not UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_object, parse_float=_no_floats,
                           parse_int=_checked_int, parse_constant=_no_constants)
    except ProfileViolation:
        raise
    except (ValueError, RecursionError) as exc:  # the C scanner stops very deep texts itself
        raise ProfileViolation(f"not JSON: {getattr(exc, 'msg', exc)}") from None
    strings = _SURROGATE_ESCAPE.search(raw) is not None
    if strings or raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        _check_values(value, strings=strings)
    return value


def canonical(value: Any) -> bytes:
    """C(x): RFC 8785 bytes of a profile value."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def is_profile_value(value: Any, depth: int = 1) -> bool:
    """True when an in-memory value would survive C(x) → parse_profile unchanged."""
    if depth > MAX_DEPTH + 1:
        return False
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return abs(value) <= MAX_SAFE_INT
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return depth <= MAX_DEPTH and all(is_profile_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return depth <= MAX_DEPTH and all(
            isinstance(k, str) and k.isascii() and is_profile_value(v, depth + 1) for k, v in value.items())
    return False
