"""Network faults (issue 7 "Proof"): a fault-injecting TCP proxy on 127.0.0.1 between the kiosk and a
real central (drops, delays, resets before and after central answered, truncated answers, half-open
and black-holed connections); provisioning and uploads still get through, with 0 lost, 0 duplicated."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from kiosk.ports import RecordDraft
from sync.enrollment import load_enrollment
from sync.faultproxy import FATES, FaultProxy
from sync.identity import load_identity
from sync.outbox import Outbox, SpoolDirs
from sync.provision import ProvisionFailed, provision
from sync.runner import SyncRunner
from sync_helpers import uuid7

RECORDS = 150


@pytest.fixture
def central(sqlite_central):
    return sqlite_central


def test_proxy_is_loopback_only():
    with pytest.raises(ValueError):
        FaultProxy(80, upstream_host="10.0.0.1")
    with pytest.raises(ValueError):
        FaultProxy(80, listen_host="0.0.0.0")


@pytest.mark.parametrize("fate", ["reset_before", "reset_after", "truncate", "drop"])
def test_each_fate_breaks_the_exchange(central, fate):
    with FaultProxy(int(central.url.rsplit(":", 1)[1]), weights={fate: 1.0}) as proxy:
        with pytest.raises(httpx.TransportError):
            httpx.get(proxy.url + "/healthz", timeout=2)
        assert proxy.stats[fate] == 1


@pytest.mark.parametrize("fate", ["half_open", "blackhole"])
def test_silent_fates_hang_until_the_client_times_out(central, fate):
    with FaultProxy(int(central.url.rsplit(":", 1)[1]), weights={fate: 1.0}) as proxy:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(proxy.url + "/healthz", timeout=0.5)
        assert 0.4 < time.monotonic() - started < 3


def test_pass_and_delay_forward_intact(central):
    with FaultProxy(int(central.url.rsplit(":", 1)[1]), weights={"pass": 0.5, "delay": 0.5}, seed=3,
                    delay_s=(0.01, 0.05)) as proxy:
        with httpx.Client(base_url=proxy.url, timeout=5) as http:
            for _ in range(10):
                assert http.get("/v1/keys").json() == central.central.keyring.keys.wire()


def test_eventual_delivery_through_faults(central, tmp_path):
    token, _ = central.central.create_enroll_token()
    sync_dir = tmp_path / "kiosk" / "sync"
    with FaultProxy(int(central.url.rsplit(":", 1)[1]), seed=7, delay_s=(0.01, 0.2)) as proxy:
        # Provisioning through the faults: a lost answer is retried and answered again (200, no use consumed).
        for attempt in range(40):
            try:
                provision(sync_dir=sync_dir, central_url=proxy.url, token=token, transport=httpx.HTTPTransport(),
                          hardware_id="faulty-line")
                break
            except ProvisionFailed as exc:
                assert "cannot reach central" in exc.reason, exc.reason
        else:
            pytest.fail("never enrolled")
        identity, enrollment = load_identity(sync_dir / "device.key"), load_enrollment(sync_dir)
        created = []
        with Outbox(sync_dir, identity, enrollment) as outbox:
            for n in range(RECORDS):
                created.append(uuid7())
                outbox.append(RecordDraft(created[-1], "feedback", 1, "2025-01-01T00:00:00.000Z", {"rating": 4}))
        runner = SyncRunner(sync_dir, timeout_s=0.5, max_batch=3)
        deadline, passes, failures = time.monotonic() + 60, 0, 0
        try:
            while True:
                result = runner.run_pass()
                passes += 1
                failures += result.error is not None
                if result.error is None and result.heartbeat_ok and not SpoolDirs(sync_dir).pending():
                    break
                assert time.monotonic() < deadline, f"not delivered after {passes} passes: {proxy.stats}"
        finally:
            runner.close()
    stored = central.central.repo.record_ids()
    assert len(stored) == len(set(stored)) == RECORDS and set(stored) == set(created)
    assert central.central.repo.record_counts()[identity.device_id] == (RECORDS, RECORDS)
    assert SpoolDirs(sync_dir).quarantined() == []
    assert len(list(SpoolDirs(sync_dir).receipts.glob("*.receipt"))) == RECORDS
    assert failures > 0 and all(proxy.stats[f] > 0 for f in FATES), proxy.stats  # every fault was exercised
    print(f"{passes} passes, {failures} failed; fates {dict(proxy.stats)}")


def test_central_down_behind_the_proxy_is_a_reset(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    with FaultProxy(dead_port, weights={"pass": 1.0}) as proxy:
        with pytest.raises(httpx.TransportError):
            httpx.get(proxy.url + "/healthz", timeout=2)
