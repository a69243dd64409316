"""The two SQL engines: connection pool, transactions and dialect, nothing else.

Queries are written once with `?` placeholders (sync/central/storage/repository.py);
PostgreSQL gets them rewritten to `%s`.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

POOL_SIZE = 8


class StorageUnavailable(Exception):
    """The database cannot be reached or is locked out (→ 503 unavailable)."""


class Conflict(Exception):
    """A unique constraint fired in a concurrent transaction: retry the transaction."""


class ValueRefused(Exception):
    """A value no engine can store as given, e.g. text with a NUL character (→ 400 invalid_request)."""


class _Pool:
    def __init__(self, connect, size: int = POOL_SIZE) -> None:
        self._connect = connect
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        self._slots.acquire()
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            broken = False
            try:
                yield conn
            except BaseException:
                broken = True
                raise
            finally:
                if broken:
                    try:
                        conn.close()
                    except Exception:
                        pass
                else:
                    self._idle.put(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class SqliteEngine:
    name = "sqlite"
    types = {"blob": "BLOB", "real": "REAL", "bigint": "INTEGER"}
    migrate_lock = None  # BEGIN IMMEDIATE already serialises migrations
    statement_is_atomic = False  # executemany in autocommit commits row by row

    def __init__(self, path: str) -> None:
        self.path = path
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, mode=0o700, exist_ok=True)
        # The file holds central's private keys (record, receipt, feed): owner only, whatever the
        # umask.  SQLite gives its -wal and -shm files the database file's mode.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if os.fstat(fd).st_uid == os.geteuid():  # an older file: tightened; another owner's: theirs
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        self._pool = _Pool(self._connect)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # a receipt promises a durable commit
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def sql(self, query: str) -> str:
        return query

    def insert_rows(self, conn: sqlite3.Connection, table: str, columns: tuple[str, ...],
                    rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(str(exc)) from exc

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._errors(), self._pool.connection() as conn:
            # IMMEDIATE: take the write lock up front, so writers queue instead of deadlocking.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def statement(self, *, relaxed: bool = False) -> Iterator[Any]:
        """A connection for one statement in autocommit (its own transaction, no BEGIN/COMMIT).
        `relaxed` changes nothing here: a WAL commit's fsync is cheap next to PostgreSQL's round trip."""
        with self._errors(), self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()


class PostgresEngine:
    name = "postgresql"
    types = {"blob": "BYTEA", "real": "DOUBLE PRECISION", "bigint": "BIGINT"}
    migrate_lock = "SELECT pg_advisory_xact_lock(7217001)"  # workers start together
    statement_is_atomic = True  # a COPY in autocommit is one transaction

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self._pool = _Pool(self._connect)
        self._relaxed_pool = _Pool(lambda: self._connect("-c synchronous_commit=off"))

    def _connect(self, options: str = "") -> Any:
        try:
            return self._psycopg.connect(self.url, connect_timeout=10, autocommit=True, options=options)
        except self._psycopg.OperationalError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def insert_rows(self, conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """COPY, not INSERT per row: a third of the server's work per record at ingest rates.
        A duplicate key still fails the whole COPY with UniqueViolation (→ Conflict → retry)."""
        with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        errors = self._psycopg.errors
        try:
            yield
        except (errors.UniqueViolation, errors.SerializationFailure, errors.DeadlockDetected) as exc:
            raise Conflict(str(exc)) from exc
        except self._psycopg.DataError as exc:  # the repository refuses NUL first; this is the backstop
            raise ValueRefused(str(exc)) from exc
        except (self._psycopg.OperationalError, self._psycopg.InterfaceError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._errors(), self._pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def statement(self, *, relaxed: bool = False) -> Iterator[Any]:
        """A connection for one statement in autocommit: one round trip where BEGIN, the statement
        and COMMIT took three (per-request look-ups and the nonce insert are single statements).
        `relaxed`: committed without waiting for the WAL flush (synchronous_commit off), for writes
        a crash may lose without breaking a promise (a nonce; see Repository.use_nonce)."""
        with self._errors(), (self._relaxed_pool if relaxed else self._pool).connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()
        self._relaxed_pool.close()
