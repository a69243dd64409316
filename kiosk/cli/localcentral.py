"""A central service on SQLite inside this process, for the demo station (loopback only)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LocalCentral:
    url: str
    central: object  # sync.central.service.Central
    server: object  # uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.central.close()


def start_local_central(db_path: Path, *, heartbeat_interval_s: int = 60) -> LocalCentral:
    import uvicorn

    from sync.central.api.app import serving_app
    from sync.central.service import Central
    from sync.central.settings import Settings

    db_path.parent.mkdir(parents=True, exist_ok=True)
    central = Central(Settings(db_url=f"sqlite:///{db_path}", heartbeat_interval_s=heartbeat_interval_s))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(serving_app(central), log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="local-central", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the local central service did not start")
        time.sleep(0.01)
    return LocalCentral(f"http://127.0.0.1:{port}", central, server, thread)
