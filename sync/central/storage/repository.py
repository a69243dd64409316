"""The one repository interface over both engines: keyword-only methods, one transaction each.

Times: `*_at` columns hold SYNC.md time text (what the API shows); `last_seen`,
`received`, `seen`, `expires_at` hold Unix seconds (what the code compares).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sync.central.storage.engines import Conflict, StorageUnavailable, ValueRefused
from sync.central.storage.schema import SCHEMA_VERSION, statements

NONCE_TTL_S = 600
HEARTBEAT_HISTORY_S = 7 * 86400
CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    public_key: bytes
    token_hash: str
    label: str
    hardware_id: str
    software_version: str
    enrolled_at: str
    revoked_at: str | None
    revoke_reason: str | None
    last_seen: float | None
    last_heartbeat: str | None


_DEVICE_COLUMNS = ("device_id, public_key, token_hash, label, hardware_id, software_version, enrolled_at, "
                   "revoked_at, revoke_reason, last_seen, last_heartbeat")


def _storable(params: Sequence[Any]) -> tuple[Any, ...]:
    """The parameters, or ValueRefused for text with a NUL: PostgreSQL cannot store one, and SQLite
    must answer the same (a kiosk's hardware_id, an operator's label, a device id in a path)."""
    values = tuple(params)
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise ValueRefused("text with a NUL character")
    return values


def _device(row: Sequence[Any] | None) -> DeviceRow | None:
    return None if row is None else DeviceRow(row[0], bytes(row[1]), *row[2:])


@dataclass
class IngestItem:
    """One record that passed rules 1-3, with rule 6 already decided (pure crypto)."""

    index: int
    record_id: str
    seq: int
    kind: str
    record_sha256: str
    record_text: str
    payload_error: tuple[int, str, str] | None  # (status, code, detail) of rule 6, or None


@dataclass
class IngestOutcome:
    index: int
    status: int
    error: str | None = None
    detail: str = ""
    receipt_text: str | None = None


class Repository:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    # ------------------------------------------------------------- plumbing

    def _run(self, work: Callable[[Callable[..., Any]], Any], *, reads_then_one_write: bool = False) -> Any:
        """Run `work(execute)` in one transaction, retrying on concurrent unique conflicts.

        `reads_then_one_write`: `work` only reads, then writes with at most one statement, and a
        conflict in that write retries the whole of it.  Where one statement is atomic on its own
        (PostgreSQL: a COPY commits whole or not at all) it then runs in autocommit, without the
        BEGIN and COMMIT round trips (two of six per ingest request)."""
        autocommit = reads_then_one_write and self.engine.statement_is_atomic
        for attempt in range(CONFLICT_RETRIES):
            try:
                with (self.engine.statement() if autocommit else self.engine.transaction()) as conn:
                    def execute(query: str, params: Sequence[Any] = ()) -> Any:
                        return conn.execute(self.engine.sql(query), _storable(params))

                    def insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
                        self.engine.insert_rows(conn, table, columns, rows)
                    execute.insert_rows = insert_rows  # type: ignore[attr-defined]
                    return work(execute)
            except Conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise StorageUnavailable("too many concurrent conflicts") from None
        raise AssertionError("unreachable")

    def _single(self, query: str, params: Sequence[Any] = (), *, fetch: str = "one", relaxed: bool = False) -> Any:
        """One statement on its own, in autocommit: the row ("one"), rows ("all") or rowcount."""
        try:
            with self.engine.statement(relaxed=relaxed) as conn:
                cursor = conn.execute(self.engine.sql(query), _storable(params))
                if fetch == "one":
                    return cursor.fetchone()
                return cursor.fetchall() if fetch == "all" else cursor.rowcount
        except Conflict:  # a serialization failure or deadlock on its own: 503, the device retries
            raise StorageUnavailable("concurrent conflict") from None

    def migrate(self) -> None:
        def work(ex):
            if self.engine.migrate_lock:
                ex(self.engine.migrate_lock)
            for statement in statements(self.engine.types):
                ex(statement)
            if ex("SELECT version FROM schema_meta").fetchone() is None:
                ex("INSERT INTO schema_meta (version) VALUES (?)", (SCHEMA_VERSION,))
        self._run(work)

    def close(self) -> None:
        self.engine.close()

    def healthy(self) -> bool:
        try:
            return self._run(lambda ex: ex("SELECT 1").fetchone()[0] == 1)
        except StorageUnavailable:
            return False

    # ------------------------------------------------------------- central keys

    def central_keys(self) -> list[tuple[str, str, bytes, int]]:
        """(key_id, purpose, private, retired) oldest first."""
        rows = self._run(lambda ex: ex("SELECT key_id, purpose, private, retired FROM central_keys "
                                       "ORDER BY created_at, key_id").fetchall())
        return [(r[0], r[1], bytes(r[2]), r[3]) for r in rows]

    def ensure_central_keys(self, make: Callable[[str], tuple[str, bytes]], now_text: str) -> None:
        """Create each missing purpose's key once, even with several workers starting together."""
        def work(ex):
            if self.engine.migrate_lock:
                ex(self.engine.migrate_lock)
            have = {r[0] for r in ex("SELECT purpose FROM central_keys WHERE retired = 0").fetchall()}
            for purpose in ("receipt", "record", "feed"):
                if purpose not in have:
                    kid, private = make(purpose)
                    ex("INSERT INTO central_keys (key_id, purpose, private, created_at) VALUES (?, ?, ?, ?)",
                       (kid, purpose, private, now_text))
        self._run(work)

    def replace_central_key(self, *, purpose: str, key_id: str, private: bytes, now_text: str) -> None:
        """Retire the active key of `purpose` (kept for old payloads) and add the new one."""
        def work(ex):
            ex("UPDATE central_keys SET retired = 1 WHERE purpose = ? AND retired = 0", (purpose,))
            ex("INSERT INTO central_keys (key_id, purpose, private, created_at) VALUES (?, ?, ?, ?)",
               (key_id, purpose, private, now_text))
        self._run(work)

    # ------------------------------------------------------------- tokens

    def add_enroll_token(self, *, token_hash: str, label: str, uses: int, expires_at: float, now_text: str) -> None:
        self._run(lambda ex: ex("INSERT INTO enroll_tokens (token_hash, label, uses_left, expires_at, created_at) "
                                "VALUES (?, ?, ?, ?, ?)", (token_hash, label, uses, expires_at, now_text)))

    def add_operator_token(self, *, token_hash: str, now_text: str) -> None:
        self._run(lambda ex: ex("INSERT INTO operator_tokens (token_hash, created_at) VALUES (?, ?)",
                                (token_hash, now_text)))

    def operator_token_known(self, *, token_hash: str) -> bool:
        return self._run(lambda ex: ex("SELECT 1 FROM operator_tokens WHERE token_hash = ?",
                                       (token_hash,)).fetchone()) is not None

    def operator_tokens(self) -> list[tuple[str, str]]:
        """(token hash, created_at), oldest first."""
        return self._run(lambda ex: ex("SELECT token_hash, created_at FROM operator_tokens "
                                       "ORDER BY created_at, token_hash").fetchall())

    def revoke_operator_token(self, *, token_hash: str) -> bool:
        """Delete the token and every dashboard session opened with it, in one transaction."""
        def work(ex):
            ex("DELETE FROM dashboard_sessions WHERE token_hash = ?", (token_hash,))
            return ex("DELETE FROM operator_tokens WHERE token_hash = ?", (token_hash,)).rowcount == 1
        return self._run(work)

    def add_dashboard_session(self, *, session_hash: str, token_hash: str, expires_at: float) -> None:
        self._run(lambda ex: ex("INSERT INTO dashboard_sessions (session_hash, token_hash, expires_at) "
                                "VALUES (?, ?, ?)", (session_hash, token_hash, expires_at)))

    def dashboard_session_valid(self, *, session_hash: str, now: float) -> bool:
        """Not expired, and its operator token not revoked since."""
        return self._run(lambda ex: ex(
            "SELECT 1 FROM dashboard_sessions s JOIN operator_tokens t ON t.token_hash = s.token_hash "
            "WHERE s.session_hash = ? AND s.expires_at > ?", (session_hash, now)).fetchone()) is not None

    def end_dashboard_session(self, *, session_hash: str) -> None:
        self._run(lambda ex: ex("DELETE FROM dashboard_sessions WHERE session_hash = ?", (session_hash,)))

    # ------------------------------------------------------------- enrollment

    def enroll(self, *, device_id: str, public_key: bytes, token_hash: str, hardware_id: str,
               software_version: str, now: float, now_text: str) -> tuple[str, DeviceRow | None]:
        """SYNC.md §3 after the signature: ('revoked'|'again'|'other_token'|'invalid_token'|'created', device)."""
        def work(ex):
            device = _device(ex(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE device_id = ?", (device_id,)).fetchone())
            if device is not None:
                if device.revoked_at is not None:
                    return "revoked", device
                return ("again" if device.token_hash == token_hash else "other_token"), device
            # One guarded statement takes the use: under READ COMMITTED a SELECT then UPDATE let
            # concurrent enrolments all see the last use (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises).
            if ex("UPDATE enroll_tokens SET uses_left = uses_left - 1 "
                  "WHERE token_hash = ? AND uses_left >= 1 AND expires_at > ?", (token_hash, now)).rowcount != 1:
                return "invalid_token", None
            token = ex("SELECT label FROM enroll_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
            ex(f"INSERT INTO devices ({_DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)",
               (device_id, public_key, token_hash, token[0], hardware_id, software_version, now_text))
            return "created", _device(ex(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE device_id = ?",
                                         (device_id,)).fetchone())
        return self._run(work)

    # ------------------------------------------------------------- devices

    def device(self, *, device_id: str) -> DeviceRow | None:
        return _device(self._single(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE device_id = ?", (device_id,)))

    def devices(self) -> list[DeviceRow]:
        rows = self._run(lambda ex: ex(f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY device_id").fetchall())
        return [_device(r) for r in rows]  # type: ignore[misc]

    def revoke(self, *, device_id: str, reason: str | None, now_text: str) -> bool:
        def work(ex):
            if ex("SELECT 1 FROM devices WHERE device_id = ?", (device_id,)).fetchone() is None:
                return False
            ex("UPDATE devices SET revoked_at = ?, revoke_reason = ? WHERE device_id = ? AND revoked_at IS NULL",
               (now_text, reason, device_id))
            return True
        return self._run(work)

    def record_counts(self, *, device_id: str | None = None) -> dict[str, tuple[int, int]]:
        """device_id → (count, max_seq)."""
        where, params = ("WHERE device_id = ?", (device_id,)) if device_id else ("", ())
        rows = self._run(lambda ex: ex(f"SELECT device_id, COUNT(*), MAX(seq) FROM records {where} "
                                       "GROUP BY device_id", params).fetchall())
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def count_records(self) -> int:
        return int(self._run(lambda ex: ex("SELECT COUNT(*) FROM records").fetchone()[0]))

    def records_since(self, *, since_text: str) -> dict[str, int]:
        """device_id → records received at or after `since_text` (time text sorts as time)."""
        rows = self._run(lambda ex: ex("SELECT device_id, COUNT(*) FROM records WHERE received_at >= ? "
                                       "GROUP BY device_id", (since_text,)).fetchall())
        return {r[0]: int(r[1]) for r in rows}

    # ------------------------------------------------------------- nonces

    def use_nonce(self, *, device_id: str, nonce: str, now: float) -> bool:
        """False when (device, nonce) was seen in the last 600 s; shared by all workers via the DB.

        Committed without waiting for the disk (relaxed): a crash may forget the nonces of its last
        moments, and a request captured then could be replayed once more within the 300 s skew
        window, which changes nothing (ingest is idempotent, a heartbeat or feed fetch harmless).
        Waiting for that flush cost a second fsync per request on top of the ingest's commit."""
        return self._single("INSERT INTO nonces (device_id, nonce, seen) VALUES (?, ?, ?) "
                            "ON CONFLICT (device_id, nonce) DO UPDATE SET seen = excluded.seen "
                            "WHERE nonces.seen < ?", (device_id, nonce, now, now - NONCE_TTL_S), fetch="rowcount",
                            relaxed=True) == 1

    def admit(self, *, device_id: str, nonce: str, now: float) -> str:
        """The rest of a request's authentication once its signature verified with the device's
        (cached) key: `unknown`, `revoked`, `replayed` or `ok` (and then the nonce is used).
        One statement on PostgreSQL, where each round trip showed in the ingest figures."""
        if self.engine.name != "postgresql":
            device = self.device(device_id=device_id)
            if device is None:
                return "unknown"
            if device.revoked_at is not None:
                return "revoked"
            return "ok" if self.use_nonce(device_id=device_id, nonce=nonce, now=now) else "replayed"
        known, revoked, used = self._single(
            "WITH d AS (SELECT revoked_at FROM devices WHERE device_id = ?), "
            "n AS (INSERT INTO nonces (device_id, nonce, seen) SELECT ?, ?, ? "
            "      WHERE EXISTS (SELECT 1 FROM d WHERE revoked_at IS NULL) "
            "      ON CONFLICT (device_id, nonce) DO UPDATE SET seen = excluded.seen WHERE nonces.seen < ? "
            "      RETURNING 1) "
            "SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM d WHERE revoked_at IS NOT NULL), "
            "(SELECT count(*) FROM n)", (device_id, device_id, nonce, now, now - NONCE_TTL_S), relaxed=True)
        return "unknown" if not known else "revoked" if revoked else "ok" if used else "replayed"

    def prune(self, *, now: float) -> None:
        def work(ex):
            ex("DELETE FROM nonces WHERE seen < ?", (now - NONCE_TTL_S,))
            ex("DELETE FROM heartbeats WHERE received < ?", (now - HEARTBEAT_HISTORY_S,))
            ex("DELETE FROM dashboard_sessions WHERE expires_at <= ?", (now,))
        self._run(work)

    # ------------------------------------------------------------- records

    def ingest(self, *, device_id: str, items: list[IngestItem], received_at: str,
               make_receipt: Callable[[IngestItem], str]) -> list[IngestOutcome]:
        """Rules 4, 5, 6, 7 of SYNC.md §5, in order; the records are committed before it returns
        (a bulk insert that stores the batch whole or not at all).

        Optimistic: a batch is almost always new, so the first attempt inserts without looking
        anything up.  If any record is already there (a replay after a lost answer, a reused seq,
        a racing upload), the insert fails whole, and the retry looks the batch up and applies
        the rules to what it finds.  A batch with a payload error always looks up first: such a
        record is not inserted, so only the look-up can rank rules 4 and 5 before rule 6 for it."""
        optimistic = [not any(item.payload_error for item in items)]

        def work(ex):
            if optimistic[0]:
                optimistic[0] = False  # a retry looks up
                return decide({}, {}, ex)
            # One look-up for the whole batch, then the rules in memory, then one bulk insert:
            # per-record round trips made PostgreSQL ingest latency-bound.  One statement is one
            # snapshot: look-ups by id and by seq in two statements could straddle a racing commit
            # of this very batch (READ COMMITTED) and call it a seq conflict.  A concurrent insert
            # of the same id/seq makes the bulk insert fail → Conflict → the whole transaction is
            # retried and then sees it.  (≤ 1,002 parameters: SQLite ≥ 3.32 allows 32,766, Debian 12
            # ships 3.40; PostgreSQL 65,535.)
            stored: dict[str, tuple[str, str]] = {}
            seqs: dict[int, str] = {}
            ids, numbers = [i.record_id for i in items], [i.seq for i in items]
            if self.engine.name == "postgresql":  # arrays: one statement text for every batch size
                lookup = ("record_id = ANY(?) OR (device_id = ? AND seq = ANY(?))", (ids, device_id, numbers))
            else:
                lookup = (f"record_id IN ({','.join('?' * len(ids))}) "
                          f"OR (device_id = ? AND seq IN ({','.join('?' * len(numbers))}))", (*ids, device_id, *numbers))
            for rid, seq, sha, receipt, mine in ex(
                    f"SELECT record_id, seq, record_sha256, receipt, device_id = ? FROM records WHERE {lookup[0]}",
                    (device_id, *lookup[1])).fetchall():
                stored[rid] = (sha, receipt)
                if mine:
                    seqs[int(seq)] = rid
            return decide(stored, seqs, ex)

        def decide(stored: dict[str, tuple[str, str]], seqs: dict[int, str], ex) -> list[IngestOutcome]:
            outcomes, rows = [], []
            for item in items:
                if item.record_id in stored:
                    sha, receipt = stored[item.record_id]
                    if sha == item.record_sha256:
                        outcomes.append(IngestOutcome(item.index, 200, receipt_text=receipt))
                    else:
                        outcomes.append(IngestOutcome(item.index, 409, "conflict",
                                                      "record_id already stored with other content"))
                    continue
                if item.seq in seqs:
                    outcomes.append(IngestOutcome(item.index, 409, "seq_conflict",
                                                  "seq already stored under another record_id"))
                    continue
                if item.payload_error is not None:
                    status, code, detail = item.payload_error
                    outcomes.append(IngestOutcome(item.index, status, code, detail))
                    continue
                receipt = make_receipt(item)
                rows.append((item.record_id, device_id, item.seq, item.kind, item.record_sha256, item.record_text,
                             received_at, receipt))
                stored[item.record_id] = (item.record_sha256, receipt)  # later items of the batch see it
                seqs[item.seq] = item.record_id
                outcomes.append(IngestOutcome(item.index, 201, receipt_text=receipt))
            if rows:
                ex.insert_rows("records", ("record_id", "device_id", "seq", "kind", "record_sha256", "record",
                                           "received_at", "receipt"), rows)
            return outcomes
        return self._run(work, reads_then_one_write=True)

    def stored_record(self, *, record_id: str) -> tuple[str, str] | None:
        """(record text, receipt text) as stored, for readers and audits."""
        row = self._run(lambda ex: ex("SELECT record, receipt FROM records WHERE record_id = ?",
                                      (record_id,)).fetchone())
        return None if row is None else (row[0], row[1])

    def record_ids(self) -> list[str]:
        return [r[0] for r in self._run(lambda ex: ex("SELECT record_id FROM records").fetchall())]

    # ------------------------------------------------------------- heartbeats

    def store_heartbeat(self, *, device_id: str, body: dict[str, Any], now: float) -> None:
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

        def work(ex):
            ex("UPDATE devices SET last_seen = ?, last_heartbeat = ? WHERE device_id = ?", (now, text, device_id))
            ex("INSERT INTO heartbeats (device_id, received, body) VALUES (?, ?, ?)", (device_id, now, text))
        self._run(work)

    # ------------------------------------------------------------- feeds

    def latest_feed(self, *, name: str) -> tuple[int, str, str, int] | None:
        """(version, snapshot text, content text, expires_in_s) of the newest version."""
        row = self._run(lambda ex: ex("SELECT version, snapshot, content, expires_in_s FROM feeds WHERE name = ? "
                                      "ORDER BY version DESC LIMIT 1", (name,)).fetchone())
        return None if row is None else (int(row[0]), row[1], row[2], int(row[3]))

    def feed_names(self) -> list[str]:
        return [r[0] for r in self._run(lambda ex: ex("SELECT DISTINCT name FROM feeds ORDER BY name").fetchall())]

    def publish_feed(self, *, name: str, build: Callable[[int], str], content_text: str, expires_in_s: int,
                     now_text: str, replacing: int | None = None) -> str:
        """Store version = latest + 1 of `name`; `build(version)` returns the signed snapshot text.
        With `replacing` (a re-sign of that version), when another request has already published a
        newer version, that one is returned and nothing is stored: racing GETs re-sign once."""
        def work(ex):
            row = ex("SELECT MAX(version) FROM feeds WHERE name = ?", (name,)).fetchone()
            latest = int(row[0]) if row and row[0] is not None else 0
            if replacing is not None and latest != replacing:
                return ex("SELECT snapshot FROM feeds WHERE name = ? AND version = ?", (name, latest)).fetchone()[0]
            version = latest + 1
            snapshot = build(version)
            ex("INSERT INTO feeds (name, version, snapshot, content, expires_in_s, published_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", (name, version, snapshot, content_text, expires_in_s, now_text))
            return snapshot
        return self._run(work)

    def rotations(self) -> list[str]:
        return [r[0] for r in self._run(lambda ex: ex("SELECT rotation FROM feed_rotations ORDER BY seq").fetchall())]

    def rotate_feed_key(self, *, old_key_id: str, build: Callable[[int], str], new_key_id: str,
                        new_private: bytes, now_text: str) -> str | None:
        """Link, retire `old_key_id`, add the new key: one transaction, so a crash or a second rotation
        at the same moment can never fork the chain.  None when `old_key_id` is no longer the active
        feed key (another rotation won; nothing is written)."""
        def work(ex):
            if ex("UPDATE central_keys SET retired = 1 WHERE purpose = 'feed' AND retired = 0 AND key_id = ?",
                  (old_key_id,)).rowcount != 1:
                return None
            row = ex("SELECT MAX(seq) FROM feed_rotations").fetchone()
            seq = (int(row[0]) if row and row[0] is not None else 0) + 1
            text = build(seq)
            ex("INSERT INTO feed_rotations (seq, rotation) VALUES (?, ?)", (seq, text))
            ex("INSERT INTO central_keys (key_id, purpose, private, created_at) VALUES (?, 'feed', ?, ?)",
               (new_key_id, new_private, now_text))
            return text
        return self._run(work)


__all__ = ["Repository", "StorageUnavailable", "DeviceRow", "IngestItem", "IngestOutcome"]
