"""Open-loop heartbeat load for the bench (`bench/bench_sync.py`) and capacity checks, loopback only.

A fleet of K enrolled kiosks beating every T seconds sends K/T heartbeats per second on average.
`run_load` replays that arrival rate (or a multiple of it) for a while: heartbeat n is due at
n / rate seconds and comes from kiosk n mod K, each freshly signed (SYNC.md §4: new nonce and
timestamp), on a new TCP connection (a kiosk beating once a minute has no warm keep-alive), written by
sync.rawhttp so the generator takes as little as it can of the cores it shares with the server.
Latency runs from the moment a heartbeat was due, not from when it was sent, so a lagging
generator or a queueing server counts against the figure (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_encode
from sync.protocol.jsonprofile import canonical
from sync.protocol.keys import device_id_of, raw_public
from sync.protocol.request_auth import sign_request
from sync.protocol.timefmt import format_unix
from sync.rawhttp import RawHttpError, post_once
from sync.simulate import loopback_url


@dataclass
class LoadResult:
    rate_per_s: float  # asked for
    sent: int
    ok: int
    errors: int
    achieved_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def enroll_fleet(central, count: int, *, workers: int = 8) -> list[Ed25519PrivateKey]:
    """Enroll `count` new device keys through the real enrollment path (one multi-use token)."""
    from sync.central.enrollment import enroll

    token, _ = central.create_enroll_token(uses=count, ttl_s=3600, label="load")
    keys = [Ed25519PrivateKey.generate() for _ in range(count)]

    def one(key: Ed25519PrivateKey) -> None:
        proof = sig.sign_object(key, sig.ENROLL, {"token": token, "device_key": b64u_encode(raw_public(key)),
                                                  "hardware_id": "load", "software_version": "0.1.0"})
        status, _ = enroll(central, proof)
        assert status == 201

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, keys))
    return keys


def _heartbeat(device_id: str) -> bytes:
    return canonical({
        "device_id": device_id, "sent_at": format_unix(time.time()), "software_version": "0.1.0",
        "feeds": {"jobs": {"version": 3, "expires_at": None, "stale": False}},
        "outbox": {"depth": 0, "oldest_age_s": 0, "quarantined": 0},
        "peripherals": {"id_reader": "ok", "printer": "ok", "io_board": "ok", "tamper": "closed"},
        "disk_free_bytes": 10**10, "uptime_s": 3600})


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _load(url: str, keys: list[Ed25519PrivateKey], rate: float, seconds: float, start_index: int) -> LoadResult:
    ids = [device_id_of(raw_public(k)) for k in keys]
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    t0 = time.perf_counter()

    async def one(n: int) -> None:
        nonlocal errors
        due = t0 + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        k = (start_index + n) % len(keys)
        body = _heartbeat(ids[k])
        headers = sign_request(keys[k], ids[k], "POST", "/v1/heartbeats", body, timestamp=int(time.time()),
                               nonce=os.urandom(16))
        headers["Content-Type"] = "application/json"
        try:
            status, _ = await post_once(url, "/v1/heartbeats", headers, body)
            ok = status == 200
        except (OSError, RawHttpError):
            ok = False
        if ok:
            latencies.append((time.perf_counter() - due) * 1000)
        else:
            errors += 1

    await asyncio.gather(*(one(n) for n in range(total)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return LoadResult(rate, total, len(latencies), errors, round(total / elapsed, 1),
                      round(_percentile(latencies, 0.50), 2), round(_percentile(latencies, 0.99), 2),
                      round(latencies[-1] if latencies else float("nan"), 2))


def run_load(url: str, keys: list[Ed25519PrivateKey], *, rate: float, seconds: float,
             start_index: int = 0) -> LoadResult:
    return asyncio.run(_load(loopback_url(url), keys, rate, seconds, start_index))
