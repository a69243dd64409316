"""Heartbeats (SYNC.md §6): version, feeds, outbox, peripherals, disk, uptime — never personal data."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from sync.client import CentralClient
from sync.outbox import SpoolDirs
from sync.protocol.timefmt import format_unix

SOFTWARE_VERSION = "0.1.0"
PERIPHERALS_FILE = "peripherals.json"  # written by the UI process; absent → nothing known
DEFAULT_PERIPHERALS = {"id_reader": "absent", "printer": "absent", "io_board": "absent", "tamper": "unknown"}


def outbox_state(dirs: SpoolDirs, now: float) -> dict[str, int]:
    pending = dirs.pending()
    oldest = min((p.stat().st_mtime for p in pending), default=now)
    return {"depth": len(pending), "oldest_age_s": max(0, int(now - oldest)), "quarantined": len(dirs.quarantined())}


def _peripherals(sync_dir: Path) -> dict[str, str]:
    try:
        reported = json.loads((sync_dir / PERIPHERALS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(DEFAULT_PERIPHERALS)
    return {k: reported.get(k, v) if isinstance(reported, dict) else v for k, v in DEFAULT_PERIPHERALS.items()}


def _uptime_s() -> int:
    try:
        return int(float(Path("/proc/uptime").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return 0


def build_heartbeat(sync_dir: Path, device_id: str, now: float, feeds: dict[str, Any] | None = None,
                    refusals: dict[str, Any] | None = None) -> dict[str, Any]:
    """SYNC.md §6's body plus our `feed_refusals` extension (a top-level key §6 says to ignore)."""
    return {
        "device_id": device_id, "sent_at": format_unix(now), "software_version": SOFTWARE_VERSION,
        "feeds": feeds or {}, "outbox": outbox_state(SpoolDirs(sync_dir), time.time()),
        "peripherals": _peripherals(sync_dir), "disk_free_bytes": shutil.disk_usage(sync_dir).free,
        "uptime_s": _uptime_s(), "feed_refusals": refusals or {},
    }


def send_heartbeat(client: CentralClient, sync_dir: Path, device_id: str,
                   feeds: dict[str, Any] | None = None, refusals: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST one heartbeat; returns central's answer body; raises on anything but 200."""
    from sync.uploader import CentralRefused, CentralUnavailable

    import httpx
    try:
        answer = client.request("POST", "/v1/heartbeats", build_heartbeat(sync_dir, device_id, client.now(), feeds,
                                                                       refusals))
    except httpx.HTTPError as exc:
        raise CentralUnavailable(f"central unreachable: {type(exc).__name__}") from None
    if answer.status == 429 or answer.status >= 500:
        raise CentralUnavailable(f"heartbeat: central answered {answer.status}")
    if answer.status != 200:
        raise CentralRefused(f"heartbeat refused: {answer.status} {answer.error or ''}".strip())
    return answer.body
