"""Shared statistics for the benches: nearest-rank percentiles and a latency summary."""

from __future__ import annotations

import statistics


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_ms(seconds: list[float]) -> dict:
    """n, p50/p90/p99/max/mean in milliseconds of samples given in seconds."""
    ms = [v * 1000 for v in seconds]
    return {"n": len(ms), "p50_ms": round(nearest_rank(ms, 0.5), 3), "p90_ms": round(nearest_rank(ms, 0.9), 3),
            "p99_ms": round(nearest_rank(ms, 0.99), 3), "max_ms": round(max(ms), 3),
            "mean_ms": round(statistics.fmean(ms), 3)}
