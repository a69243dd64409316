"""Kiosk side against a real central (uvicorn, SQLite/PostgreSQL): provision, outbox, uploader, heartbeats."""

from __future__ import annotations

import argparse
import json
import os
import stat
from pathlib import Path

import pytest

from kiosk.errors import EstationError, UsageError
from kiosk.ports import RecordDraft, RecordSink
from sync.enrollment import load_enrollment
from sync.identity import load_identity
from sync.outbox import Outbox, OutboxBusy, RecordRejected
from sync.protocol.b64u import b64u_decode
from sync.protocol.jsonprofile import canonical
from sync.protocol.records import record_hash
from sync.protocol.sealing import open_payload
from sync.protocol.records import record_info
from sync.provision import ProvisionFailed, provision
from sync.runner import SyncRunner
from sync.uploader import CentralUnavailable
from sync_helpers import uuid7

SECRET = "110105199003072345"  # an ID number: must never be readable on the kiosk after sealing


def draft(text: str = SECRET, kind: str = "unemployment_registration") -> RecordDraft:
    return RecordDraft(record_id=uuid7(), kind=kind, schema_version=1, created_at="2025-01-01T00:00:00.000Z",
                       payload={"id_number": text, "name": "张三"})


def cli(argv: list[str]) -> int:
    """Run a kiosk sub-command through the real root parser (main())."""
    import kiosk.cli as root

    return root.main(argv)


@pytest.fixture
def kiosk_dir(central, tmp_path) -> Path:
    token, _ = central.central.create_enroll_token()
    receipt_hex = central.central.keyring.keys.receipt.public_key().public_bytes_raw().hex()
    assert cli(["provision", "--central", central.url, "--token", token, "--central-pub", receipt_hex,
                "--data-dir", str(tmp_path / "data")]) == 0
    return tmp_path / "data" / "sync"


def test_provision_makes_a_private_key_and_pins_central(central, kiosk_dir):
    key = kiosk_dir / "device.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    enrollment = load_enrollment(kiosk_dir)
    assert enrollment.device_id == load_identity(key).device_id
    assert central.central.repo.device(device_id=enrollment.device_id) is not None
    keys = central.central.keyring.keys.wire()
    assert enrollment.receipt_key == keys["receipt_key"]["public"] and enrollment.feed_key == keys["feed_key"]["public"]


def test_provision_refuses_a_different_central_key(central, tmp_path, capsys):
    token, _ = central.central.create_enroll_token()
    assert cli(["provision", "--central", central.url, "--token", token, "--central-pub", "ab" * 32,
                "--data-dir", str(tmp_path)]) == 1
    assert "differs from --central-pub" in capsys.readouterr().err
    assert not (tmp_path / "sync" / "enrollment.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["provision", "--central", "http://10.1.2.3:80", "--token", "t"], "only allowed on loopback"),
    (["provision", "--central", "ftp://x", "--token", "t"], "not an http(s) URL"),
    (["provision", "--token", "t"], "required"),
    (["provision", "--central", "http://127.0.0.1:9", "--token", "t", "--central-pub", "XY"], "--central-pub"),
])
def test_provision_bad_input_is_one_error_line(argv, message, capsys, tmp_path):
    assert cli(argv + ["--data-dir", str(tmp_path)] if "--token" in argv else argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0]


def test_outbox_is_a_record_sink_and_keeps_no_plaintext(central, kiosk_dir):
    identity, enrollment = load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)
    with Outbox(kiosk_dir, identity, enrollment) as outbox:
        assert isinstance(outbox, RecordSink)
        assert [outbox.append(draft()) for _ in range(3)] == [1, 2, 3]
        with pytest.raises(OutboxBusy):
            Outbox(kiosk_dir, identity, enrollment)
        with pytest.raises(RecordRejected):
            outbox.append(RecordDraft("not-a-uuid", "feedback", 1, "2025-01-01T00:00:00.000Z", {}))
        big = draft()
        with pytest.raises(RecordRejected, match="payload over 65536 bytes"):  # central's 413, refused here
            outbox.append(RecordDraft(big.record_id, big.kind, 1, big.created_at, {"text": "x" * 65536}))
        assert outbox.append(draft()) == 4  # a refused draft takes no seq
    with Outbox(kiosk_dir, identity, enrollment) as outbox:
        assert outbox.append(draft()) == 5  # seq continues after a restart
    files = sorted((kiosk_dir / "spool").glob("*.rec"))
    assert [f.name for f in files] == [f"{n:016d}.rec" for n in range(1, 6)]
    for path in kiosk_dir.rglob("*"):
        if path.is_file() and path.name != "device.key":
            data = path.read_bytes()
            assert SECRET.encode() not in data and "张三".encode() not in data, path
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    record = json.loads(files[0].read_bytes())
    private = central.central.keyring.keys.record
    assert open_payload(b64u_decode(record["signed"]["payload"]), private, record_info(record["signed"])) == \
        {"id_number": SECRET, "name": "张三"}


def test_sync_once_uploads_verifies_receipts_and_deletes(central, kiosk_dir, capsys):
    identity, enrollment = load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)
    with Outbox(kiosk_dir, identity, enrollment) as outbox:
        for _ in range(7):
            outbox.append(draft())
    sent = {json.loads(p.read_bytes())["signed"]["record_id"]: record_hash(json.loads(p.read_bytes()))
            for p in (kiosk_dir / "spool").glob("*.rec")}
    assert cli(["sync", "--once", "--data-dir", str(kiosk_dir.parent)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stored"] == 7 and summary["pending"] == 0 and summary["heartbeat"] is True
    assert not list((kiosk_dir / "spool").glob("*.rec"))
    assert len(list((kiosk_dir / "receipts").glob("*.receipt"))) == 7
    for record_id, h in sent.items():
        stored, _ = central.central.repo.stored_record(record_id=record_id)
        assert record_hash(json.loads(stored)) == h
    device = central.central.repo.device(device_id=identity.device_id)
    assert json.loads(device.last_heartbeat)["outbox"]["depth"] == 0


def test_refused_records_are_quarantined_not_retried(central, kiosk_dir):
    identity, enrollment = load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)
    with Outbox(kiosk_dir, identity, enrollment) as outbox:
        outbox.append(draft())
    runner = SyncRunner(kiosk_dir)
    try:
        assert runner.run_pass().upload.stored == 1
        # A record whose seq central already holds under another record_id (a restored backup, say).
        clash = json.loads((kiosk_dir / "receipts" / f"{1:016d}.receipt").read_bytes())
        assert clash["signed"]["seq"] == 1
        (kiosk_dir / "receipts" / f"{1:016d}.receipt").unlink()
        with Outbox(kiosk_dir, identity, enrollment) as outbox:
            assert outbox.append(draft()) == 1
        result = runner.run_pass()
        assert result.upload.quarantined == 1 and result.error is None
        reason = json.loads((kiosk_dir / "quarantine" / f"{1:016d}.reason").read_bytes())
        assert reason["status"] == 409 and reason["error"] == "seq_conflict"
        assert runner.run_pass().upload.sent == 0  # never retried
    finally:
        runner.close()


def test_wrong_pinned_receipt_key_keeps_the_record(central, kiosk_dir):
    enrollment = json.loads((kiosk_dir / "enrollment.json").read_text())
    enrollment["receipt_key"] = central.central.keyring.keys.wire()["feed_key"]["public"]  # not the receipt key
    (kiosk_dir / "enrollment.json").write_text(json.dumps(enrollment))
    with Outbox(kiosk_dir, load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)) as outbox:
        outbox.append(draft())
    runner = SyncRunner(kiosk_dir)
    try:
        result = runner.run_pass(heartbeat=False)
        assert result.upload.bad_receipts == 1 and result.upload.stored == 0
        assert len(list((kiosk_dir / "spool").glob("*.rec"))) == 1
    finally:
        runner.close()


def test_central_down_keeps_records_and_reports(central, kiosk_dir, capsys):
    with Outbox(kiosk_dir, load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)) as outbox:
        outbox.append(draft())
    central.stop()
    assert cli(["sync", "--once", "--data-dir", str(kiosk_dir.parent)]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["pending"] == 1 and "unreachable" in summary["error"]


def test_kiosk_adopts_central_clock(central, kiosk_dir):
    with Outbox(kiosk_dir, load_identity(kiosk_dir / "device.key"), load_enrollment(kiosk_dir)) as outbox:
        outbox.append(draft())
    central.clock.shift = 3600  # a Pi without RTC booted an hour behind
    runner = SyncRunner(kiosk_dir)
    try:
        result = runner.run_pass()
        assert result.error is None and result.upload.stored == 1
        assert abs(load_enrollment(kiosk_dir).clock_offset_s - 3600) < 5
    finally:
        runner.close()


def test_sync_passes_of_two_processes_take_turns(central, kiosk_dir):
    """`estation sync --once` while the service is mid-pass waits for it, then runs."""
    import fcntl
    import os
    import threading

    from sync.runner import PASS_LOCK

    fd = os.open(kiosk_dir / PASS_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # the other process, mid-pass
    results = []
    second = threading.Thread(target=lambda: results.append(SyncRunner(kiosk_dir).run_pass(heartbeat=False)))
    second.start()
    second.join(1.0)
    assert second.is_alive() and results == []  # waiting, not running alongside
    os.close(fd)  # the other pass ends (or its process dies)
    second.join(20)
    assert results and not second.is_alive()
