"""`estation sync [--once]`: upload the outbox, verify receipts, send heartbeats (SYNC.md §5-6).

`--once`: one pass (all pending records, one heartbeat); exit 0 when everything went,
1 when central could not be reached or refused (records stay in the outbox).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sync", help="upload records and send heartbeats to central",
                              description="The sync process: uploads the outbox, keeps receipts, sends heartbeats.")
    p.add_argument("--once", action="store_true", help="one pass, then exit (0 = all sent)")
    p.add_argument("--data-dir", type=Path, default=None, help="default $ESTATION_DATA_DIR or ./var")
    p.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.cli.provision import default_data_dir
    from sync.runner import SyncRunner

    runner = SyncRunner((args.data_dir or default_data_dir()) / "sync")
    try:
        if not args.once:
            runner.run_forever()
            return 0
        result = runner.run_pass()
        remaining = len(runner.uploader.dirs.pending())
        print(json.dumps({"stored": result.upload.stored, "quarantined": result.upload.quarantined,
                          "bad_receipts": result.upload.bad_receipts, "pending": remaining,
                          "heartbeat": result.heartbeat_ok, "error": result.error}))
        return 0 if result.error is None and remaining == 0 else 1
    finally:
        runner.close()
