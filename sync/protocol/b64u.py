"""base64url without padding (SYNC.md §1), strict: one text per byte string.

The decoder rejects padding, whitespace, foreign characters and non-zero trailing
bits, so two different texts never decode to the same bytes (signatures and ids
compare as text).
"""

from __future__ import annotations

import base64
import binascii

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS = {2: 0x0F, 3: 0x03}


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode strictly; raises ValueError on anything but the canonical encoding."""
    # "+", "/" and "=" are in the standard alphabet that strict a2b_base64 checks the rest against
    # (a regex over the text cost twice the decoding at ingest rates).
    if not isinstance(text, str) or not text.isascii() or "+" in text or "/" in text or "=" in text:
        raise ValueError("not base64url (alphabet A-Z a-z 0-9 - _, no padding)")
    tail = len(text) % 4
    if tail == 1:
        raise ValueError("not base64url (impossible length)")
    # A last group of 2 (3) characters carries 1 (2) bytes; its last character's low 4 (2)
    # bits are unused and must be zero, or two texts would decode to the same bytes.
    last = _DIGITS.find(text[-1]) if tail else 0  # -1: not a digit, which a2b_base64 refuses below
    if last > 0 and last & _UNUSED_BITS[tail]:
        raise ValueError("not base64url (non-zero trailing bits)")
    try:
        return binascii.a2b_base64((text + "=" * (-len(text) % 4)).encode("ascii").translate(_TO_STANDARD),
                                   strict_mode=True)
    except binascii.Error:
        raise ValueError("not base64url (alphabet A-Z a-z 0-9 - _, no padding)") from None
