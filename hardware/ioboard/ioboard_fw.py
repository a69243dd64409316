"""IO-board firmware logic: commands, host watchdog, tamper latch, presence, LEDs, shutdown.

Runs unchanged on the RP2040 (MicroPython), on the MicroPython unix port and
on CPython (the simulator), so: no dataclasses, no typing at runtime, no
`time` or `machine` import here.  The clock and the hardware are passed in
(`main.py` wires the real ones; drivers/ioboard/sim.py wires the fakes).

Klipper's split: the host thinks, the board stays small and safe on its own.
  * `identify` (command id 0, fixed) returns the command dictionary (JSON, in
    chunks) with the version; the host builds its encoder from it.
  * `config` sets the watchdog timings; `status` reports the config CRC so the
    host notices a swapped or rebooted board (config CRC handshake).
  * Safe defaults: an unconfigured board uses DEFAULT_CONFIG (long timeouts);
    a quiet host turns the LEDs to `degraded`; the relay is released (Pi
    powered) in every state except a running power cycle.
  * `shutdown` is a state, entered on request or on an internal error: the
    power-cycle watchdog is disarmed, LEDs show `shutdown`, commands other than
    identify / get_status / clear_shutdown / tamper_ack answer `error`, and
    tamper and presence keep being watched.
"""

import struct

import framing as fr

TYPE_CHECKING = False  # mypy treats this name as True; MicroPython has no typing module
if TYPE_CHECKING:
    from typing import Any, Callable, Protocol

    class Hardware(Protocol):
        def relay(self, on: bool) -> None: ...
        def tamper_open(self) -> bool: ...
        def presence(self) -> bool: ...
        def leds(self, green: int, red: int) -> None: ...
        def temperature_centi(self) -> int: ...
        def feed(self) -> None: ...

    class Link(Protocol):
        def read(self) -> bytes: ...
        def write(self, data: bytes) -> None: ...

    Ticks = Callable[[], Any]  # time.ticks_ms returns an opaque tick on MicroPython
    Diff = Callable[[Any, Any], int]
    Trace = Callable[[int, tuple[Any, ...]], None]
    Reply = tuple[int, bytes] | None

from ioboard_dict import (BACKOFF_MS, COMMANDS, DEFAULT_CONFIG, EVENTS, IDLE_EXPIRE_MS, LATCH_SLOTS, LED_SPECS,
                          PATTERNS, PINS, REPUSH_MS, RESPONSES, STATUS_LATCHES, TEMP_EVERY_MS, VERSION, config_crc,
                          dictionary_bytes, led_level)

__all__ = ["Board", "PINS", "VERSION", "COMMANDS", "DEFAULT_CONFIG", "IDLE_EXPIRE_MS", "config_crc",
           "dictionary_bytes"]


class Board:
    """The firmware.  Call `step()` every millisecond or so.

    hw: relay(on), tamper_open() -> bool, presence() -> bool, leds(green, red),
        temperature_centi() -> int, feed() (the RP2040 watchdog).
    link: read() -> bytes (non-blocking), write(bytes).
    """

    def __init__(self, hw: "Hardware", link: "Link", ticks_ms: "Ticks", ticks_diff: "Diff",
                 boot_id: int, trace: "Trace | None" = None) -> None:
        self.hw = hw
        self.link = link
        self.ticks_ms = ticks_ms
        self.diff = ticks_diff
        self.boot_id = boot_id & 0xFFFF
        self.trace = trace  # called with (cmd id, args) for every executed command
        self.parser = fr.FrameParser()
        self.rx = fr.ReceiveWindow()
        self.dictionary = dictionary_bytes()
        self.handlers = {}
        for name in COMMANDS:
            self.handlers[COMMANDS[name][0]] = getattr(self, "_cmd_" + name)
        self.last_t = ticks_ms()
        self.boot = 0  # times below are ms since boot, accumulated from tick differences (no wrap)
        self.now = 0
        self.last_rx = self.boot
        self.last_resp: tuple[int, bytes] | None = None  # (seq, frame) of the last reply, resent for a duplicate
        self.state = 0
        self.shutdown_reason = 0
        self.config: tuple[int, ...] = DEFAULT_CONFIG
        self.configured = False
        self.host_pattern = 0
        self.host_seen = False
        self.last_hb = self.boot
        self.epoch = 0  # host unix seconds at `epoch_at`
        self.epoch_at = self.boot
        self.deadline = self.boot + DEFAULT_CONFIG[1]
        self.cycling = False
        self.cycle_end = self.boot
        self.cycles_in_row = 0
        self.cycles_total = 0
        self.latches: list[list[int]] = []  # [id, opened_at, uptime_ms, still_open]
        self.next_latch = 1
        self.overflow = 0
        self.last_push = self.boot
        self.tamper = False
        self.presence = False
        self.temp = 0
        self.last_temp = self.boot - TEMP_EVERY_MS
        self.stats = {"frames": 0, "naks": 0, "dups": 0, "errors": 0}
        self._event("boot", (self.boot_id,))

    # --- main loop --------------------------------------------------------------------------
    def step(self) -> None:
        t = self.ticks_ms()
        self.now += max(0, self.diff(t, self.last_t))
        self.last_t = t
        now = self.now
        try:
            self._receive(now)
            self._inputs(now)
            self._watchdog(now)
        except Exception:  # never die: shut down safely and keep answering (Klipper)
            self.enter_shutdown(2)
        self._leds(now)
        self.hw.feed()

    def uptime(self, now: int) -> int:
        return now & 0xFFFFFFFF

    def _send(self, frame: bytes) -> None:
        self.link.write(frame)

    def _event(self, name: str, values: tuple[int, ...]) -> None:
        ev = EVENTS[name]
        self._send(fr.encode(fr.KIND_EVENT, 0, ev[0], fr.pack(ev[1], values)))

    # --- link -------------------------------------------------------------------------------
    def _receive(self, now: int) -> None:
        data = self.link.read()
        if data:
            self.last_rx = now
            self.parser.feed(data)
            while True:
                frame = self.parser.next_frame()
                if frame is None:
                    break
                self.stats["frames"] += 1
                self._frame(frame[0], frame[1], frame[2], frame[3], now)
        elif self.parser.pending() and (now - self.last_rx) > IDLE_EXPIRE_MS:
            self.parser.expire()
        if self.parser.take_dropped():
            self.stats["naks"] += 1
            self._send(self.rx.nak())

    def _frame(self, kind: int, seq: int, cmd: int, payload: bytes, now: int) -> None:
        if kind == fr.KIND_RESET:
            self.rx.reset()
            self.last_resp = None
            self._send(self.rx.ack())
            return
        if kind != fr.KIND_CMD:
            return
        verdict = self.rx.accept(seq)
        if verdict == fr.AHEAD:
            self.stats["naks"] += 1
            self._send(self.rx.nak())
            return
        if verdict == fr.DUPLICATE:
            self.stats["dups"] += 1
            self._send(self.rx.ack())
            last = self.last_resp
            if last is not None and last[0] == seq:
                self._send(last[1])
            return
        self._send(self.rx.ack())
        reply = self._execute(cmd, payload, now)
        if reply is not None:
            frame = fr.encode(fr.KIND_RESP, seq, reply[0], reply[1])
            self.last_resp = (seq, frame)
            self._send(frame)
        else:
            self.last_resp = None

    def _execute(self, cmd: int, payload: bytes, now: int) -> "Reply":
        handler = self.handlers.get(cmd)
        if handler is None:
            return self._error(1, cmd)
        name = _command_name(cmd)
        try:
            args = fr.unpack(COMMANDS[name][1], payload)
        except ValueError:
            return self._error(2, cmd)
        if self.state == 1 and name not in ("identify", "get_status", "clear_shutdown", "tamper_ack"):
            return self._error(3, cmd)
        if self.trace is not None:
            self.trace(cmd, args)
        result: "Reply" = handler(args, now)
        return result

    def _error(self, code: int, cmd: int) -> "Reply":
        self.stats["errors"] += 1
        return (RESPONSES["error"][0], struct.pack("<BB", code, cmd))

    # --- commands ---------------------------------------------------------------------------
    def _cmd_identify(self, args: tuple[int, ...], now: int) -> "Reply":
        offset = args[0]
        chunk = self.dictionary[offset:offset + fr.MAX_PAYLOAD - 2]
        return (RESPONSES["identify"][0], struct.pack("<H", offset) + chunk)

    def _cmd_heartbeat(self, args: tuple[int, ...], now: int) -> None:
        if self.cycling:
            return  # the Pi is unpowered; a late frame must not cut the cycle short
        self.host_seen = True
        self.last_hb = now
        self.deadline = now + self.config[0]
        self.cycles_in_row = 0
        if args[0]:
            self.epoch = args[0]
            self.epoch_at = now
        return None

    def _cmd_config(self, args: tuple[int, ...], now: int) -> "Reply":
        if args[0] < 100 or args[2] < 10 or args[3] < 10 or args[4] < 1:
            return self._error(2, COMMANDS["config"][0])
        self.config = tuple(args)
        self.configured = True
        if not self.cycling:
            self.deadline = (self.last_hb if self.host_seen else now) + (
                args[0] if self.host_seen else args[1])
        return self._status(now)

    def _cmd_get_status(self, args: tuple[int, ...], now: int) -> "Reply":
        return self._status(now)

    def _cmd_tamper_ack(self, args: tuple[int, ...], now: int) -> None:
        self.latches = [latch for latch in self.latches if latch[0] != args[0]]
        return None

    def _cmd_set_led(self, args: tuple[int, ...], now: int) -> "Reply":
        if args[0] > 2:
            return self._error(2, COMMANDS["set_led"][0])
        self.host_pattern = args[0]
        return None

    def _cmd_shutdown(self, args: tuple[int, ...], now: int) -> None:
        self.enter_shutdown(args[0] or 1)
        return None

    def _cmd_clear_shutdown(self, args: tuple[int, ...], now: int) -> "Reply":
        if self.state == 1:
            self.state = 0
            self.shutdown_reason = 0
            self.deadline = now + self.config[1]
        return self._status(now)

    def enter_shutdown(self, reason: int) -> None:
        if self.state == 1:
            return
        self.state = 1
        self.shutdown_reason = reason
        self.cycling = False
        self.hw.relay(False)
        self._event("shutdown", (reason,))

    # --- status -----------------------------------------------------------------------------
    def flags(self, now: int) -> int:
        bits = (self.tamper, self.presence, self.configured, self.host_quiet(now), self.cycling,
                not self.host_seen)
        value = 0
        for i in range(len(bits)):
            if bits[i]:
                value |= 1 << i
        return value

    def host_quiet(self, now: int) -> bool:
        return not self.host_seen or (now - self.last_hb) > self.config[2]

    def _status(self, now: int) -> "Reply":
        spec = RESPONSES["status"]
        crc = config_crc(self.config)
        body = struct.pack(spec[1], self.state, self.flags(now), self.pattern(now), self.boot_id,
                           self.temp, self.uptime(now), crc, len(self.latches), min(self.overflow, 255),
                           self.shutdown_reason)
        for latch in self.latches[:STATUS_LATCHES]:
            body += struct.pack(spec[2], latch[0], latch[1], latch[2], latch[3])
        return (spec[0], body)

    # --- inputs -----------------------------------------------------------------------------
    def _inputs(self, now: int) -> None:
        tamper = self.hw.tamper_open()
        if tamper != self.tamper:
            self.tamper = tamper
            if tamper:
                self._latch(now)
            else:
                for latch in self.latches:
                    latch[3] = 0
                for latch in self.latches:
                    self._event("tamper", tuple(latch))
        presence = self.hw.presence()
        if presence != self.presence:
            self.presence = presence
            self._event("presence", (1 if presence else 0,))
        if self.latches and (now - self.last_push) >= REPUSH_MS:
            self.last_push = now
            self._event("tamper", tuple(self.latches[0]))
        if (now - self.last_temp) >= TEMP_EVERY_MS:
            self.last_temp = now
            self.temp = self.hw.temperature_centi()

    def _latch(self, now: int) -> None:
        if len(self.latches) >= LATCH_SLOTS:
            self.overflow += 1  # the oldest latches are kept; the count is reported
            return
        opened_at = 0
        if self.epoch:
            opened_at = self.epoch + (now - self.epoch_at) // 1000
        latch = [self.next_latch, opened_at, self.uptime(now), 1]
        self.next_latch = self.next_latch % 0xFFFF + 1
        self.latches.append(latch)
        self.last_push = now
        self._event("tamper", tuple(latch))

    # --- host watchdog ----------------------------------------------------------------------
    def _watchdog(self, now: int) -> None:
        if self.state == 1:
            return
        if self.cycling:
            if (now - self.cycle_end) >= 0:
                self.cycling = False
                self.hw.relay(False)
                wait = self.config[1] if self.cycles_in_row < self.config[4] else BACKOFF_MS
                if self.cycles_in_row >= self.config[4]:
                    self.cycles_in_row = 0
                self.deadline = now + wait
            return
        if (now - self.deadline) >= 0:
            self.cycling = True
            self.cycles_in_row += 1
            self.cycles_total += 1
            self.host_seen = False
            self.cycle_end = now + self.config[3]
            self.hw.relay(True)
            self._event("power_cycle", (self.cycles_in_row,))

    # --- LEDs -------------------------------------------------------------------------------
    def pattern(self, now: int) -> int:
        if self.state == 1:
            return 3
        if self.cycling:
            return 2
        if not self.host_seen:
            return 4
        if self.host_quiet(now) and self.host_pattern == 0:
            return 1
        return self.host_pattern

    def _leds(self, now: int) -> None:
        spec = LED_SPECS[PATTERNS[self.pattern(now)]]
        self.hw.leds(led_level(spec[0], now), led_level(spec[1], now))


def _command_name(cmd: int) -> str:
    for name in COMMANDS:
        if COMMANDS[name][0] == cmd:
            return name
    return ""
