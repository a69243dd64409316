"""Test harness for the reader: an event collector that waits, and fast timings."""

from __future__ import annotations

import queue
import time


class EventLog:
    """Collects reader events (from the reader thread) and waits for them."""

    def __init__(self) -> None:
        self.events: list = []
        self._queue: queue.Queue = queue.Queue()

    def __call__(self, event) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type, timeout: float = 3.0):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} within {timeout} s; got {[type(e).__name__ for e in self.events]}")
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            self.events.append(event)
            if isinstance(event, kind):
                return event

    def settle(self, seconds: float) -> list:
        """Everything that arrives in the next `seconds`."""
        end = time.monotonic() + seconds
        got = []
        while (remaining := end - time.monotonic()) > 0:
            try:
                got.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        self.events.extend(got)
        return got

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)


# Fast timings keep the suite quick; the state machine is the same as with the defaults.
FAST = dict(poll_interval=0.03, retry_gap=0.02, removal_window=0.06, reconnect_interval=0.05)
