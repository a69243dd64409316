"""`python -m drivers.printer simulate [--out DIR] | render FILE OUT.png | status PORT`.

Exit 0 on success, 2 with one `error:` line on bad input; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one `error:` line, exit 2
        raise SystemExit(_fail(message))


def _fail(reason: str) -> int:
    sys.stderr.write(f"error: {reason}\n")
    return 2


def cmd_simulate(args: argparse.Namespace) -> int:
    from .sim import SimulatedPrinter

    with SimulatedPrinter(out_dir=args.out, native_qr=not args.no_native_qr) as sim:
        print(sim.port, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Render captured ESC/POS bytes (e.g. from a real job) the way the simulator prints them."""
    from .errors import EscPosError
    from .paper import Interpreter, ProcessIdRequest
    from .protocol import NEED_DATA, CommandParser
    from .render import render

    try:
        with open(args.file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    parser, paper, blocks, skipped = CommandParser(), Interpreter(), [], 0
    parser.feed(raw + b"\n")
    while True:
        try:
            event = parser.next_event()
            if event is NEED_DATA:
                break
            blocks += [b for b in paper.apply(event) if not isinstance(b, ProcessIdRequest)]  # type: ignore[arg-type]
        except EscPosError:
            skipped += 1
    image, notes = render(blocks)
    try:
        image.save(args.out)
    except (OSError, ValueError) as exc:  # no such directory, unknown extension, disk full
        return _fail(f"{args.out}: cannot write the image: {exc}")
    for note in notes + ([f"{skipped} malformed commands skipped"] if skipped else []):
        sys.stderr.write(f"note: {note}\n")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .transport import Link, open_serial

    try:
        link = Link(open_serial(args.port, args.baud), status_timeout=1.0)
        status = link.poll()
        link.close()
    except Exception as exc:  # absent, permission, silent: say which
        return _fail(f"{args.port}: {exc}")
    print(status.summary, *status.detail)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m drivers.printer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sim = sub.add_parser("simulate", help="run a simulated printer; prints its port")
    sim.add_argument("--out", help="directory for the receipt PNGs")
    sim.add_argument("--no-native-qr", action="store_true", help="a model without GS ( k")
    ren = sub.add_parser("render", help="render an ESC/POS byte file to PNG")
    ren.add_argument("file")
    ren.add_argument("out")
    st = sub.add_parser("status", help="poll DLE EOT 1-4 on a port")
    st.add_argument("port")
    st.add_argument("--baud", type=int, default=115200)
    args = parser.parse_args(argv)
    return {"simulate": cmd_simulate, "render": cmd_render, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
