"""The outbox (SYNC.md §5, ARCHITECTURE.md "Storage on the kiosk"): implements kiosk.ports.RecordSink.

Layout under the sync directory:
    spool/        one sealed, signed record per file, `<seq:016>.rec` (the only copy until a receipt)
    receipts/     verified receipts, `<seq:016>.receipt`, written before the record is deleted
    quarantine/   records central refused with a 4xx, `<seq:016>.rec` + `.reason`

The appender (UI process) holds an exclusive lock for its lifetime, so seq is allocated by
one writer: the next seq is found once at open (highest seq in any of the three
directories + 1) and advanced only after a record's durable write, so seq gaps mean loss.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import EstationError
from kiosk.ports import RecordDraft
from sync.durable import TMP_PREFIX, write_durably
from sync.enrollment import Enrollment
from sync.identity import DeviceIdentity
from sync.protocol.jsonprofile import canonical, is_profile_value
from sync.protocol.records import build_record, signed_fields_problem
from sync.protocol.sealing import MAX_PAYLOAD

RECORD_SUFFIX = ".rec"
RECEIPT_SUFFIX = ".receipt"
REASON_SUFFIX = ".reason"


class OutboxBusy(EstationError, RuntimeError):
    message_id = "error.sync.outbox_busy"


class RecordRejected(EstationError, ValueError):
    """The draft cannot make a valid record (bad id, kind, version or payload); nothing was stored."""

    message_id = "error.sync.record_rejected"


def seq_name(seq: int, suffix: str) -> str:
    return f"{seq:016d}{suffix}"


def seq_of(name: str) -> int | None:
    stem = name.split(".", 1)[0]
    return int(stem) if len(stem) == 16 and stem.isdigit() else None


@dataclass(frozen=True)
class SpoolDirs:
    root: Path

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def receipts(self) -> Path:
        return self.root / "receipts"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    def create(self) -> None:
        for d in (self.root, self.spool, self.receipts, self.quarantine):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def pending(self) -> list[Path]:
        """Records waiting for a receipt, oldest seq first."""
        return sorted(p for p in self.spool.iterdir() if p.name.endswith(RECORD_SUFFIX) and seq_of(p.name))

    def quarantined(self) -> list[Path]:
        return sorted(p for p in self.quarantine.iterdir() if p.name.endswith(RECORD_SUFFIX))

    def highest_seq(self) -> int:
        best = 0
        for directory in (self.spool, self.receipts, self.quarantine):
            for entry in os.scandir(directory):
                seq = seq_of(entry.name)
                if seq is not None and not entry.name.startswith(TMP_PREFIX):
                    best = max(best, seq)
        return best


class Outbox:
    """kiosk.ports.RecordSink: seal, sign, append durably, then return the seq."""

    def __init__(self, sync_dir: Path, identity: DeviceIdentity, enrollment: Enrollment) -> None:
        self.dirs = SpoolDirs(sync_dir)
        self.dirs.create()
        self._identity = identity
        self._record_public = enrollment.record_public()
        self._lock_fd = os.open(self.dirs.spool / ".append.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise OutboxBusy("another process is appending to this outbox",
                             hint="only the UI process appends; the sync process only sends") from None
        for stale in self.dirs.spool.glob(TMP_PREFIX + "*"):
            stale.unlink()  # a write that never returned: its seq was never handed out
        self._next_seq = self.dirs.highest_seq() + 1

    def append(self, draft: RecordDraft) -> int:
        if self._lock_fd < 0:
            raise EstationError("outbox is closed")
        seq = self._next_seq
        record = build_record(device_key=self._identity.key, device_id=self._identity.device_id,
                              record_public=self._record_public, record_id=draft.record_id, kind=draft.kind,
                              schema_version=draft.schema_version, created_at=draft.created_at, seq=seq,
                              plaintext=draft.payload)
        # What central's rule 1 would refuse, without decoding what was just encoded: the signature
        # and payload are ours, so their b64u is canonical; only the payload's size is left to check.
        problem = signed_fields_problem(record["signed"])
        if problem is None and len(record["signed"]["payload"]) * 3 // 4 > MAX_PAYLOAD:
            problem = f"payload over {MAX_PAYLOAD} bytes"
        if problem or not is_profile_value(draft.payload):
            raise RecordRejected(f"record {draft.record_id!r} would be refused: {problem or 'payload not profile JSON'}")
        write_durably(self.dirs.spool, seq_name(seq, RECORD_SUFFIX), canonical(record))
        self._next_seq = seq + 1  # only after the durable write: a failed append leaves no gap
        return seq

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
