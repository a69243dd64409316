"""`estation simulate`: a fleet of simulated kiosks against a central on loopback.

Each simulated kiosk is a real kiosk minus the hardware: its own device key and sync directory,
enrolled through `sync.provision` (POST /v1/enroll), records sealed and appended by `sync.outbox`,
uploaded and heart-beaten by `sync.runner`.  Peripherals are drawn at random (some printers out of
paper, a tamper switch open, a reader fault) so the dashboard has something to show.  Payloads are
synthetic: no personal data.  Bounded in kiosks, records and time; refuses non-loopback centrals.
"""

from __future__ import annotations

import ipaddress
import json
import random
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from kiosk.errors import EstationError, UsageError
from kiosk.ports import RecordDraft
from sync.enrollment import load_enrollment
from sync.heartbeat import PERIPHERALS_FILE
from sync.identity import load_identity
from sync.outbox import Outbox
from sync.protocol.records import KINDS
from sync.protocol.timefmt import format_unix
from sync.provision import provision
from sync.runner import SyncRunner

MAX_KIOSKS, MAX_RECORDS, MAX_SECONDS = 1000, 10000, 3600
WORKERS = 8


@dataclass
class SimulationSummary:
    kiosks: int
    enrolled: int = 0
    records_created: int = 0
    records_stored: int = 0
    heartbeats: int = 0
    failed_passes: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    device_ids: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        data = asdict(self)
        data["errors"] = sorted(set(self.errors))[:10]
        data.pop("device_ids")
        return json.dumps(data, sort_keys=True)


def loopback_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if parts.scheme not in ("http", "https") or not ok:
        raise UsageError(f"--central: simulate runs against loopback only (127.0.0.1, ::1, localhost): {url!r}")
    return url.rstrip("/")


def uuid7(rng: random.Random) -> str:
    ms = int(time.time() * 1000)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def enroll_token(central_url: str, operator_token: str, uses: int) -> str:
    """One multi-use enrollment token from the operator endpoint (SYNC.md §8)."""
    try:
        r = httpx.post(f"{central_url}/v1/enroll-tokens", json={"uses": uses, "ttl_s": 3600, "label": "simulated"},
                       headers={"Authorization": f"Bearer {operator_token}"}, timeout=10, trust_env=False)
    except httpx.HTTPError as exc:
        raise EstationError(f"cannot reach central at {central_url}: {type(exc).__name__}") from None
    if r.status_code != 201:
        raise EstationError(f"central refused the enrollment token: {r.status_code} {r.text[:100]}",
                            hint="check --operator-token (estation-central operator-token create)")
    return r.json()["token"]


def _peripherals(rng: random.Random) -> dict[str, str]:
    return {"id_reader": "fault" if rng.random() < 0.05 else "ok",
            "printer": rng.choices(["ok", "paper_low", "paper_out"], [0.8, 0.1, 0.1])[0],
            "io_board": "ok", "tamper": "open" if rng.random() < 0.05 else "closed"}


class _Kiosk:
    def __init__(self, n: int, root: Path, rng: random.Random) -> None:
        self.n, self.sync_dir, self.rng = n, root / f"kiosk-{n:04d}" / "sync", random.Random(rng.random())
        self.runner: SyncRunner | None = None

    def enroll(self, central_url: str, token: str) -> str:
        enrollment = provision(sync_dir=self.sync_dir, central_url=central_url, token=token,
                               hardware_id=f"simulated-{self.n:04d}")
        (self.sync_dir / PERIPHERALS_FILE).write_text(json.dumps(_peripherals(self.rng)), encoding="utf-8")
        return enrollment.device_id

    def create(self, count: int) -> int:
        identity, enrollment = load_identity(self.sync_dir / "device.key"), load_enrollment(self.sync_dir)
        kinds = sorted(KINDS)
        with Outbox(self.sync_dir, identity, enrollment) as outbox:
            for i in range(count):
                outbox.append(RecordDraft(uuid7(self.rng), self.rng.choice(kinds), 1, format_unix(time.time()),
                                          {"simulated": True, "n": i, "rating": self.rng.randint(1, 5)}))
        return count

    def sync(self) -> tuple[int, bool, str | None]:
        if self.runner is None:
            self.runner = SyncRunner(self.sync_dir, timeout_s=10)
        result = self.runner.run_pass()
        return result.upload.stored, result.heartbeat_ok, result.error

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()


def simulate(*, central_url: str, kiosks: int, records: int = 5, seconds: float = 10.0,
             operator_token: str | None = None, token: str | None = None, beat_s: float | None = None,
             work_dir: Path | None = None, seed: int | None = None) -> SimulationSummary:
    central_url = loopback_url(central_url)
    if not 1 <= kiosks <= MAX_KIOSKS or not 0 <= records <= MAX_RECORDS or not 0 < seconds <= MAX_SECONDS:
        raise UsageError(f"bounds: 1 ≤ kiosks ≤ {MAX_KIOSKS}, 0 ≤ records ≤ {MAX_RECORDS}, "
                         f"0 < seconds ≤ {MAX_SECONDS}")
    if token is None:
        if not operator_token:
            raise UsageError("need --operator-token (or $ESTATION_OPERATOR_TOKEN) or --token")
        token = enroll_token(central_url, operator_token, kiosks)
    started = time.monotonic()
    deadline = started + seconds
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="estation-sim-")) if work_dir is None else work_dir
    fleet = [_Kiosk(n, root, rng) for n in range(kiosks)]
    summary = SimulationSummary(kiosks)
    lock = threading.Lock()

    def first(k: _Kiosk) -> None:
        if time.monotonic() >= deadline:
            return
        try:
            device_id = k.enroll(central_url, token)
            created = k.create(records)
            stored, beat_ok, error = k.sync()
        except EstationError as exc:
            with lock:
                summary.errors.append(exc.reason)
            return
        with lock:
            summary.enrolled += 1
            summary.device_ids.append(device_id)
            summary.records_created += created
            summary.records_stored += stored
            summary.heartbeats += beat_ok
            summary.failed_passes += error is not None
            if error:
                summary.errors.append(error)

    def again(k: _Kiosk) -> None:
        if k.runner is None or time.monotonic() >= deadline:
            return
        stored, beat_ok, error = k.sync()
        with lock:
            summary.records_stored += stored
            summary.heartbeats += beat_ok
            summary.failed_passes += error is not None

    try:
        with ThreadPoolExecutor(max_workers=min(WORKERS, kiosks)) as pool:
            list(pool.map(first, fleet))
            interval = beat_s if beat_s is not None else \
                (fleet[0].runner.enrollment.heartbeat_interval_s if fleet[0].runner else 60)
            next_round = started + interval
            while next_round < deadline:
                time.sleep(max(0.0, next_round - time.monotonic()))
                list(pool.map(again, fleet))
                next_round += interval
    finally:
        for k in fleet:
            k.close()
        if work_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    summary.elapsed_s = round(time.monotonic() - started, 2)
    return summary
