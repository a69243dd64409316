"""Crash safety (issue 7 "Proof"): SIGKILL the uploader (`estation sync`) and the central server
(`estation-central serve`, uvicorn) at random points, ≥ 100 kills in all, while a producer keeps
appending records; then every record created is stored exactly once at central, none is left unsent
or quarantined, and every kept receipt matches what central stored: 0 lost, 0 duplicated."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import free_port
from kiosk.ports import RecordDraft
from sync.central.service import Central
from sync.central.settings import Settings
from sync.enrollment import load_enrollment
from sync.identity import load_identity
from sync.outbox import Outbox, SpoolDirs
from sync.protocol.records import receipt_problem
from sync.provision import provision
from sync_helpers import uuid7

MIN_KILLS = 100
CHAOS_BUDGET_S = 70.0
RECORDS = 1200
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.05)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Proc:
    """One restartable subprocess, killed with SIGKILL."""

    def __init__(self, argv: list[str]) -> None:
        self.argv, self.proc, self.kills = argv, None, 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=ROOT)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.kills += 1
        if self.proc is not None:
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Producer(threading.Thread):
    """The UI process's part: appends records durably at a steady pace and remembers their ids."""

    def __init__(self, sync_dir: Path, count: int) -> None:
        super().__init__(daemon=True)
        self.sync_dir, self.count = sync_dir, count
        self.created: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            identity, enrollment = load_identity(self.sync_dir / "device.key"), load_enrollment(self.sync_dir)
            with Outbox(self.sync_dir, identity, enrollment) as outbox:
                for n in range(self.count):
                    record_id = uuid7()
                    outbox.append(RecordDraft(record_id, "feedback", 1, "2025-01-01T00:00:00.000Z",
                                              {"rating": n % 5 + 1, "text": "很好"}))
                    self.created.append(record_id)  # only after append returned: the record exists
                    time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


@pytest.mark.slow
def test_sigkill_uploader_and_central_loses_and_duplicates_nothing(tmp_path, db_url):
    """On both engines: PostgreSQL is what a city runs, SQLite what the demo and small sites run."""
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    db = db_url
    setup = Central(Settings(db_url=db))
    token, _ = setup.create_enroll_token()
    setup.close()
    port = free_port()
    central = Proc([sys.executable, "-m", "sync.central.cli", "serve", "--db", db, "--host", "127.0.0.1",
                    "--port", str(port)])
    central.start()
    deadline = time.monotonic() + 20
    while not _listening(port):
        assert time.monotonic() < deadline and central.alive(), "central did not start"
        time.sleep(0.02)
    sync_dir = tmp_path / "kiosk" / "sync"
    provision(sync_dir=sync_dir, central_url=f"http://127.0.0.1:{port}", token=token)
    uploader = Proc([sys.executable, "-m", "kiosk", "sync", "--data-dir", str(sync_dir.parent), "--poll", "0.05",
                     "--backoff-cap", "0.2", "--max-batch", "7", "--timeout", "2"])
    uploader.start()
    producer = Producer(sync_dir, RECORDS)
    producer.start()

    started = time.monotonic()
    receipts_dir = sync_dir / "receipts"

    def receipts() -> int:
        return len(os.listdir(receipts_dir)) if receipts_dir.exists() else 0

    # The uploader is killed at a random moment after it has shown progress (a new receipt since it was
    # spawned), so kills land while records flow even on a loaded machine; 3 s without progress
    # (central down, say) and it is killed anyway.
    spawned_at, receipts_at_spawn, next_uploader = started, receipts(), None
    central_up_at, next_central = None, None
    try:
        while uploader.kills + central.kills < MIN_KILLS or producer.is_alive():
            assert time.monotonic() - started < CHAOS_BUDGET_S + 30, "chaos phase overran"
            now = time.monotonic()
            if next_uploader is None and (receipts() > receipts_at_spawn or now - spawned_at > 3):
                next_uploader = now + rng.uniform(0.0, 0.5)
            if next_uploader is not None and now >= next_uploader:
                uploader.kill()
                uploader.start()
                spawned_at, receipts_at_spawn, next_uploader = now, receipts(), None
            if central_up_at is None and _listening(port):
                central_up_at = now
                next_central = now + rng.uniform(0.02, 0.6)  # somewhere while it serves
            if next_central is not None and now >= next_central:
                central.kill()
                central.start()
                central_up_at, next_central = None, None
            time.sleep(0.005)
        chaos_s = time.monotonic() - started
        delivered_during_chaos = _stored_count(db)
    finally:
        uploader.kill()
        central.kill()
    producer.join(5)
    assert producer.error is None, producer.error
    assert uploader.kills + central.kills >= MIN_KILLS
    assert chaos_s < CHAOS_BUDGET_S + 30
    assert delivered_during_chaos > RECORDS // 2, "records must flow while processes are being killed"

    # Calm: a clean central and `estation sync --once` until nothing is left.
    central.start()
    deadline = time.monotonic() + 20
    while not _listening(port):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        for _ in range(5):
            done = subprocess.run([sys.executable, "-m", "kiosk", "sync", "--once", "--data-dir",
                                   str(sync_dir.parent)], env=_env(), cwd=ROOT, capture_output=True, timeout=60)
            if done.returncode == 0:
                break
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["pending"] == 0
    finally:
        central.kill()

    created = producer.created
    assert len(created) == RECORDS
    check = Central(Settings(db_url=db))
    try:
        stored = check.repo.record_ids()
        assert len(stored) == len(set(stored)) == RECORDS  # 0 duplicated
        assert set(stored) == set(created)  # 0 lost, nothing foreign
        counts = check.repo.record_counts()
        device_id = load_identity(sync_dir / "device.key").device_id
        assert counts[device_id] == (RECORDS, RECORDS)  # seq 1..N, no gap: missing = 0
        dirs = SpoolDirs(sync_dir)
        assert dirs.pending() == [] and dirs.quarantined() == []  # none unsent, none refused
        receipts = sorted(p for p in dirs.receipts.iterdir() if p.name.endswith(".receipt"))
        assert len(receipts) == RECORDS
        receipt_key = load_enrollment(sync_dir).receipt_public()
        for path in receipts:
            receipt = json.loads(path.read_bytes())
            record_text, stored_receipt = check.repo.stored_record(record_id=receipt["signed"]["record_id"])
            assert receipt_problem(receipt, json.loads(record_text), receipt_key) is None
            assert json.loads(stored_receipt) == receipt  # the identical receipt, however often resent
    finally:
        check.close()
    print(f"kills: uploader {uploader.kills}, central {central.kills}; chaos {chaos_s:.1f} s; "
          f"{delivered_during_chaos}/{RECORDS} delivered during chaos")


def _stored_count(db: str) -> int:
    counter = Central(Settings(db_url=db))
    try:
        return counter.repo.count_records()
    finally:
        counter.close()