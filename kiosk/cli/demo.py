"""`estation demo`: the demo station on one machine.

Until the touchscreen lands this is the reader half of it: a simulated reader on
a pty pair serves a deck of sample cards (each rests on the reader for a while,
then is lifted), the real driver reads them through the pty, and each event is
printed, personal fields masked as in the logs.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from kiosk.errors import UsageError

SAMPLE_CARDS = Path(__file__).resolve().parents[2] / "drivers" / "idcard" / "sample_cards.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the demo station (simulated devices)")
    p.add_argument("--cards", default=str(SAMPLE_CARDS), help="JSON list of sample cards")
    p.add_argument("--dwell", type=float, default=2.0, help="seconds each card rests on the reader")
    p.add_argument("--gap", type=float, default=1.0, help="seconds between two cards")
    p.add_argument("--count", type=int, default=0, help="stop after this many cards were read (0: run until Ctrl-C)")
    p.set_defaults(handler=run)


def _describe(card: dict) -> str:
    from kiosk.logs import mask_personal

    shown = mask_personal({k: card[k] for k in ("name", "id_number")})
    return f"{card['card_type']:<17} {shown['name']:<12} {shown['id_number']:<18} sex {card['sex']}"


def run(args: argparse.Namespace) -> int:
    from drivers.idcard.events import CardError, CardRead, CardRemoved
    from drivers.idcard.sim import SimulatedReader, load_cards
    from drivers.idcard.transport import CardReader

    try:
        cards = load_cards(args.cards)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--cards: {exc}") from None
    if not cards:
        raise UsageError("--cards: the deck is empty")
    if args.dwell <= 0 or args.gap < 0 or args.count < 0:
        raise UsageError("--dwell must be > 0, --gap and --count >= 0")

    done = threading.Event()
    reads = 0

    def on_event(event: object) -> None:
        nonlocal reads
        if isinstance(event, CardRead):
            reads += 1
            print(f"card read    {_describe(event.card)}", flush=True)
            if args.count and reads >= args.count:
                done.set()
        elif isinstance(event, CardRemoved):
            print("card removed", flush=True)
        elif isinstance(event, CardError):
            print(f"card error   {event.reason} (after {event.attempts} attempts)", flush=True)
        else:
            print(f"reader       {event}", flush=True)

    with SimulatedReader(cards) as sim:
        print(f"e-Station demo: simulated ID-card reader on {sim.port}; Ctrl-C to stop", flush=True)
        with CardReader(sim.port, on_event):
            index = 0
            try:
                while not done.is_set():
                    sim.place(cards[index % len(cards)])
                    if done.wait(args.dwell):
                        break
                    sim.remove()
                    done.wait(args.gap)
                    index += 1
            except KeyboardInterrupt:
                print("stopped", file=sys.stderr)
    return 0
