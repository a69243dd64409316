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
    p.add_argument("--poll", type=_seconds, default=5.0, metavar="S", help="idle poll interval (default 5)")
    p.add_argument("--backoff-cap", type=_seconds, default=300.0, metavar="S",
                   help="longest wait between failed passes (default 300)")
    p.add_argument("--max-batch", type=_positive_int, default=None, metavar="N",
                   help="records per upload request (default: central's limit, 500)")
    p.add_argument("--timeout", type=_seconds, default=None, metavar="S", help="HTTP timeout (default 30)")
    p.set_defaults(handler=cmd_sync)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.01 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"must be between 0.01 and 86400 (got {text})")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 500:
        raise argparse.ArgumentTypeError(f"must be a whole number 1..500 (got {text!r})")
    return int(text)


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.cli.provision import default_data_dir
    from sync.runner import SyncRunner

    runner = SyncRunner((args.data_dir or default_data_dir()) / "sync", poll_s=args.poll,
                        backoff_cap_s=args.backoff_cap, max_batch=args.max_batch, timeout_s=args.timeout)
    try:
        if not args.once:
            runner.run_forever()
            return 0
        result = runner.run_pass()
        remaining = len(runner.uploader.dirs.pending())
        print(json.dumps({"stored": result.upload.stored, "quarantined": result.upload.quarantined,
                          "bad_receipts": result.upload.bad_receipts, "pending": remaining,
                          "heartbeat": result.heartbeat_ok, "feeds": result.feeds, "error": result.error}))
        return 0 if result.error is None and remaining == 0 else 1
    finally:
        runner.close()
