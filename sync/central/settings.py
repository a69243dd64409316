"""Central settings: one object, built from the CLI or from the environment (for uvicorn workers)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DB_ENV = "ESTATION_CENTRAL_DB"
HEARTBEAT_ENV = "ESTATION_CENTRAL_HEARTBEAT_S"
DEFAULT_HEARTBEAT_S = 60


@dataclass(frozen=True)
class Settings:
    db_url: str
    heartbeat_interval_s: int = DEFAULT_HEARTBEAT_S
    clock: Callable[[], float] = field(default=time.time, compare=False)  # tests shift time here

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(db_url=os.environ[DB_ENV],
                   heartbeat_interval_s=int(os.environ.get(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_S)))

    def to_env(self) -> dict[str, str]:
        return {DB_ENV: self.db_url, HEARTBEAT_ENV: str(self.heartbeat_interval_s)}
