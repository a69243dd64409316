"""IO-board test harness: an event collector that waits, fast timings, a firmware Board in memory."""

from __future__ import annotations

import time
from typing import Any

from event_log import EventLog as SharedEventLog

from drivers.ioboard import framing as fr
from drivers.ioboard.protocol import BoardConfig
from drivers.ioboard.sim import _firmware_modules
from drivers.ioboard.transport import SerialIoBoard

# Fast timings: the logic is the same as with the defaults.
FAST_CONFIG = BoardConfig(watchdog_timeout_ms=600, boot_grace_ms=900, quiet_ms=300, cycle_ms=200, max_cycles=2)
FAST = dict(rto=0.02, rto_max=0.2, reply_timeout=0.3, status_interval=0.1, reconnect_interval=0.05)


class EventLog(SharedEventLog):
    """The shared collector, plus handlers that crash on demand (the board must re-offer tamper)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: dict[type, int] = {}  # event type -> raise on the next N of them
        self.failed: list = []

    def __call__(self, event: Any) -> None:
        if self.fail.get(type(event), 0) > 0:
            self.fail[type(event)] -= 1
            self.failed.append(event)
            raise RuntimeError("handler crashed")
        super().__call__(event)


def wait_until(predicate, timeout: float = 3.0, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class FakeHw:
    """The `hw` interface of ioboard_fw.Board, in memory (for sans-I/O firmware tests)."""

    def __init__(self) -> None:
        self.relay_on = False
        self.relay_history: list[tuple[int, bool]] = []
        self.tamper = False
        self.present = False
        self.levels = (0, 0)
        self.temp = 2700
        self.fed = 0
        self.clock: Any = None

    def relay(self, on: bool) -> None:
        if on != self.relay_on:
            self.relay_history.append((self.clock.now if self.clock else 0, on))
        self.relay_on = on

    def tamper_open(self) -> bool:
        return self.tamper

    def presence(self) -> bool:
        return self.present

    def leds(self, green: int, red: int) -> None:
        self.levels = (green, red)

    def temperature_centi(self) -> int:
        return self.temp

    def feed(self) -> None:
        self.fed += 1


class ListLink:
    def __init__(self) -> None:
        self.inbox = bytearray()
        self.sent = bytearray()

    def read(self) -> bytes:
        data, self.inbox = bytes(self.inbox), bytearray()
        return data

    def write(self, data: bytes) -> None:
        self.sent.extend(data)

    def frames(self) -> list[tuple[int, int, int, bytes]]:
        parser = fr.FrameParser()
        parser.feed(bytes(self.sent))
        self.sent = bytearray()
        out = []
        while (frame := parser.next_frame()) is not None:
            out.append(frame)
        return out


class ManualClock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def memory_board(boot_id: int = 0x1234):
    """(board, hw, link, clock, fw module): the firmware logic driven by hand, no threads."""
    _, fw, _ = _firmware_modules()
    hw, link, clock = FakeHw(), ListLink(), ManualClock()
    hw.clock = clock
    executed: list = []
    board = fw.Board(hw, link, clock, lambda a, b: a - b, boot_id, trace=lambda c, a: executed.append((c, a)))
    board.executed = executed
    return board, hw, link, clock, fw


def connect(sim, log=None, **kw):
    log = log if log is not None else EventLog()
    options = dict(FAST, config=FAST_CONFIG)
    options.update(kw)
    client = SerialIoBoard(sim.port, log, **options).start()
    client.log = log
    assert wait_until(lambda: client.connected, 5.0), f"not connected: {log.drain()}"
    return client
