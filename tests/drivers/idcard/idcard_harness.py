"""Test harness for the reader: an event collector that waits, and fast timings."""

from __future__ import annotations

from event_log import EventLog  # noqa: F401  (re-exported for the reader tests)


# Fast timings keep the suite quick; the state machine is the same as with the defaults.
FAST = dict(poll_interval=0.03, retry_gap=0.02, removal_window=0.06, reconnect_interval=0.05)
