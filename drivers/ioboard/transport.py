"""pyserial transport for the IO board: one thread owns the port and the codec (OctoPrint's one writer).

`SerialIoBoard` is the kiosk's `IoBoard` port (kiosk/ports.py): `heartbeat()`,
`tamper_state()`, `set_status_led(pattern)`, all non-blocking, plus events
through one callback (`events.*`, called on the I/O thread).

  * connect: RESET (sequence numbers restart), `identify` in chunks -> the
    command dictionary, version check, config CRC handshake (`config` is sent
    when the board is unconfigured or its CRC differs), LED pattern re-applied;
  * commands are sequenced and retransmitted by `framing.SendWindow` on NAK or
    on a timeout doubling from `rto` to `rto_max`; `max_timeouts` resends in a
    row without progress drop the link.  Replies are not retransmitted: a query
    is re-sent (new sequence number) up to `retries` times (Klipper);
  * a tamper latch is acknowledged to the board only after the callback for it
    returned, so it survives host disconnects (at-least-once; duplicates within
    one process are suppressed);
  * a board reboot (new boot id, or a NAK outside the window) -> RESET, resend
    the unacknowledged commands, reconfigure, `BoardRebooted`;
  * any serial/OS error -> `BoardDisconnected`, reopen the same path (a udev
    name such as /dev/estation-ioboard) every `reconnect_interval` seconds.

pyserial is imported lazily, in `open_serial` only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..devicethread import DeviceThread
from .boardstate import BoardState
from .events import BoardConnected, BoardDisconnected, IoBoardEvent
from .protocol import (IDENTIFY_CMD, NEED_DATA, Ack, BoardConfig, BoardStatus, Dictionary, Dropped, HostProtocol,
                       IoBoardError, Nak, Notice, Reply, identify_payload)

log = logging.getLogger("drivers.ioboard")
MAX_DICTIONARY = 16384
REPLYING = frozenset({"identify", "config", "get_status", "clear_shutdown"})  # the others are only ACKed


class LinkError(Exception):
    """The board stopped acknowledging, or a reply never came; the link is reopened."""


class PortBusy(OSError):
    """Another process holds the board's port (the kiosk, when a technician runs the doctor)."""


def open_serial(port: str, baudrate: int) -> Any:
    """Factory seam (OctoPrint's _open_serial): tests and the demo may pass another.

    The port is locked (pyserial's `exclusive`: flock before it touches the tty): a second opener
    would send its own RESET and take bytes meant for the first, and both would see a broken link."""
    import errno

    import serial  # lazy: the codec and the simulator work without pyserial

    try:
        return serial.serial_for_url(port, baudrate=baudrate, timeout=0.005, write_timeout=1.0, exclusive=True)
    except serial.SerialException as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise PortBusy(f"{port} is in use by another process") from None
        raise


class _Job:
    def __init__(self, name: str, args: tuple[int, ...]) -> None:
        self.name, self.args = name, args
        self.done = threading.Event()
        self.result: Reply | None = None
        self.error: BaseException | None = None


class SerialIoBoard(DeviceThread, BoardState):
    """The IO board on a serial port.  `start()`, then use it; `stop()` ends the thread."""

    thread_name = "ioboard"

    def __init__(self, port: str, on_event: Callable[[IoBoardEvent], None] | None = None, *,
                 config: BoardConfig | None = None, baudrate: int = 115200, rto: float = 0.05,
                 rto_max: float = 1.0, max_timeouts: int = 6, reply_timeout: float = 0.5, retries: int = 3,
                 status_interval: float = 0.5, reconnect_interval: float = 0.5,
                 opener: Callable[[str, int], Any] = open_serial, rearm_on_connect: bool = True) -> None:
        """`rearm_on_connect`: a board found in shutdown is cleared (its watchdog armed again) on
        connect; the kiosk wants that, a diagnosis without the kiosk running must not."""
        self.port_name = port
        self.rearm_on_connect = rearm_on_connect
        self.on_event = on_event or (lambda event: None)
        self.config = config or BoardConfig()
        self.baudrate = baudrate
        self.rto, self.rto_max, self.max_timeouts = rto, rto_max, max_timeouts
        self.reply_timeout, self.retries = reply_timeout, retries
        self.status_interval = status_interval
        self.reconnect_interval = reconnect_interval
        self.opener = opener
        self.stats = {"heartbeats": 0, "retransmits": 0, "naks": 0, "noise_bytes": 0, "reconnects": 0,
                      "resyncs": 0, "tamper_delivered": 0}
        self.traffic: deque[tuple[float, str, str]] = deque(maxlen=128)  # dumped on link errors
        self.version = ""
        self.boot_id: int | None = None
        self.last_status: BoardStatus | None = None
        self._port: Any = None
        self._proto: HostProtocol | None = None
        self._connected = False
        self._reported_down = False
        self._status_at = 0.0
        self._tamper = "unknown"
        self._presence: bool | None = None
        self._led: str | None = None
        self._led_dirty = False
        self._hb_pending = False
        self._acks: deque[int] = deque()
        self._jobs: deque[_Job] = deque()
        self._delivered: deque[tuple[int, int]] = deque(maxlen=256)
        self._replies: dict[int, Reply] = {}
        self._need_resync = False
        self._reset_acked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the IoBoard port ---------------------------------------------------------------------
    def heartbeat(self) -> None:
        """Tell the board's watchdog the kiosk is healthy (call it only while it is)."""
        self._hb_pending = True

    def tamper_state(self) -> str:
        """closed | open | unknown (not connected, or no fresh status)."""
        stale = time.monotonic() - self._status_at > 3 * self.status_interval + self.reply_timeout
        return "unknown" if not self._connected or stale else self._tamper

    def set_status_led(self, pattern: str) -> None:
        """ok | degraded | fault; kept and re-applied after a reconnect or a board reboot."""
        if pattern not in ("ok", "degraded", "fault"):
            raise ValueError(f"LED pattern must be ok, degraded or fault, not {pattern!r}")
        self._led = pattern
        self._led_dirty = True

    # --- extras -------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    def request(self, name: str, *args: int, timeout: float = 3.0) -> Reply:
        """Send a dictionary command from any thread and wait for its reply (or its ACK: name=="ack")."""
        job = _Job(name, args)
        self._jobs.append(job)
        if not job.done.wait(timeout):
            raise LinkError(f"{name}: no answer within {timeout} s")
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def shutdown(self) -> None:
        self.request("shutdown", 1)

    def clear_shutdown(self) -> BoardStatus:
        reply = self.request("clear_shutdown")
        assert self._proto is not None and self._proto.dictionary is not None
        return self._proto.dictionary.status(reply)

    def dump_traffic(self) -> str:
        return "\n".join(f"{t:.3f} {d} {what}" for t, d, what in self.traffic)

    # --- lifecycle ----------------------------------------------------------------------------
    def _release(self) -> None:
        self._close()

    # --- the I/O thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            connecting = self._port is None
            try:
                if connecting:
                    self._connect()
                else:
                    self._cycle()
                continue
            except (OSError, LinkError, IoBoardError) as exc:
                reason = str(exc)
            except Exception as exc:  # noqa: BLE001 - this thread feeds the watchdog: it must not die
                log.exception("ioboard: unexpected error; reopening the link")
                reason = f"unexpected error: {exc!r}"
            self._lost(f"connect failed: {reason}" if connecting else reason)
            self._stop.wait(self.reconnect_interval)

    def _cycle(self) -> None:
        self._pump()
        self._sync_if_needed()
        self._drain()
        self._resend_due()
        if time.monotonic() - self._status_at >= self.status_interval:
            self._refresh()

    def _connect(self) -> None:
        self._port = self.opener(self.port_name, self.baudrate)
        self._proto = HostProtocol(rto=self.rto, rto_max=self.rto_max)
        self._replies.clear()
        self._port.reset_input_buffer()
        self._reset_link()
        chunks: list[bytes] = []
        offset = 0
        while True:
            chunk = self._call(IDENTIFY_CMD, identify_payload(offset), "identify").raw
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            if offset > MAX_DICTIONARY:
                raise IoBoardError("command dictionary too long")
        self._proto.dictionary = Dictionary.from_bytes(b"".join(chunks))
        self.version = self._proto.dictionary.version
        status = self._configure()
        self.boot_id = status.boot_id
        self._connected = True
        self._reported_down = False
        if self._led is not None:
            self._led_dirty = True
        log.info("ioboard: connected on %s, firmware %s, boot %04x", self.port_name, self.version, status.boot_id)
        self._emit(BoardConnected(self.port_name, self.version, status.boot_id, status))
        self._apply(status)

    def _lost(self, reason: str) -> None:
        was = self._connected
        self._close()
        for job in list(self._jobs):
            job.error = LinkError(reason)
            job.done.set()
        self._jobs.clear()
        self._hb_pending = False
        if was:
            self.stats["reconnects"] += 1
            log.warning("ioboard: link lost on %s: %s; recent traffic:\n%s", self.port_name, reason,
                        self.dump_traffic())
        if was or not self._reported_down:
            self._reported_down = True
            self._emit(BoardDisconnected(self.port_name, reason))

    def _close(self) -> None:
        self._connected = False
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # a vanished port may fail to close; nothing left to do
                pass

    # --- codec pump ---------------------------------------------------------------------------
    def _write(self, data: bytes, what: str) -> None:
        if data:
            self.traffic.append((time.monotonic(), "tx", what))
            self._port.write(data)

    def _pump(self) -> None:
        assert self._proto is not None
        data = self._port.read(max(1, self._port.in_waiting))
        if data:
            self._proto.feed(data)
        while True:
            now = time.monotonic()
            event = self._proto.next_event(now)
            if event is NEED_DATA:
                return
            self._handle(event, now)

    def _handle(self, event: Any, now: float) -> None:
        assert self._proto is not None
        if isinstance(event, (Ack, Nak)):
            self.traffic.append((now, "rx", f"{type(event).__name__.lower()} {event.seq}"))
            if isinstance(event, Ack):
                self._reset_acked = self._reset_acked or event.seq == 0
            else:
                self.stats["naks"] += 1
                self._write(self._proto.data_to_send(), "resend after nak")
            if self._proto.window.desync:
                self._need_resync = True
        elif isinstance(event, Reply):
            self.traffic.append((now, "rx", f"{event.name} for {event.seq}"))
            self._replies[event.seq] = event
        elif isinstance(event, Notice):
            self.traffic.append((now, "rx", f"event {event.name}"))
            self._notice(event)
        elif isinstance(event, Dropped):
            self.stats["noise_bytes"] += event.count

    def _resend_due(self) -> None:
        assert self._proto is not None
        frames = self._proto.due(time.monotonic())
        if frames:
            self._write(frames, "resend after timeout")
        window = self._proto.window
        self.stats["retransmits"] = window.retransmits
        if window.timeouts_in_row >= self.max_timeouts:
            raise LinkError(f"board stopped acknowledging ({window.timeouts_in_row} resends)")

    def _send(self, cmd: int, payload: bytes, what: str) -> int:
        assert self._proto is not None
        while not self._proto.window.can_send():
            self._pump()
            self._resend_due()
        self._replies.pop(self._proto.window.next_seq, None)
        seq, frame = self._proto.send(cmd, payload, time.monotonic())
        self._write(frame, f"{what} seq {seq}")
        return seq

    def _send_named(self, name: str, *args: int) -> int:
        assert self._proto is not None and self._proto.dictionary is not None
        cmd, payload = self._proto.dictionary.encode(name, *args)
        return self._send(cmd, payload, name)

    def _call(self, cmd: int, payload: bytes, what: str) -> Reply:
        for _ in range(self.retries):
            self._sync_if_needed()
            seq = self._send(cmd, payload, what)
            deadline = time.monotonic() + self.reply_timeout
            while time.monotonic() < deadline and not self._need_resync:
                reply = self._replies.pop(seq, None)
                if reply is not None:
                    if reply.name == "error":
                        raise IoBoardError(f"board refused {what}: {reply.fields}")
                    return reply
                self._pump()
                self._resend_due()
        raise LinkError(f"no reply to {what} after {self.retries} tries")

    def _acked(self, seq: int) -> Reply:
        """Wait until frame `seq` is acknowledged (retransmitting as needed)."""
        assert self._proto is not None
        while any(s == seq for s, _ in self._proto.window.unacked):
            self._pump()
            self._sync_if_needed()
            self._resend_due()
        return Reply(seq, "ack", {})

    def _call_named(self, name: str, *args: int) -> Reply:
        assert self._proto is not None and self._proto.dictionary is not None
        cmd, payload = self._proto.dictionary.encode(name, *args)
        return self._call(cmd, payload, name)

    def _reset_link(self) -> None:
        assert self._proto is not None
        for _ in range(self.retries):
            self._reset_acked = False
            self._write(self._proto.reset(), "reset")
            deadline = time.monotonic() + self.reply_timeout
            while time.monotonic() < deadline:
                self._pump()
                if self._reset_acked:
                    self._proto.window.desync = False
                    self._need_resync = False
                    return
        raise LinkError("board does not answer RESET")

    def _sync_if_needed(self) -> None:
        """After a board reboot or a lost RESET: renumber and resend what was unacknowledged."""
        if not self._need_resync:
            return
        assert self._proto is not None
        self.stats["resyncs"] += 1
        pending = self._proto.unacked_commands()
        self._replies.clear()
        self._reset_link()
        for cmd, payload in pending:
            self._send(cmd, payload, "resend after resync")

    def _drain(self) -> None:
        assert self._proto is not None and self._proto.dictionary is not None
        if self._hb_pending:
            self._hb_pending = False
            self._send_named("heartbeat", int(time.time()) & 0xFFFFFFFF)
            self.stats["heartbeats"] += 1
        if self._led_dirty and self._led is not None:
            self._led_dirty = False
            self._send_named("set_led", self._proto.dictionary.pattern_id(self._led))
        while self._acks:
            self._send_named("tamper_ack", self._acks.popleft())
        while self._jobs:
            job = self._jobs.popleft()
            try:
                if job.name in REPLYING:
                    job.result = self._call_named(job.name, *job.args)
                else:
                    job.result = self._acked(self._send_named(job.name, *job.args))
            except IoBoardError as exc:
                job.error = exc
            except BaseException as exc:
                job.error = exc
                job.done.set()
                raise
            job.done.set()

    def _emit(self, event: IoBoardEvent) -> bool:
        try:
            self.on_event(event)
            return True
        except Exception:
            log.exception("ioboard: event handler failed for %r", event)
            return False
