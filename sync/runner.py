"""`estation sync`: the sync process's loop — upload, heartbeat, back off, repeat.

Each pass first makes sure the job index is searchable (rebuilt from the adopted jobs snapshot
after an upgrade changed its schema, or if it went missing), then uploads, beats and fetches feeds.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync.client import DEFAULT_TIMEOUT, CentralClient
from sync.enrollment import load_enrollment, save_enrollment
from sync.feeds import FeedClient
from sync.heartbeat import send_heartbeat
from sync.identity import load_identity
from sync.provision import KEY_FILE
from sync.uploader import Backoff, CentralRefused, CentralUnavailable, UploadSummary, Uploader

log = logging.getLogger("estation.sync")
IDLE_POLL_S = 5.0
PASS_LOCK = ".pass.lock"


@dataclass
class PassResult:
    upload: UploadSummary
    heartbeat_ok: bool
    error: str | None = None
    feeds: dict[str, str] = field(default_factory=dict)  # name → outcome (adopted, unchanged, a refusal...)
    job_index: str = "current"  # FeedClient.ensure_job_index: current, rebuilt, no_snapshot, or a problem


class SyncRunner:
    def __init__(self, sync_dir: Path, *, poll_s: float = IDLE_POLL_S, backoff_cap_s: float | None = None,
                 max_batch: int | None = None, timeout_s: float | None = None,
                 jobs_index: Path | None = None) -> None:
        self.sync_dir = sync_dir
        self.enrollment = load_enrollment(sync_dir)
        self.identity = load_identity(sync_dir / KEY_FILE)
        timeout = DEFAULT_TIMEOUT if timeout_s is None else httpx.Timeout(timeout_s)
        self.client = CentralClient(self.enrollment.central_url, self.identity,
                                    clock_offset_s=self.enrollment.clock_offset_s, timeout=timeout)
        self.uploader = Uploader(sync_dir, self.enrollment, self.client)
        if max_batch is not None:
            self.uploader.batch_limit = max(1, min(max_batch, self.uploader.batch_limit))
        self.feeds = FeedClient(sync_dir, jobs_index=jobs_index)
        self.poll_s = poll_s
        self.backoff_cap_s = backoff_cap_s

    def close(self) -> None:
        self.client.close()

    def _keep_offset(self) -> None:
        if abs(self.client.clock_offset_s - self.enrollment.clock_offset_s) > 1:
            self.enrollment = self.enrollment.with_offset(self.client.clock_offset_s)
            save_enrollment(self.sync_dir, self.enrollment)

    def run_pass(self, *, heartbeat: bool = True) -> PassResult:
        """One pass, alone: a technician's `estation sync --once` waits for the service's pass in
        progress (and the other way round) instead of both uploading, swapping feeds and writing
        enrollment.json at once.  The lock dies with its process, so a crash leaves none behind."""
        fd = os.open(self.sync_dir / PASS_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return self._run_pass(heartbeat=heartbeat)
        finally:
            os.close(fd)

    def _run_pass(self, *, heartbeat: bool) -> PassResult:
        summary, beat_ok, error, feeds = UploadSummary(), False, None, {}
        # First, and offline too: after an upgrade the index may be of an older schema (or gone) and
        # the policy pack directory missing; rebuild both from the adopted snapshots rather than wait
        # for central's next versions.
        try:
            job_index = self.feeds.ensure_job_index()
            self.feeds.ensure_policy_pack()
        except Exception:  # noqa: BLE001 - whatever goes wrong there, the records must still go out
            log.exception("feed upkeep failed; uploading anyway")
            job_index = "index_failed"
        try:
            summary = self.uploader.upload_once()
            if heartbeat:
                answer = send_heartbeat(self.client, self.sync_dir, self.identity.device_id,
                                        self.feeds.heartbeat_feeds(self.client.now()),
                                        self.feeds.heartbeat_refusals())
                beat_ok = True
                latest = answer.get("feeds") if isinstance(answer, dict) else None
                self.enrollment, feeds = self.feeds.refresh(self.client, self.enrollment,
                                                            latest if isinstance(latest, dict) else {})
        except (CentralUnavailable, CentralRefused) as exc:
            error = exc.reason
        self._keep_offset()
        return PassResult(summary, beat_ok, error, feeds, job_index)

    def run_forever(self, *, max_passes: int | None = None) -> None:
        backoff = Backoff() if self.backoff_cap_s is None else Backoff(base_s=min(1.0, self.backoff_cap_s),
                                                                        cap_s=self.backoff_cap_s)
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
                delay = self.poll_s
            time.sleep(delay)
