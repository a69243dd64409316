"""ID-card reader: decode throughput, last-byte -> CardRead latency over a pty, unplug recovery.

Baselines measured in the same run:
  * decode: the bare UTF-16LE decode of the text block (the least any decoder must do);
  * latency: a bare pty hop (write the reply on the master, a thread blocked in
    pyserial's read wakes with the last byte), the floor the OS and Python impose;
  * recovery: the reconnect interval the transport is configured with.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from bench.stats import summary_ms
from drivers.idcard.events import CardRead, CardRemoved, ReaderConnected
from drivers.idcard.protocol import build_read_response, decode_frame
from drivers.idcard.sim import SimulatedReader
from drivers.idcard.transport import CardReader, open_serial

CARDS = json.loads((Path(__file__).parents[1] / "drivers/idcard/sample_cards.json").read_text("utf-8"))
READS = 150
REPLUGS = 10


def _summary_ms(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {**summary_ms(values), "histogram_ms": {f"<{b}": sum(v < b for v in ms) for b in (0.5, 1, 2, 5, 10, 20)}}


def bench_decode(seconds: float = 2.0) -> tuple[float, float]:
    frames = [build_read_response(c) for c in CARDS]
    texts = [f[14:270] for f in frames]

    def rate(work) -> float:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for item in work[0]:
                work[1](item)
            n += len(work[0])
        return n / (time.perf_counter() - start)

    return rate((frames, decode_frame)), rate((texts, lambda t: t.decode("utf-16-le")))


def bench_latency() -> tuple[list[float], list[float]]:
    latencies: list[float] = []
    got = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, CardRead):
            latencies.append(time.perf_counter() - sim.last_reply_done)
            got.set()
        elif isinstance(event, CardRemoved):
            got.set()

    with SimulatedReader() as sim:
        sim.faults.wire_baud, sim.faults.split, sim.faults.split_gap = 115200, 64, 0.0  # USB-serial bursts at wire pace
        with CardReader(sim.port, on_event, poll_interval=0.02, removal_window=0.04, retry_gap=0.02):
            for i in range(READS):
                got.clear()
                sim.place(CARDS[i % len(CARDS)])
                got.wait(5)
                got.clear()
                sim.remove()
                got.wait(5)

    # Baseline: the same 1295-byte reply over a bare pty to a thread blocked in pyserial's read.
    floor: list[float] = []
    with SimulatedReader() as raw:
        port = open_serial(raw.port, 115200)
        frame = build_read_response(CARDS[0])
        for _ in range(READS):
            done = threading.Event()
            stamp: list[float] = []

            def reader() -> None:
                buf = b""
                while len(buf) < len(frame):
                    buf += port.read(max(1, port.in_waiting))
                stamp.append(time.perf_counter())
                done.set()

            thread = threading.Thread(target=reader)
            thread.start()
            os.write(raw._master, frame[:-64])
            sent = time.perf_counter()
            os.write(raw._master, frame[-64:])
            done.wait(5)
            thread.join()
            floor.append(stamp[0] - sent)
        port.close()
    return latencies, floor


def bench_recovery() -> tuple[list[float], float]:
    times: list[float] = []
    connected = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, ReaderConnected):
            connected.set()

    interval = 0.5  # the transport's default
    with SimulatedReader() as sim:
        with CardReader(sim.port, on_event, reconnect_interval=interval):
            connected.wait(5)
            for _ in range(REPLUGS):
                connected.clear()
                sim.unplug()
                time.sleep(0.3)  # the cable is out for a moment
                started = time.perf_counter()
                sim.replug()
                connected.wait(10)
                times.append(time.perf_counter() - started)
    return times, interval


def run() -> dict:
    logging.getLogger("drivers").setLevel(logging.ERROR)  # unplugs are the point here, not news
    decode_rate, bare_rate = bench_decode()
    latencies, floor = bench_latency()
    recovery, interval = bench_recovery()
    lat, base = _summary_ms(latencies), _summary_ms(floor)
    rec = _summary_ms(recovery)
    return {
        "figures": {
            "decode_frames_per_s": round(decode_rate),
            "last_byte_to_card_read": lat,
            "unplug_replug_recovery": rec,
        },
        "baseline": {
            "bare_utf16_decode_per_s": round(bare_rate),
            "bare_pty_hop": base,
            "reconnect_interval_s": interval,
        },
        "ratio": {
            "decode_vs_bare_decode": round(decode_rate / bare_rate, 4),
            "latency_p99_vs_bare_pty_p99": round(lat["p99_ms"] / max(base["p99_ms"], 1e-6), 2),
        },
        "targets": {"last_byte_to_card_read_p99_ms": 10, "recovery_max_s": 2.0},
        "met": {
            "last_byte_to_card_read_p99_ms": lat["p99_ms"] <= 10,
            "recovery_max_s": rec["max_ms"] / 1000 <= 2.0,
        },
        "notes": "reads through a pty at 115200-baud wire pace in 64-byte bursts; sample deck of 8 cards",
    }
