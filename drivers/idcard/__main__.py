"""`python -m drivers.idcard decode FILE | simulate | read PORT`.

`decode` is the contract of IDCARD.md §12: one JSON object on stdout and exit 0,
or one `error: <reason>` line on stderr and exit 2; never a traceback; standard
library only (pyserial is imported by `read` alone).
"""

from __future__ import annotations

import argparse
import json
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one `error:` line, exit 2
        raise SystemExit(_fail(message))


def _fail(reason: str) -> int:
    sys.stderr.write(f"error: {reason}\n")
    return 2


def _print_json(obj: dict) -> None:
    sys.stdout.buffer.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
    sys.stdout.flush()


def cmd_decode(args: argparse.Namespace) -> int:
    from .protocol import ProtocolError, decode_frame

    try:
        with open(args.file, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror or exc}")
    try:
        card = decode_frame(raw)
    except ProtocolError as exc:
        return _fail(exc.reason)
    _print_json(card)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .sim import Faults, load_cards, run_forever

    try:
        cards = load_cards(args.cards)
    except (OSError, ValueError) as exc:
        return _fail(f"cards: {exc}")
    faults = Faults(noise=args.noise, split=args.split, delay=args.delay, bad_checksum=args.bad_checksum)

    def announce(port: str) -> None:
        print(f"simulated reader on {port}  ({len(cards)} cards, {args.dwell:g} s each)", flush=True)

    run_forever(cards, dwell=args.dwell, gap=args.gap, faults=faults, announce=announce)
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    from .events import CardRead
    from .transport import CardReader

    def show(event: object) -> None:
        if isinstance(event, CardRead):
            _print_json(event.card)
        else:
            print(event, file=sys.stderr, flush=True)

    with CardReader(args.port, show, baudrate=args.baud):
        try:
            while True:
                input()
        except (EOFError, KeyboardInterrupt):
            return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m drivers.idcard", description="SAM ID-card reader tools")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("decode", help="decode one 30 01 / 30 10 response frame from FILE as JSON")
    p.add_argument("file")
    p.set_defaults(handler=cmd_decode)
    p = sub.add_parser("simulate", help="run a simulated reader on a pty, serving cards from a JSON file")
    p.add_argument("--cards", required=True, help="JSON list of card objects (decode output shape)")
    p.add_argument("--dwell", type=float, default=3.0, help="seconds each card rests on the reader")
    p.add_argument("--gap", type=float, default=1.0, help="seconds between cards")
    p.add_argument("--noise", type=int, default=0, help="garbage bytes before each reply")
    p.add_argument("--split", type=int, default=0, help="write replies in chunks of N bytes")
    p.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    p.add_argument("--bad-checksum", type=int, default=0, help="corrupt the checksum of the first N replies")
    p.set_defaults(handler=cmd_simulate)
    p = sub.add_parser("read", help="read cards from a reader and print them as JSON lines (needs pyserial)")
    p.add_argument("port")
    p.add_argument("--baud", type=int, default=115200)
    p.set_defaults(handler=cmd_read)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.handler(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback
        return _fail(f"internal error: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
