"""The bench's load generators (sync.ingest_load, sync.heartbeat_load over sync.rawhttp) against a real
central: what they count is what central stored."""

from __future__ import annotations

import pytest

from sync.heartbeat_load import enroll_fleet, run_load
from sync.ingest_load import build_backlogs, run_ingest_load
from sync.rawhttp import post_once


def test_ingest_load_counts_what_central_stored(central):
    keys = enroll_fleet(central.central, 6, workers=2)
    backlogs = build_backlogs(keys, central.central.keyring.keys.record.public_key(), 4)
    result = run_ingest_load(central.url, backlogs, backlog=4, in_flight=3)
    assert (result.records, result.stored, result.errors) == (24, 24, 0)
    assert central.central.repo.count_records() == 24
    again = run_ingest_load(central.url, backlogs[:2], backlog=4, in_flight=2)  # replays: 200, not 201
    assert (again.stored, again.errors) == (0, 8)


def test_heartbeat_load_reaches_central(central):
    keys = enroll_fleet(central.central, 5, workers=2)
    result = run_load(central.url, keys, rate=20, seconds=0.5)
    assert result.sent == 10 and result.ok == 10 and result.errors == 0
    assert sum(d.last_seen is not None for d in central.central.repo.devices()) == 5


def test_raw_client_refuses_non_loopback_and_reports_a_dead_port():
    import asyncio
    import socket

    with pytest.raises(Exception, match="loopback"):
        run_load("http://192.0.2.1:9", [], rate=1, seconds=1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        asyncio.run(post_once(f"http://127.0.0.1:{port}", "/v1/heartbeats", {}, b"{}", timeout_s=2))
