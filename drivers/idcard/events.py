"""Events the reader transport emits through its callback (frozen, thread-safe to pass on)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReaderConnected:
    port: str
    sam_id: str
    baudrate: int


@dataclass(frozen=True)
class ReaderDisconnected:
    port: str
    reason: str


@dataclass(frozen=True)
class ReaderFault:
    """The SAM refuses to work (status 23/60/66): maintenance needed, retried slowly."""

    reason: str
    status: int


@dataclass(frozen=True)
class CardRead:
    """A card was read.  `card` is the decode-contract dict (IDCARD.md §12.2): personal data."""

    card: dict = field(repr=False)
    received_at: float = 0.0  # time.perf_counter() when the last byte was parsed


@dataclass(frozen=True)
class CardRemoved:
    pass


@dataclass(frozen=True)
class CardError:
    """This placement could not be read; the person should lift and replace the card."""

    reason: str
    status: int | None
    attempts: int


ReaderEvent = ReaderConnected | ReaderDisconnected | ReaderFault | CardRead | CardRemoved | CardError
