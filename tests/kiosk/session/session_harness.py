"""Fakes for driving a Session in tests: a settable clock, a recording sink, a real Ed25519 signer."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.policy import load_pack
from kiosk.ports import RecordDraft
from kiosk.session import Session, SessionConfig

ROOT = Path(__file__).parents[3]
CARDS = json.loads((ROOT / "drivers/idcard/sample_cards.json").read_text("utf-8"))


class TrackedCard(dict):
    """A dict that can be weakly referenced: proves the session keeps no reference after a wipe."""


class FakeClock:
    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone.utc)) -> None:
        self.wall = start
        self.mono = 1000.0

    def now(self) -> dt.datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += dt.timedelta(seconds=seconds)


class ListSink:
    """RecordSink that keeps the drafts; `fail` makes the next appends raise."""

    def __init__(self) -> None:
        self.drafts: list[RecordDraft] = []
        self.fail = 0

    def append(self, draft: RecordDraft) -> int:
        if self.fail:
            self.fail -= 1
            raise OSError("disk full")
        self.drafts.append(draft)
        return len(self.drafts)


class Ed25519Signer:
    def __init__(self, seed: bytes = bytes(range(32))) -> None:
        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.device_id = "d_" + hashlib.sha256(self.public).hexdigest()[:32]

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def make_session(pack: str = "wenzhou", **kw) -> tuple[Session, FakeClock, ListSink]:
    clock, sink = FakeClock(), ListSink()
    rng = random.Random(7)
    session = Session(load_pack(pack), sink, clock, lambda n: rng.randbytes(n),
                      config=SessionConfig(station_id="ws-0001"), signer=kw.pop("signer", Ed25519Signer()), **kw)
    return session, clock, sink


def card(index: int = 0, **changes) -> TrackedCard:
    return TrackedCard({**CARDS[index], **changes})
