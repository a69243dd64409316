"""pyserial transport: the find -> select -> read cycle on a background thread (IDCARD.md §6).

A thin pump between the port and the sans-I/O codec.  It emits `events.*`
through one callback, on the reader thread; it knows nothing of kiosks.

  * per-step deadlines (§4), resynchronisation after garbage (the parser drops
    noise; a frame-level error flushes input and restarts the sequence);
  * at most `max_attempts` tries per placement, then one `CardError`;
  * a card left on the reader is read once (dedup by ID number while present);
  * `CardRemoved` after 2 consecutive "no card" replies spanning `removal_window`;
  * unplug (any serial/OS error) -> `ReaderDisconnected`, reopen the same path
    (a udev name or a device path) every `reconnect_interval` s, re-probe, go on.
    A card still present across a short unplug is not reported twice.

pyserial is imported lazily, so the codec and the decode CLI work without it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..devicethread import DeviceThread
from .codes import Action, Status, describe_status
from .events import CardError, CardRead, CardRemoved, ReaderConnected, ReaderDisconnected, ReaderEvent, ReaderFault
from .protocol import Command, Frame, FrameParser, Garbage, ProtocolError, build_command, parse_read_response, parse_sam_id

log = logging.getLogger("drivers.idcard")

BAUD_RATES = (115200, 57600, 38400, 19200, 9600)
# Deadline per command, seconds from the last byte sent to the last byte received (§4).
DEADLINES = {
    Command.RESET_SAM: 1.0, Command.SAM_STATUS: 0.5, Command.SAM_ID: 0.5, Command.FIND_CARD: 0.5,
    Command.SELECT_CARD: 0.5, Command.READ_TEXT_PHOTO: 2.0, Command.READ_APPENDED_ADDRESS: 1.5,
    Command.READ_TEXT_PHOTO_FP: 3.0,
}
# Bytes on the wire per exchange beyond the command's 10: the deadlines above hold at 115200 baud,
# and slower links add the extra wire time (§4: bytes × 10 / baud).
REPLY_BYTES = {Command.READ_TEXT_PHOTO: 1295, Command.READ_TEXT_PHOTO_FP: 1809, Command.READ_APPENDED_ADDRESS: 81}
SHORT_REPLY_BYTES = 20
REFERENCE_BAUD = 115200
MAX_LINK_ERRORS = 5
FAULT_RETRY_INTERVAL = 5.0


class ReaderError(Exception):
    """The reader did not answer as a SAM reader should (probe failed).

    `status` is set when the SAM itself refused (a fatal SW3: 23, 60, 66).
    """

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class LinkError(Exception):
    """A reply was lost, late or corrupt; the sequence restarts."""


class _PlacementFailed(Exception):
    def __init__(self, reason: str, status: int | None, action: Action) -> None:
        super().__init__(reason)
        self.reason, self.status, self.action = reason, status, action


def open_serial(port: str, baudrate: int) -> Any:
    """Factory seam (OctoPrint's _open_serial): tests and the demo may pass another."""
    import serial  # lazy: only the transport needs pyserial

    return serial.serial_for_url(port, baudrate=baudrate, timeout=0.05, write_timeout=1.0)


class Link:
    """One open port plus the codec: send a command, wait for its reply."""

    def __init__(self, port: Any, deadline_scale: float = 1.0, baudrate: int = REFERENCE_BAUD) -> None:
        self.port = port
        self.parser = FrameParser()
        self.deadline_scale = deadline_scale
        self.baudrate = baudrate
        self.traffic: deque[tuple[str, str, int]] = deque(maxlen=64)  # no payloads: they are personal data

    def exchange(self, command: Command) -> Frame:
        resent = False
        self._send(command)
        deadline = time.monotonic() + self.deadline(command)
        while True:
            event = self.parser.next_event()
            if isinstance(event, Frame):
                self.traffic.append(("rx", f"{event.sw3:02X}", len(event)))
                if event.sw3 in (Status.BAD_CHECKSUM, Status.BAD_LENGTH) and not resent:
                    resent = True  # the reader got a damaged command: resend once (§5)
                    self._send(command)
                    deadline = time.monotonic() + self.deadline(command)
                    continue
                if event.sw3 == Status.BAD_CHECKSUM and command not in (Command.SAM_STATUS, Command.SAM_ID):
                    # Damaged twice on the way out: flush and re-probe (§5).  A reader that no
                    # longer answers its status raises from the probe; either way the sequence restarts.
                    self.probe()
                    raise LinkError(f"{command.name} reached the reader damaged twice; re-probed")
                return event
            if isinstance(event, Garbage):
                if event.frame_error:
                    raise LinkError(f"{event.reason} in reply to {command.name}")
                log.debug("dropped %d noise bytes", event.count)
                continue
            if time.monotonic() >= deadline:
                raise LinkError(f"no complete reply to {command.name} within {self.deadline(command):.1f} s")
            data = self.port.read(max(1, self.port.in_waiting))
            if data:
                self.parser.feed(data)

    def deadline(self, command: Command) -> float:
        """Seconds from the last byte sent to the last byte of the reply (§4), wire time included."""
        wire_bytes = 10 + REPLY_BYTES.get(command, SHORT_REPLY_BYTES)
        slower = max(0.0, wire_bytes * 10 / self.baudrate - wire_bytes * 10 / REFERENCE_BAUD)
        return DEADLINES[command] * self.deadline_scale + slower

    def _send(self, command: Command) -> None:
        self.port.reset_input_buffer()
        self.parser.clear()
        self.port.write(build_command(command.value[0], command.value[1]))
        self.traffic.append(("tx", command.value.hex(), 10))

    def probe(self) -> str:
        """SAM status then SAM id; returns the id string."""
        status = self.exchange(Command.SAM_STATUS)
        if status.sw3 != Status.OK:
            meaning, action = describe_status(status.sw3)
            raise ReaderError(f"SAM status: {meaning}", status.sw3 if action is Action.FATAL else None)
        reply = self.exchange(Command.SAM_ID)
        if reply.sw3 != Status.OK:
            raise ReaderError(f"SAM id: {describe_status(reply.sw3)[0]}")
        try:
            return parse_sam_id(reply.data)
        except ProtocolError as exc:
            raise ReaderError(f"SAM id: {exc.reason}") from None

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # closing a port that vanished may fail; nothing left to do
            pass


def connect(port_name: str, baudrate: int, opener: Callable[[str, int], Any] = open_serial,
            deadline_scale: float = 1.0, *, other_speeds: bool = True) -> tuple[Link, str, int]:
    """Open the port, find the speed the reader answers at (configured first), probe it."""
    last: Exception = ReaderError("no answer")
    rates = (baudrate, *[b for b in BAUD_RATES if b != baudrate]) if other_speeds else (baudrate,)
    for rate in rates:
        link = Link(opener(port_name, rate), deadline_scale, rate)
        try:
            return link, link.probe(), rate
        except LinkError as exc:  # silence: try the next speed
            last = exc
            link.close()
        except BaseException:
            link.close()
            raise
    speeds = "any speed" if other_speeds else f"{baudrate} baud"
    raise ReaderError(f"reader does not answer at {speeds} ({last})")


def probe_reader(port: str, baudrate: int = 115200, timeout: float = 1.0) -> str:
    """SAM id of the reader on `port` at exactly `baudrate` (for `estation doctor`).

    Raises on any failure, including a reader that answers only at another speed:
    the kiosk should be configured with the speed its reader uses."""
    link, sam_id, _ = connect(port, baudrate, deadline_scale=timeout / DEADLINES[Command.SAM_STATUS],
                              other_speeds=False)
    link.close()
    return sam_id


class CardReader(DeviceThread):
    """Background reader: `start()`, then events arrive through `on_event`; `stop()` ends it."""

    thread_name = "idcard-reader"

    def __init__(self, port: str, on_event: Callable[[ReaderEvent], None], *, baudrate: int = 115200,
                 poll_interval: float = 0.4, retry_gap: float = 0.15, removal_window: float = 0.5,
                 reconnect_interval: float = 0.5, max_attempts: int = 3,
                 read_command: Command = Command.READ_TEXT_PHOTO,
                 opener: Callable[[str, int], Any] = open_serial) -> None:
        self.port_name = port
        self.on_event = on_event
        self.baudrate = baudrate
        self.poll_interval = poll_interval
        self.retry_gap = retry_gap
        self.removal_window = removal_window
        self.reconnect_interval = reconnect_interval
        self.max_attempts = max_attempts
        self.read_command = read_command
        self.opener = opener
        self.link: Link | None = None
        self.sam_id = ""
        self.stats = {"reads": 0, "link_errors": 0, "reconnects": 0, "noise_bytes": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # placement state
        self._present_id: str | None = None
        self._attempts = 0
        self._gave_up = False
        self._misses = 0
        self._first_miss = 0.0
        self._link_errors = 0
        self._disconnect_reported = False

    # --- lifecycle ----------------------------------------------------------------------------
    def _release(self) -> None:
        if self.link:
            self.link.close()
            self.link = None

    @property
    def card_present(self) -> bool:
        return self._present_id is not None

    # --- the loop -----------------------------------------------------------------------------
    def _emit(self, event: ReaderEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken consumer must not kill the reader thread
            log.exception("event handler failed on %s", type(event).__name__)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.link is None:
                pause = self._try_connect()
            else:
                pause = self._cycle()
            self._stop.wait(pause)

    def _try_connect(self) -> float:
        try:
            self.link, self.sam_id, rate = connect(self.port_name, self.baudrate, self.opener)
        except ReaderError as exc:
            if exc.status is not None:
                self._emit(ReaderFault(str(exc), exc.status))
                return FAULT_RETRY_INTERVAL
            self._report_disconnect(str(exc))
            return self.reconnect_interval
        except Exception as exc:  # port absent, permission, busy: keep trying
            self._report_disconnect(f"{type(exc).__name__}: {exc}")
            return self.reconnect_interval
        self._link_errors = 0
        self._disconnect_reported = False
        log.info("reader connected on %s at %d baud, SAM %s", self.port_name, rate, self.sam_id)
        self._emit(ReaderConnected(self.port_name, self.sam_id, rate))
        return 0.0

    def _report_disconnect(self, reason: str) -> None:
        if not self._disconnect_reported:
            self._disconnect_reported = True
            log.warning("reader on %s unavailable: %s", self.port_name, reason)
            self._emit(ReaderDisconnected(self.port_name, reason))

    def _drop_link(self, reason: str) -> None:
        if self.link:
            self.link.close()
            self.link = None
        self.stats["reconnects"] += 1
        self._disconnect_reported = False
        self._report_disconnect(reason)

    def _cycle(self) -> float:
        """One find (-> select -> read) round; returns the pause before the next."""
        assert self.link is not None
        try:
            pause = self._sequence(self.link)
            self._link_errors = 0
            return pause
        except LinkError as exc:
            self._link_errors += 1
            self.stats["link_errors"] += 1
            log.info("link error %d/%d: %s", self._link_errors, MAX_LINK_ERRORS, exc)
            if self._link_errors >= MAX_LINK_ERRORS:
                self._drop_link(f"{MAX_LINK_ERRORS} link errors in a row")
                return self.reconnect_interval
            self._stop.wait(0.05)  # let the rest of a damaged reply arrive, then drop it
            self.link.port.reset_input_buffer()
            return self.retry_gap
        except ReaderError as exc:
            self._drop_link(str(exc))
            return FAULT_RETRY_INTERVAL if exc.status is not None else self.reconnect_interval
        except Exception as exc:  # SerialException / OSError: unplugged
            self._drop_link(f"{type(exc).__name__}: {exc}")
            return self.reconnect_interval

    def _sequence(self, link: Link) -> float:
        found = link.exchange(Command.FIND_CARD)
        if found.sw3 == Status.NO_CARD:
            return self._no_card()
        self._misses = 0
        if self._gave_up and found.sw3 == Status.FOUND:
            return self.poll_interval  # told to lift and replace it: wait for the lift
        try:
            self._expect(found, Status.FOUND)
            self._expect(link.exchange(Command.SELECT_CARD), Status.OK)
            try:
                reply = link.exchange(self.read_command)
                if reply.sw3 == Status.FINGERPRINT_VERIFY_FAILED and self.read_command is Command.READ_TEXT_PHOTO_FP:
                    reply = link.exchange(Command.READ_TEXT_PHOTO)  # §5 37: once more, without fingerprints
            except LinkError as exc:
                # §6: a reply cut short or late while the reader sends is how a card lifted mid-read
                # shows; it counts towards this placement's attempts as well as towards the link's.
                self._failed(_PlacementFailed(f"read cut short: {exc}", None, Action.RESTART))
                raise
            self._expect(reply, Status.OK)
            received_at = time.perf_counter()
            try:
                card = parse_read_response(reply)
            except ProtocolError as exc:
                raise _PlacementFailed(f"card data invalid: {exc.reason}", None, Action.RESTART) from None
        except _PlacementFailed as failure:
            return self._failed(failure)
        self._attempts = 0
        self._gave_up = False
        if card["id_number"] == self._present_id:
            return self.poll_interval  # the same card still resting on the reader
        if self._present_id is not None:
            self._emit(CardRemoved())  # swapped without a gap we could see
        self._present_id = card["id_number"]
        self.stats["reads"] += 1
        log.info("card read (%s)", card["card_type"])
        self._emit(CardRead(card, received_at))
        return self.poll_interval

    def _expect(self, frame: Frame, wanted: int) -> None:
        if frame.sw3 == wanted:
            return
        meaning, action = describe_status(frame.sw3)
        if action is Action.FATAL:
            self._emit(ReaderFault(meaning, frame.sw3))
            raise ReaderError(f"reader fault: {meaning} (0x{frame.sw3:02X})", frame.sw3)
        raise _PlacementFailed(meaning, frame.sw3, action)

    def _failed(self, failure: _PlacementFailed) -> float:
        if self._present_id is not None or self._gave_up:
            return self.poll_interval  # being lifted, or already told to replace it
        self._attempts += 1
        if failure.action is Action.NOT_ID_CARD or self._attempts >= self.max_attempts:
            self._gave_up = True
            log.info("placement failed after %d attempts: %s", self._attempts, failure.reason)
            self._emit(CardError(failure.reason, failure.status, self._attempts))
            return self.poll_interval
        return self.retry_gap

    def _no_card(self) -> float:
        now = time.monotonic()
        if self._misses == 0:
            self._first_miss = now
        self._misses += 1
        if self._misses >= 2 and now - self._first_miss >= self.removal_window:
            if self._present_id is not None:
                self._present_id = None
                self._emit(CardRemoved())
            self._attempts = 0
            self._gave_up = False
        return self.poll_interval
