"""base64url without padding (SYNC.md §1), strict: one text per byte string.

The decoder rejects padding, whitespace, foreign characters and non-zero trailing
bits, so two different texts never decode to the same bytes (signatures and ids
compare as text).
"""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode strictly; raises ValueError on anything but the canonical encoding."""
    if not isinstance(text, str) or not _ALPHABET.fullmatch(text):
        raise ValueError("not base64url (alphabet A-Z a-z 0-9 - _, no padding)")
    if len(text) % 4 == 1:
        raise ValueError("not base64url (impossible length)")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u_encode(data) != text:  # only differs when the unused trailing bits are set
        raise ValueError("not base64url (non-zero trailing bits)")
    return data
