"""Test harness for the printer: an event collector that waits, fast timings, a parse helper."""

from __future__ import annotations

import queue
import time

from drivers.printer.paper import Interpreter, ProcessIdRequest
from drivers.printer.protocol import NEED_DATA, CommandParser


class EventLog:
    """Collects printer events (from the transport thread) and waits for them."""

    def __init__(self) -> None:
        self.events: list = []
        self._queue: queue.Queue = queue.Queue()

    def __call__(self, event) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type, timeout: float = 3.0, **match):
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            self.events.append(event)
            if isinstance(event, kind) and all(getattr(event, k) == v for k, v in match.items()):
                return event
        raise AssertionError(f"no {kind.__name__}{match or ''} within {timeout} s; got {self.events}")

    def settle(self, seconds: float) -> list:
        end = time.monotonic() + seconds
        got = []
        while (remaining := end - time.monotonic()) > 0:
            try:
                got.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        self.events.extend(got)
        return got

    def seen(self, kind: type, **match) -> bool:
        """Already collected (wait_for consumes events in order, so an earlier one may have passed)."""
        return any(isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items()) for e in self.events)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


# Fast timings keep the suite quick; the logic is the same as with the defaults.
FAST = dict(status_timeout=0.3, poll_interval=0.1, busy_poll=0.03, ready_poll=0.03, reconnect_interval=0.05,
            ack_timeout=2.0)


def parse_all(chunks, parser: CommandParser | None = None) -> list:
    """Feed chunks, collect every event (EscPosError propagates)."""
    parser = parser or CommandParser()
    events = []
    for chunk in chunks:
        parser.feed(chunk)
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
    return events


def interpret(data: bytes, *, native_qr: bool = True) -> tuple[list, list]:
    """(printed blocks, process-ID requests) for a byte string."""
    paper = Interpreter(native_qr=native_qr)
    blocks, pids = [], []
    for event in parse_all([data]):
        for out in paper.apply(event):
            (pids if isinstance(out, ProcessIdRequest) else blocks).append(out)
    return blocks, pids
