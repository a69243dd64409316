"""`make bench`: run every bench/bench_*.py and write bench/results/<name>.json.

A bench module defines `run() -> dict` returning at least
    {"figures": {...}, "baseline": {...}, "targets": {...}}
where `baseline` was measured in the same run (e.g. a naive implementation),
so results compare like with like on whatever machine ran them.  This module adds
the machine description and timestamps.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    RESULTS.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        result = module.run()
        result.update(
            bench=name,
            machine=machine(),
            measured_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            wall_seconds=round(time.perf_counter() - started, 2),
        )
        out = RESULTS / f"{name.removeprefix('bench_')}.json"
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        missed = [k for k, ok in result.get("met", {}).items() if not ok]
        failed += bool(missed)
        print(f"{name}: wrote {out}" + (f"  (targets missed: {', '.join(missed)})" if missed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
