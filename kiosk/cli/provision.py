"""`estation provision --central URL --token T [--central-pub HEX]` (SYNC.md §3).

Makes the device key if absent (mode 0600), enrolls it with a one-time token and pins
central's receipt and feed keys.  Files go to DATA_DIR/sync (`--data-dir`, else
$ESTATION_DATA_DIR, else ./var, as `estation jobs`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def default_data_dir() -> Path:
    return Path(os.environ.get("ESTATION_DATA_DIR") or "var")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("provision", help="enroll this kiosk with the central service",
                              description="Create the device key and enroll it with a one-time token.")
    p.add_argument("--central", required=True, metavar="URL", help="https://central.example (http only on loopback)")
    p.add_argument("--token", required=True, metavar="T", help="enrollment token from `estation-central token create`")
    p.add_argument("--central-pub", metavar="HEX", help="expected receipt key (`estation-central keys`), pinned")
    p.add_argument("--data-dir", type=Path, default=None, help="default $ESTATION_DATA_DIR or ./var")
    p.add_argument("--hardware-id", default=None, help="default: the host name")
    p.set_defaults(handler=cmd_provision)


def cmd_provision(args: argparse.Namespace) -> int:
    from sync.provision import provision

    sync_dir = (args.data_dir or default_data_dir()) / "sync"
    enrollment = provision(sync_dir=sync_dir, central_url=args.central, token=args.token,
                           central_pub_hex=args.central_pub, hardware_id=args.hardware_id)
    print(f"enrolled {enrollment.device_id} at {enrollment.central_url}"
          + (f" ({enrollment.label})" if enrollment.label else ""))
    return 0
