"""`estation sync`: the sync process's loop — upload, heartbeat, back off, repeat."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from sync.client import CentralClient
from sync.enrollment import load_enrollment, save_enrollment
from sync.heartbeat import send_heartbeat
from sync.identity import load_identity
from sync.provision import KEY_FILE
from sync.uploader import Backoff, CentralRefused, CentralUnavailable, UploadSummary, Uploader

log = logging.getLogger("estation.sync")
IDLE_POLL_S = 5.0


@dataclass
class PassResult:
    upload: UploadSummary
    heartbeat_ok: bool
    error: str | None = None


class SyncRunner:
    def __init__(self, sync_dir: Path) -> None:
        self.sync_dir = sync_dir
        self.enrollment = load_enrollment(sync_dir)
        self.identity = load_identity(sync_dir / KEY_FILE)
        self.client = CentralClient(self.enrollment.central_url, self.identity,
                                    clock_offset_s=self.enrollment.clock_offset_s)
        self.uploader = Uploader(sync_dir, self.enrollment, self.client)

    def close(self) -> None:
        self.client.close()

    def _keep_offset(self) -> None:
        if abs(self.client.clock_offset_s - self.enrollment.clock_offset_s) > 1:
            self.enrollment = self.enrollment.with_offset(self.client.clock_offset_s)
            save_enrollment(self.sync_dir, self.enrollment)

    def run_pass(self, *, heartbeat: bool = True) -> PassResult:
        summary, beat_ok, error = UploadSummary(), False, None
        try:
            summary = self.uploader.upload_once()
            if heartbeat:
                send_heartbeat(self.client, self.sync_dir, self.identity.device_id)
                beat_ok = True
        except (CentralUnavailable, CentralRefused) as exc:
            error = exc.reason
        self._keep_offset()
        return PassResult(summary, beat_ok, error)

    def run_forever(self, *, max_passes: int | None = None) -> None:
        backoff = Backoff()
        last_beat, passes = 0.0, 0
        while max_passes is None or passes < max_passes:
            passes += 1
            due = time.monotonic() - last_beat >= self.enrollment.heartbeat_interval_s
            result = self.run_pass(heartbeat=due)
            if result.heartbeat_ok:
                last_beat = time.monotonic()
            if result.error:
                delay = backoff.next_delay()
                log.warning("sync pass failed", extra={"problem": result.error, "retry_in_s": round(delay, 1)})
            else:
                backoff.reset()
                delay = IDLE_POLL_S
            time.sleep(delay)
