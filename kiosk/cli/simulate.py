"""`estation simulate --kiosks N --central URL [--records M] [--seconds S]`: a simulated fleet.

Simulated kiosks enroll (one multi-use token from `--operator-token` via POST /v1/enroll-tokens,
or a `--token` made with `estation-central token create --uses N`), send sealed records and
heartbeats, then keep beating every `--beat` seconds until `--seconds` are up.  Loopback centrals
only; prints one JSON summary line; exit 0 when every kiosk enrolled and every pass succeeded.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from kiosk.cli.args import bounded


def register(subparsers: Any) -> None:
    from sync.simulate import MAX_KIOSKS, MAX_RECORDS, MAX_SECONDS

    p = subparsers.add_parser("simulate", help="run simulated kiosks against a central on loopback",
                              description="Simulated kiosks enroll, send records and heartbeats (bounded, "
                                          "loopback only).")
    p.add_argument("--kiosks", required=True, type=bounded(1, MAX_KIOSKS), metavar="N")
    p.add_argument("--central", required=True, metavar="URL", help="http://127.0.0.1:PORT (loopback only)")
    p.add_argument("--records", type=bounded(0, MAX_RECORDS), default=5, metavar="M", help="records per kiosk")
    p.add_argument("--seconds", type=bounded(0.1, MAX_SECONDS, float), default=10.0, metavar="S",
                   help="stop after S seconds (default 10)")
    p.add_argument("--beat", type=bounded(0.1, 3600, float), default=None, metavar="S",
                   help="heartbeat interval (default: central's)")
    p.add_argument("--operator-token", default=None, metavar="T",
                   help="operator token (default $ESTATION_OPERATOR_TOKEN) to create the enrollment token")
    p.add_argument("--token", default=None, metavar="T", help="an enrollment token with at least N uses instead")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep the simulated kiosks' files here (default: a temp dir, removed)")
    p.add_argument("--seed", type=int, default=None, help="random seed (peripherals, kinds)")
    p.set_defaults(handler=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    from sync.simulate import simulate

    summary = simulate(central_url=args.central, kiosks=args.kiosks, records=args.records, seconds=args.seconds,
                       operator_token=args.operator_token or os.environ.get("ESTATION_OPERATOR_TOKEN"),
                       token=args.token, beat_s=args.beat, work_dir=args.data_dir, seed=args.seed)
    print(summary.as_json())
    return 0 if summary.enrolled == args.kiosks and summary.failed_passes == 0 else 1
