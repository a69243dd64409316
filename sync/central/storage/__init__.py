"""Storage behind one repository interface: SQLite (default, embedded) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from sync.central.storage.repository import Repository, StorageUnavailable, ValueRefused


def open_repository(url: str) -> Repository:
    """`sqlite:///PATH` or `postgresql://…`; creates or migrates the schema."""
    if url.startswith("sqlite:///"):
        from sync.central.storage.engines import SqliteEngine
        engine = SqliteEngine(url.removeprefix("sqlite:///"))
    elif url.startswith(("postgresql://", "postgres://")):
        from sync.central.storage.engines import PostgresEngine
        engine = PostgresEngine(url)
    else:
        raise ValueError("database URL must be sqlite:///PATH or postgresql://…")
    repo = Repository(engine)
    repo.migrate()
    return repo


__all__ = ["Repository", "StorageUnavailable", "ValueRefused", "open_repository"]
