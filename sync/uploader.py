"""The uploader (SYNC.md §5, sync process): send spooled records, keep receipts, quarantine refusals.

A record file is deleted only after its receipt verified with the pinned receipt key and was
stored durably.  Per-record 4xx → quarantine (kept, counted, never retried); 5xx, 429, 503
and network failures → the whole batch is retried later with exponential backoff + jitter.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kiosk.errors import EstationError
from sync.client import CentralClient
from sync.durable import move_durably, remove_durably, write_durably
from sync.enrollment import Enrollment
from sync.outbox import RECEIPT_SUFFIX, REASON_SUFFIX, SpoolDirs, seq_name, seq_of
from sync.protocol.jsonprofile import canonical, parse_profile
from sync.protocol.records import receipt_problem

log = logging.getLogger("estation.sync.uploader")
BACKOFF_CAP_S = 300.0


class CentralUnavailable(EstationError, ConnectionError):
    """No usable answer (network, 5xx, 429): nothing is known; resend later."""

    message_id = "error.sync.unavailable"


class CentralRefused(EstationError, PermissionError):
    """The request itself was refused (auth, revoked...): records are fine, the device is not."""

    message_id = "error.sync.refused"


class Backoff:
    """Exponential backoff with full jitter, capped (AWS architecture blog's "full jitter")."""

    def __init__(self, base_s: float = 1.0, cap_s: float = BACKOFF_CAP_S, rng: random.Random | None = None) -> None:
        self.base_s, self.cap_s = base_s, cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.failures, 30))
        self.failures += 1
        return self._rng.uniform(ceiling / 2, ceiling)  # half-jitter: never hammer right away

    def reset(self) -> None:
        self.failures = 0


@dataclass
class UploadSummary:
    sent: int = 0
    stored: int = 0  # receipts verified and kept, records deleted
    quarantined: int = 0
    bad_receipts: int = 0
    errors: list[str] = field(default_factory=list)


class Uploader:
    def __init__(self, sync_dir: Path, enrollment: Enrollment, client: CentralClient) -> None:
        self.dirs = SpoolDirs(sync_dir)
        self.dirs.create()
        self.enrollment = enrollment
        self.client = client
        self._receipt_key = enrollment.receipt_public()
        self.batch_limit = enrollment.max_batch

    def _batch(self, pending: list[Path]) -> list[tuple[Path, dict[str, Any], bytes]]:
        batch, size = [], len(b'{"records":[]}')
        for path in pending[: self.batch_limit]:
            raw = path.read_bytes()
            if batch and size + len(raw) + 1 > self.enrollment.max_body_bytes:
                break
            batch.append((path, parse_profile(raw), raw))
            size += len(raw) + 1
        return batch

    def upload_once(self) -> UploadSummary:
        """Send every pending record (in batches); raises CentralUnavailable / CentralRefused."""
        summary = UploadSummary()
        while True:
            pending = self.dirs.pending()
            if not pending:
                return summary
            batch = self._batch(pending)
            progressed = self._send(batch, summary)
            if not progressed:
                return summary

    def _send(self, batch: list[tuple[Path, dict[str, Any], bytes]], summary: UploadSummary) -> bool:
        body = {"records": [record for _, record, _ in batch]}
        try:
            answer = self.client.request("POST", "/v1/records", body)
        except httpx.HTTPError as exc:
            raise CentralUnavailable(f"central unreachable: {type(exc).__name__}") from None
        summary.sent += len(batch)
        if answer.status in (413,) and answer.error in ("body_too_large", "batch_too_large") and len(batch) > 1:
            self.batch_limit = max(1, len(batch) // 2)  # central's limits are lower than announced
            return True
        if answer.status == 429 or answer.status >= 500:
            raise CentralUnavailable(f"central answered {answer.status} {answer.error or ''}".strip())
        if answer.status != 200 or not isinstance(answer.body, dict) or \
                not isinstance(answer.body.get("results"), list) or len(answer.body["results"]) != len(batch):
            raise CentralRefused(f"central refused the upload: {answer.status} {answer.error or ''}".strip())
        progressed = False
        for (path, record, _), result in zip(batch, answer.body["results"]):
            progressed |= self._settle(path, record, result, summary)
        return progressed

    def _settle(self, path: Path, record: dict[str, Any], result: Any, summary: UploadSummary) -> bool:
        status = result.get("status") if isinstance(result, dict) else None
        if status in (200, 201):
            receipt = result.get("receipt")
            problem = receipt_problem(receipt, record, self._receipt_key)
            if problem:
                # Keep the record: the receipt proves nothing, so the record must not be dropped.
                summary.bad_receipts += 1
                summary.errors.append(problem)
                log.warning("receipt refused", extra={"seq": record["signed"]["seq"], "problem": problem})
                return False
            seq = record["signed"]["seq"]
            write_durably(self.dirs.receipts, seq_name(seq, RECEIPT_SUFFIX), canonical(receipt))
            remove_durably(path)
            summary.stored += 1
            return True
        if isinstance(status, int) and 400 <= status < 500:
            reason = {"status": status, "error": result.get("error"), "record_id": record["signed"]["record_id"]}
            write_durably(self.dirs.quarantine, seq_name(seq_of(path.name) or 0, REASON_SUFFIX),
                          json.dumps(reason).encode("utf-8"))
            move_durably(path, self.dirs.quarantine)
            summary.quarantined += 1
            log.warning("record quarantined", extra={"seq": record["signed"]["seq"], "status": status,
                                                     "error": result.get("error")})
            return True
        raise CentralUnavailable(f"central answered status {status!r} for a record")
