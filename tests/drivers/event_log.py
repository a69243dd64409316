"""One event collector for every driver's tests: events arrive on a driver thread; tests wait."""

from __future__ import annotations

import queue
import time
from typing import Any


class EventLog:
    """Callable sink for driver events.  `wait_for` consumes in arrival order."""

    def __init__(self) -> None:
        self.events: list = []
        self._queue: queue.Queue = queue.Queue()

    def __call__(self, event: Any) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type, timeout: float = 3.0, where=None, **match):
        """The next event of `kind` (matching `where(event)` and field=value pairs), or AssertionError."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            self.events.append(event)
            if isinstance(event, kind) and (where is None or where(event)) and \
                    all(getattr(event, k) == v for k, v in match.items()):
                return event
        raise AssertionError(f"no {kind.__name__}{match or ''} within {timeout} s; "
                             f"got {[type(e).__name__ for e in self.events]}")

    def settle(self, seconds: float = 0.0) -> list:
        """Everything that arrives in the next `seconds` (0: what is already here)."""
        end = time.monotonic() + seconds
        got = []
        while True:
            try:
                got.append(self._queue.get(timeout=max(0.0, end - time.monotonic())))
            except queue.Empty:
                break
        self.events.extend(got)
        return got

    drain = settle

    def seen(self, kind: type, **match) -> bool:
        """Already collected (wait_for consumes events in order, so an earlier one may have passed)."""
        return any(isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items()) for e in self.events)

    def of(self, kind: type) -> list:
        self.settle()
        return [e for e in self.events if isinstance(e, kind)]

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.events)
