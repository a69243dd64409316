"""Test harness for the printer: an event collector that waits, fast timings, a parse helper."""

from __future__ import annotations

from event_log import EventLog  # noqa: F401  (re-exported for the printer tests)

from drivers.printer.paper import Interpreter, ProcessIdRequest
from drivers.printer.protocol import NEED_DATA, CommandParser

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
