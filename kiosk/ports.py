"""Ports: the small interfaces the pure core needs from the outside world.

Adapters live elsewhere (drivers/, sync/, ui/) and are wired in kiosk/cli/.
The core never imports an adapter; tests pass fakes that keep history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class RecordDraft:
    """A record before sealing: plaintext personal data, held in memory only.

    `created_at` is SYNC.md's time format (`YYYY-MM-DDTHH:MM:SS.sssZ`);
    `payload` is a JSON-profile object (SYNC.md §1) valid against the kind's
    schema in kiosk/schemas/.
    """

    record_id: str  # UUIDv7, lowercase, 36 chars
    kind: str
    schema_version: int
    created_at: str
    payload: dict = field(repr=False)


@runtime_checkable
class RecordSink(Protocol):
    """Where finished records go: the sync outbox (SYNC.md §5) in production.

    `append` seals the payload to the central record key, signs the record
    with the device key, appends it durably (tmp -> fsync -> rename ->
    fsync(dir)) and only then returns the record's `seq`.  On any failure it
    raises and nothing was stored.  After it returns, nothing on the kiosk
    can read the payload back.
    """

    def append(self, draft: RecordDraft) -> int: ...


class Clock(Protocol):
    """Time for the core, passed in (the core never reads the system clock)."""

    def now(self) -> dt.datetime: ...  # timezone-aware UTC
    def monotonic(self) -> float: ...


# Policy dates (ages, waiting periods, job expiry) and the date a resident reads on a receipt are
# dates where the kiosk stands: all of China keeps UTC+8, with no summer time.  Records keep UTC.
LOCAL_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date at the kiosk of an aware moment (UTC from the Clock, or any other zone)."""
    return moment.astimezone(LOCAL_TIME).date()


class Signer(Protocol):
    """The device key, for receipt tokens the resident takes away."""

    device_id: str

    def sign(self, message: bytes) -> bytes: ...


class Printer(Protocol):
    """Receipt printer: prints a receipt, reports its state (ok, paper_low, paper_out, fault, absent)."""

    def print_receipt(self, lines: list[str], qr_data: str | None) -> None: ...
    def status(self) -> str: ...


class IoBoard(Protocol):
    """The IO board: watchdog heartbeat, tamper, presence, status LEDs."""

    def heartbeat(self) -> None: ...
    def tamper_state(self) -> str: ...  # closed | open | unknown
    def set_status_led(self, pattern: str) -> None: ...  # ok | degraded | fault
