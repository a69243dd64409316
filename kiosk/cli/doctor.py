"""`estation doctor`: a table of station health checks for the technician on site.

Exit 0 when nothing FAILs (WARNs are allowed), 1 on any FAIL; every FAIL row is
followed by a `hint:` line saying what to do.  The checks are in doctor_checks.py.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from kiosk.cli.doctor_checks import PROBE_TIMEOUT_S, CheckResult, Status, clock_synced, run_checks
from kiosk.config import CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH, config_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check config, devices, paper, tamper, disk, clock, central, outbox, feeds, enrollment",
        description="Check this station's config, devices (ID reader, printer and paper, IO board and tamper), "
                    "fonts, disk, clock and skew vs central, outbox backlog, feeds and enrollment. "
                    "Exit 0 if nothing failed, 1 if any check FAILed.",
    )
    parser.add_argument("--config", metavar="PATH", type=Path, default=None,
                        help=f"config file (default: ${CONFIG_ENV_VAR} or {DEFAULT_CONFIG_PATH})")
    parser.add_argument("--probe-timeout", metavar="SECONDS", type=_seconds, default=PROBE_TIMEOUT_S,
                        help=f"per-step timeout when probing the ID-card reader (default {PROBE_TIMEOUT_S})")
    parser.add_argument("--ioboard", metavar="PORT", default=None,
                        help="IO board port, or \"sim\" (default /dev/estation-ioboard; absent there is a warning)")
    parser.add_argument("--central-timeout", metavar="SECONDS", type=_seconds, default=3.0,
                        help="timeout for asking the central service for its time (default 3)")
    parser.set_defaults(handler=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 30:
        raise argparse.ArgumentTypeError(f"expected seconds between 0 and 30, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    path = args.config if args.config is not None else config_path()
    # The composition root is where the clock is read; the checks take it as input.
    results = run_checks(path, now=datetime.now().astimezone(), synced=clock_synced(),
                         probe_timeout=args.probe_timeout, ioboard_port=args.ioboard,
                         central_timeout=args.central_timeout)
    print(format_table(results))
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def format_table(results: Sequence[CheckResult]) -> str:
    headers = ("check", "status", "detail")
    width_check = max(len(headers[0]), *(len(r.check) for r in results))
    width_status = max(len(headers[1]), *(len(r.status.value) for r in results))
    lines = [f"{headers[0]:<{width_check}}  {headers[1]:<{width_status}}  {headers[2]}"]
    for r in results:
        lines.append(f"{r.check:<{width_check}}  {r.status.value:<{width_status}}  {r.detail}")
        if r.hint and r.status is not Status.OK:
            lines.append(f"{'':<{width_check}}  hint: {r.hint}")
    failed = sum(r.status is Status.FAIL for r in results)
    warned = sum(r.status is Status.WARN for r in results)
    lines.append("")
    lines.append(f"{failed} failed, {warned} warning(s)" if failed or warned else "all checks passed")
    return "\n".join(lines)
