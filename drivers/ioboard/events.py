"""Events the IO-board transport emits through its one callback (frozen, safe to pass between threads)."""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import BoardStatus


@dataclass(frozen=True)
class BoardConnected:
    port: str
    version: str
    boot_id: int
    status: BoardStatus


@dataclass(frozen=True)
class BoardDisconnected:
    port: str
    reason: str


@dataclass(frozen=True)
class BoardRebooted:
    """The board restarted (new boot id): it was reconfigured; unacknowledged host commands were resent."""

    boot_id: int


@dataclass(frozen=True)
class TamperLatched:
    """The enclosure was opened.  Delivered at least once: the board keeps the latch until the
    callback for it has returned, across host disconnects and restarts."""

    latch_id: int
    opened_at: int  # unix seconds (board's estimate from host heartbeats); 0 = unknown
    board_uptime_ms: int
    still_open: bool
    boot_id: int


@dataclass(frozen=True)
class TamperChanged:
    state: str  # open | closed


@dataclass(frozen=True)
class PresenceChanged:
    present: bool


@dataclass(frozen=True)
class PowerCycleStarted:
    """The board is cutting the Pi's power: heartbeats stopped for the watchdog timeout."""

    consecutive: int


@dataclass(frozen=True)
class BoardShutdown:
    reason: str


IoBoardEvent = (BoardConnected | BoardDisconnected | BoardRebooted | TamperLatched | TamperChanged
                | PresenceChanged | PowerCycleStarted | BoardShutdown)
