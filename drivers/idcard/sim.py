"""A simulated SAM reader on a pty pair, speaking the real protocol byte for byte.

Ships in the package (like gpiozero's MockFactory / OctoPrint's virtual printer):
the kiosk demo and the transport tests use it.  The host opens `sim.port`, a
stable symlink (the way udev names /dev/estation-idcard) to the current pty
slave; `unplug()` closes the pty (the host's reads fail with EIO) and `replug()`
makes a new one and re-points the link, as a USB adapter that comes back does.

Faults (`Faults`): noise before replies, split writes, slow replies, bad
checksums, truncated replies, SAM status errors per command, silence.
Every command received is kept in `history`; `assert_commands()` checks it.
Standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import random
import select
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..devicethread import PluggedDevice
from ..ptylink import close_pty_link, link_directory, open_pty_link
from .codes import Status
from .protocol import (NEED_DATA, Command, Frame, FrameParser, MIN_COMMAND_LEN, ProtocolError, build_read_response,
                       build_response, build_sam_id)

log = logging.getLogger("drivers.idcard.sim")

DEFAULT_SAM_ID = build_sam_id(5, 1, 20260101, 1234567, 7654321)
_COMPLAINTS = {"bad checksum": Status.BAD_CHECKSUM, "bad length": Status.BAD_LENGTH}
SPEED_AND_FRAME_SIZE = {b"\x60\x00", b"\x60\x01", b"\x60\x02", b"\x60\x03", b"\x60\x04", b"\x61\xff"}  # §4: 90


@dataclass
class Faults:
    """Fault injection knobs; change them on a live simulator (attribute writes are atomic)."""

    noise: int = 0  # random bytes written before each reply
    split: int = 0  # write replies in chunks of this many bytes...
    split_gap: float = 0.002  # ...this many seconds apart
    delay: float = 0.0  # seconds before each reply
    read_delay: float = 0.0  # extra seconds before a card read's reply (a slow SAM)
    bad_checksum: int = 0  # corrupt CHK of the next N replies
    truncate: int = 0  # send only the first half of the next N replies
    truncate_reads: int = 0  # ...of the next N card reads only (a card lifted while the reader sends)
    silent: int = 0  # ignore the next N commands
    status: dict[bytes, list[int]] = field(default_factory=dict)  # command -> SW3 to answer, consumed in order
    resting: str = "found"  # a card left on the reader answers find with 9F ("found") or 80 ("no_card")
    wire_baud: int = 0  # >0: pace replies at this baud rate (10 bit times per byte)


def load_cards(path: str | os.PathLike) -> list[dict]:
    """Cards from a JSON file: a list of contract-shaped dicts (IDCARD.md §12.2), each one the
    simulator can put on the wire (checked here, not when a card is placed minutes later)."""
    cards = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(cards, list) or not all(isinstance(c, dict) for c in cards):
        raise ValueError(f"{path}: expected a JSON list of card objects")
    for n, card in enumerate(cards):
        try:
            build_read_response(card)
        except (ProtocolError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{path}: card {n} cannot be put on a card: {getattr(exc, 'reason', exc)}") from None
    return cards


class SimulatedReader(PluggedDevice):
    """Fake reader. Use as a context manager; `place(card)` / `remove()` drive it."""

    def __init__(self, cards: Iterable[dict] = (), *, faults: Faults | None = None,
                 link_dir: str | None = None, rng: random.Random | None = None) -> None:
        self.cards = list(cards)
        self.faults = faults or Faults()
        self.history: list[bytes] = []
        self.card: dict | None = None
        self.reads_served = 0
        self.last_reply_done = 0.0  # perf_counter() after the last byte of the last read reply
        self._rng = rng or random.Random(0)
        self._dir, self._made_dir = link_directory(link_dir, "estation-sim-")
        self.port = os.path.join(self._dir, "estation-idcard")
        self._lock = threading.Lock()
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._read_since_placed = False
        self.plugged = False

    # --- lifecycle ---------------------------------------------------------------------------
    thread_name = "idcard-sim"

    def unplug(self) -> None:
        """Pull the USB cable: the host's next read or write fails, and the name goes away
        (as udev removes /dev/estation-idcard), so a reconnect cannot open a reused pty number."""
        with self._lock:
            close_pty_link(self.port, self._master, self._slave)
            self._master = self._slave = -1
            self.plugged = False

    def replug(self) -> None:
        """Plug back in: a new pty, the stable link re-pointed at it."""
        with self._lock:
            if self.plugged:
                return
            self._master, self._slave = open_pty_link(self.port)
            self.plugged = True

    # --- card handling -----------------------------------------------------------------------
    def place(self, card: dict) -> None:
        self.card = card
        self._read_since_placed = False

    def remove(self) -> None:
        self.card = None

    def assert_commands(self, *expected: Command | bytes) -> None:
        """The last len(expected) commands equal `expected` (gpiozero-style helper)."""
        got = [bytes(c) for c in self.history[-len(expected):]]
        want = [bytes(c) for c in expected]
        assert got == want, f"commands {[c.hex() for c in got]} != {[c.hex() for c in want]}"

    # --- the device ----------------------------------------------------------------------------
    def _run(self) -> None:
        parser = FrameParser(min_len=MIN_COMMAND_LEN)
        fd = -1
        while not self._stop.is_set():
            with self._lock:
                if self._master != fd:
                    fd = self._master
                    parser.clear()
            if fd < 0:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                parser.feed(os.read(fd, 4096))
            except OSError:  # unplugged under us
                fd = -1
                continue
            # Everything buffered is answered now, past any garbage: a real reader does not wait
            # for the next write.  A damaged command gets the reader's own complaint (§5).
            while (event := parser.next_event()) is not NEED_DATA:
                if isinstance(event, Frame):
                    self._answer(fd, event)
                elif event.reason in _COMPLAINTS:
                    self._write(fd, build_response(_COMPLAINTS[event.reason]))

    def _answer(self, fd: int, frame: Frame) -> None:
        cmd = frame.command
        self.history.append(cmd)
        f = self.faults
        if f.silent:
            f.silent -= 1
            return
        reply = self._reply_for(cmd, frame.command_data)
        is_read = cmd in (Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FP) and reply[9] == Status.OK
        if f.bad_checksum:
            f.bad_checksum -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        if f.truncate or (is_read and f.truncate_reads):
            if f.truncate:
                f.truncate -= 1
            else:
                f.truncate_reads -= 1
            reply = reply[: len(reply) // 2]
        if f.noise:
            reply = bytes(self._rng.randrange(256) for _ in range(f.noise)) + reply
        if f.delay or (is_read and f.read_delay):
            time.sleep(f.delay + (f.read_delay if is_read else 0.0))
        self._write(fd, reply, is_read)

    def _write(self, fd: int, data: bytes, is_read: bool = False) -> None:
        f = self.faults
        chunk = f.split or len(data)
        try:
            for i in range(0, len(data), chunk):
                piece = data[i:i + chunk]
                if f.wire_baud:
                    time.sleep(len(piece) * 10 / f.wire_baud)
                if is_read and i + chunk >= len(data):
                    # Stamped just before the last byte goes out: the latency bench's start.
                    self.last_reply_done = time.perf_counter()
                    self.reads_served += 1
                os.write(fd, piece)
                if f.split and i + chunk < len(data):
                    time.sleep(f.split_gap)
        except OSError:
            pass  # unplugged while sending: the host sees a truncated reply

    def _reply_for(self, cmd: bytes, data: bytes) -> bytes:
        queued = self.faults.status.get(cmd)
        if queued:
            code = queued.pop(0)
            # a success reply carries its data even when scripted (§4: find 4 bytes, select 8)
            data = {(Command.FIND_CARD, Status.FOUND): bytes(4), (Command.SELECT_CARD, Status.OK): bytes(8),
                    (Command.SAM_ID, Status.OK): DEFAULT_SAM_ID}.get((cmd, code), b"")
            return build_response(code, data)
        card = self.card
        if cmd == Command.SAM_STATUS or cmd == Command.RESET_SAM:
            return build_response(Status.OK)
        if cmd == Command.SAM_ID:
            return build_response(Status.OK, DEFAULT_SAM_ID)
        if cmd == Command.FIND_CARD:
            if card is None or (self._read_since_placed and self.faults.resting == "no_card"):
                return build_response(Status.NO_CARD)
            return build_response(Status.FOUND, bytes(4))
        if cmd == Command.SELECT_CARD:
            return build_response(Status.OK, bytes(8)) if card else build_response(Status.SELECT_FAILED)
        if cmd in (Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FP):
            if card is None:
                return build_response(Status.READ_FAILED)
            self._read_since_placed = True
            fingerprint = bytes(512) if cmd == Command.READ_TEXT_PHOTO_FP else None
            try:
                return build_read_response(card, fingerprint=fingerprint)
            except (ProtocolError, KeyError, TypeError, AttributeError, ValueError) as exc:
                # A card placed from a script that cannot be encoded: the reader stays alive and
                # answers as for a card it cannot read (§5 41), the log says why.
                log.error("simulated card cannot be encoded: %s", getattr(exc, "reason", exc))
                return build_response(Status.READ_FAILED)
        if cmd == Command.READ_APPENDED_ADDRESS:
            return build_response(Status.NO_ITEM)
        if cmd in SPEED_AND_FRAME_SIZE:
            return build_response(Status.OK)  # accepted; the simulator keeps its speed (§4: unverified)
        return build_response(Status.COMMAND_ERROR)


def run_forever(cards: list[dict], *, dwell: float, gap: float, faults: Faults, announce) -> None:
    """CLI mode: place each card for `dwell` s, lift it for `gap` s, cycle forever."""
    with SimulatedReader(cards, faults=faults) as sim:
        announce(sim.port)
        while True:
            for card in cards:
                sim.place(card)
                time.sleep(dwell)
                sim.remove()
                time.sleep(gap)
