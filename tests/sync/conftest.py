"""Fixtures for the sync tests: a real PostgreSQL (Debian binaries, as `postgres`), a real
uvicorn on 127.0.0.1, and a provisioned kiosk directory.  No mocks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from sync.central.api.app import serving_app
from sync.central.service import Central
from sync.central.settings import Settings

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd: str, cwd: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *cmd], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL 15 cluster; initdb refuses root, so it runs as `postgres`
    in a /tmp directory that user owns (pytest's tmp_path is 0700 root)."""
    if not os.path.exists(f"{PG_BIN}/initdb"):
        pytest.fail("PostgreSQL 15 binaries missing: apt-get install postgresql-15")
    base = tempfile.mkdtemp(prefix="estation-pg-")
    data, sock = f"{base}/data", f"{base}/sock"
    os.mkdir(sock)
    for d in (base, sock):
        shutil.chown(d, "postgres", "postgres")
    port = free_port()
    _as_postgres(f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync", cwd=base)
    _as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-l", f"{base}/log", "-w", "start", "-o",
                 f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                 cwd=base)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "stop", cwd=base)
        shutil.rmtree(base, ignore_errors=True)


_pg_dbs = iter(range(1, 10**6))


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request, tmp_path) -> str:
    """A fresh database per test: SQLite file, or a new database in the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/central.db"
    import psycopg

    base = request.getfixturevalue("pg_url")
    name = f"t{next(_pg_dbs)}_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


class ShiftableClock:
    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


@dataclass
class RunningCentral:
    url: str
    central: Central
    clock: ShiftableClock
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.central.close()


def start_central(db_url: str, *, heartbeat_interval_s: int = 60) -> RunningCentral:
    clock = ShiftableClock()
    central = Central(Settings(db_url=db_url, heartbeat_interval_s=heartbeat_interval_s, clock=clock))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(serving_app(central), log_config=None, access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return RunningCentral(f"http://127.0.0.1:{port}", central, clock, server, thread)


@pytest.fixture
def central(db_url) -> Iterator[RunningCentral]:
    running = start_central(db_url)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sqlite_central(tmp_path) -> Iterator[RunningCentral]:
    """A central on SQLite only, for tests about the kiosk side (a module opts in by
    overriding `central` with it)."""
    running = start_central(f"sqlite:///{tmp_path}/central.db")
    yield running
    running.stop()


@pytest.fixture
def kiosk(central, tmp_path) -> Path:
    """A kiosk's sync dir, provisioned against `central` through the real enrollment."""
    from sync.provision import provision

    token, _ = central.central.create_enroll_token()
    sync_dir = tmp_path / "data" / "sync"
    provision(sync_dir=sync_dir, central_url=central.url, token=token)
    return sync_dir
