"""UUIDv7 record ids (RFC 9562 §5.7), built from time and randomness passed in (the core reads no clock)."""

from __future__ import annotations

import uuid


def uuid7(unix_ms: int, rand: bytes) -> str:
    """Lowercase 36-char UUIDv7: 48-bit ms timestamp, version 7, 74 random bits, variant 10."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError("unix_ms out of range for UUIDv7")
    if len(rand) < 10:
        raise ValueError("need 10 random bytes")
    r = int.from_bytes(rand[:10], "big")
    rand_a = (r >> 68) & 0xFFF
    rand_b = r & ((1 << 62) - 1)
    value = (unix_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def uuid7_time_ms(record_id: str) -> int:
    """The timestamp part of a UUIDv7 (for ordering and audits)."""
    value = uuid.UUID(record_id)
    if value.version != 7:
        raise ValueError(f"{record_id} is not a UUIDv7")
    return value.int >> 80
