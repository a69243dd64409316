"""Heartbeats and fleet status (SYNC.md §6, §8): validation, device view D, metrics text."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sync.central.errors import ApiError
from sync.central.service import Central
from sync.central.storage.repository import DeviceRow
from sync.protocol.jsonprofile import MAX_SAFE_INT
from sync.protocol.timefmt import format_unix, is_time

STATUSES = ("revoked", "never_seen", "online", "late", "offline")
FEED_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
PERIPHERALS = {
    "id_reader": ("ok", "fault", "absent"),
    "printer": ("ok", "paper_low", "paper_out", "fault", "absent"),
    "io_board": ("ok", "fault", "absent"),
    "tamper": ("closed", "open", "unknown"),
}
HEARTBEAT_FIELDS = ("device_id", "sent_at", "software_version", "feeds", "outbox", "peripherals",
                    "disk_free_bytes", "uptime_s")
# Our extension: SYNC.md §6 ignores unknown top-level keys, so another central ignores it too.
# {NAME: {"error": refusal code (§7), "at": time}} for each feed whose last offer the kiosk refused.
FEED_REFUSALS = "feed_refusals"
REFUSAL_CODE = re.compile(r"[a-z][a-z_]{0,31}")
log = logging.getLogger("estation.central")
PROBLEMS = {  # what a device's last heartbeat and records show; the dashboard's filters
    "paper_out": "paper out",
    "tamper": "tamper open",
    "reader": "reader fault",
    "backlog": "outbox backlog",
    "quarantine": "quarantined",
    "gaps": "seq gaps",
    "stale_feed": "stale feed",
    "feed_refused": "feed refused",
}
BACKLOG_DEPTH = 50  # records waiting
BACKLOG_AGE_INTERVALS = 5  # oldest unsent older than 5 heartbeat intervals


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SAFE_INT


def heartbeat_problem(body: Any) -> str | None:
    """None when `body` is a valid heartbeat (unknown top-level keys are ignored)."""
    if not isinstance(body, dict):
        return "body is not an object"
    missing = [k for k in HEARTBEAT_FIELDS if k not in body]
    if missing:
        return "missing " + ", ".join(missing)
    if not isinstance(body["device_id"], str) or not is_time(body["sent_at"]):
        return "bad device_id or sent_at"
    if not isinstance(body["software_version"], str) or len(body["software_version"]) > 64:
        return "bad software_version"
    feeds = body["feeds"]
    if not isinstance(feeds, dict) or len(feeds) > 16:
        return "feeds must be an object of at most 16 feeds"
    for name, feed in feeds.items():
        if not FEED_NAME.fullmatch(name) or not isinstance(feed, dict) or set(feed) != {"version", "expires_at",
                                                                                     "stale"}:
            return f"bad feed {name!r}"
        if not _count(feed["version"]) or not isinstance(feed["stale"], bool) or \
                not (feed["expires_at"] is None or is_time(feed["expires_at"])):
            return f"bad feed {name!r}"
    outbox = body["outbox"]
    if not isinstance(outbox, dict) or set(outbox) != {"depth", "oldest_age_s", "quarantined"} or \
            not all(_count(v) for v in outbox.values()):
        return "outbox must be {depth, oldest_age_s, quarantined} of ints ≥ 0"
    peripherals = body["peripherals"]
    if not isinstance(peripherals, dict) or set(peripherals) != set(PERIPHERALS) or \
            any(peripherals[k] not in allowed for k, allowed in PERIPHERALS.items()):
        return "bad peripherals"
    if not _count(body["disk_free_bytes"]) or not _count(body["uptime_s"]):
        return "disk_free_bytes and uptime_s are ints ≥ 0"
    return None


def refusals_problem(value: Any) -> str | None:
    """None when `value` is a valid `feed_refusals` object (≤ 16 feeds, codes only, no free text)."""
    if not isinstance(value, dict) or len(value) > 16:
        return "feed_refusals must be an object of at most 16 feeds"
    for name, refusal in value.items():
        if not FEED_NAME.fullmatch(name) or not isinstance(refusal, dict) or set(refusal) != {"error", "at"} \
                or not isinstance(refusal["error"], str) or not REFUSAL_CODE.fullmatch(refusal["error"]) \
                or not is_time(refusal["at"]):
            return f"bad feed refusal {name!r}"
    return None


def feed_refusals(beat: dict[str, Any]) -> dict[str, Any]:
    """A stored heartbeat's `feed_refusals` when valid, else {} (stored as sent, shown only if valid)."""
    value = beat.get(FEED_REFUSALS)
    return value if value and refusals_problem(value) is None else {}


def record_heartbeat(central: Central, device_id: str, body: Any) -> dict[str, Any]:
    problem = heartbeat_problem(body)
    if problem:
        raise ApiError(400, "invalid_request", problem)
    if body["device_id"] != device_id:
        raise ApiError(403, "device_mismatch", "heartbeat for another device")
    refusal_problem = refusals_problem(body[FEED_REFUSALS]) if FEED_REFUSALS in body else None
    if refusal_problem is not None:
        # An optional extra never costs the heartbeat: the beat counts, the bad extra is not shown.
        log.warning("heartbeat feed_refusals ignored", extra={"device_id": device_id, "problem": refusal_problem})
    # Stored as sent (§8 shows `last_heartbeat` as sent); unknown keys are ignored, not dropped.
    central.repo.store_heartbeat(device_id=device_id, body=body, now=central.now())
    latest = {}
    for name in central.repo.feed_names():
        feed = central.repo.latest_feed(name=name)
        if feed is not None:
            latest[name] = feed[0]
    return {"server_time": central.now_text(), "heartbeat_interval_s": central.settings.heartbeat_interval_s,
            "feeds": latest}


def status_of(device: DeviceRow, now: float, interval_s: int) -> str:
    if device.revoked_at is not None:
        return "revoked"
    if device.last_seen is None:
        return "never_seen"
    age = now - device.last_seen
    if age <= 1.5 * interval_s:
        return "online"
    return "late" if age <= 5 * interval_s else "offline"


def device_view(central: Central, device: DeviceRow, counts: tuple[int, int] | None) -> dict[str, Any]:
    count, max_seq = counts or (0, 0)
    return {
        "device_id": device.device_id, "label": device.label,
        "status": status_of(device, central.now(), central.settings.heartbeat_interval_s),
        "enrolled_at": device.enrolled_at, "revoked_at": device.revoked_at,
        "last_seen_at": None if device.last_seen is None else format_unix(device.last_seen),
        "last_heartbeat": None if device.last_heartbeat is None else json.loads(device.last_heartbeat),
        "records": {"count": count, "max_seq": max_seq if counts else None,
                    "missing": max_seq - count if counts else None},
    }


def all_device_views(central: Central) -> list[dict[str, Any]]:
    counts = central.repo.record_counts()
    return [device_view(central, d, counts.get(d.device_id)) for d in central.repo.devices()]


def problems_of(view: dict[str, Any], interval_s: int) -> tuple[str, ...]:
    """The PROBLEMS a device view shows (dashboard rows and filters, /metrics)."""
    beat = view.get("last_heartbeat") or {}
    peripherals = beat.get("peripherals") or {}
    outbox = beat.get("outbox") or {}
    found = []
    if peripherals.get("printer") == "paper_out":
        found.append("paper_out")
    if peripherals.get("tamper") == "open":
        found.append("tamper")
    if peripherals.get("id_reader") == "fault":
        found.append("reader")
    if outbox.get("depth", 0) >= BACKLOG_DEPTH or \
            outbox.get("oldest_age_s", 0) > BACKLOG_AGE_INTERVALS * interval_s:
        found.append("backlog")
    if outbox.get("quarantined", 0) > 0:
        found.append("quarantine")
    if (view["records"]["missing"] or 0) > 0:
        found.append("gaps")
    if any(f.get("stale") for f in (beat.get("feeds") or {}).values()):
        found.append("stale_feed")
    if feed_refusals(beat):
        found.append("feed_refused")
    return tuple(found)


def metrics_text(central: Central) -> str:
    """Counts only, labels from fixed sets: no device ids, nothing a kiosk sent as text."""
    by_status, by_problem = dict.fromkeys(STATUSES, 0), dict.fromkeys(PROBLEMS, 0)
    for view in all_device_views(central):
        by_status[view["status"]] += 1
        if view["status"] != "revoked":
            for problem in problems_of(view, central.settings.heartbeat_interval_s):
                by_problem[problem] += 1
    lines = ["# HELP estation_records_total Records stored (accepted) by central.",
             "# TYPE estation_records_total counter",
             f"estation_records_total {central.repo.count_records()}",
             "# HELP estation_devices Enrolled devices by fleet status.",
             "# TYPE estation_devices gauge"]
    lines += [f'estation_devices{{status="{s}"}} {n}' for s, n in by_status.items()]
    lines += ["# HELP estation_devices_with_problem Enrolled, unrevoked devices showing a problem "
              "(as on the dashboard; a device may show several).",
              "# TYPE estation_devices_with_problem gauge"]
    lines += [f'estation_devices_with_problem{{problem="{p}"}} {n}' for p, n in by_problem.items()]
    return "\n".join(lines) + "\n"
