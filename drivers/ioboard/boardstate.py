"""Board state as the host sees it: config CRC handshake, reboot detection, tamper latches, presence.

A mixin of `transport.SerialIoBoard` (split out to keep modules small); it runs
on the transport's I/O thread and uses its `_call_named`, `_emit` and queues.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .events import BoardRebooted, BoardShutdown, PowerCycleStarted, PresenceChanged, TamperChanged, TamperLatched
from .protocol import BoardStatus, IoBoardError, Latch, Notice, latch_from

log = logging.getLogger("drivers.ioboard")


class BoardState:
    _proto: Any
    _call_named: Any
    rearm_on_connect: bool
    _emit: Any

    # --- board state --------------------------------------------------------------------------
    def _configure(self) -> BoardStatus:
        assert self._proto is not None and self._proto.dictionary is not None
        dictionary = self._proto.dictionary
        status = dictionary.status(self._call_named("get_status"))
        if status.state == "shutdown" and self.rearm_on_connect:
            # Left there by the last run (its `shutdown` on the way down, or a board error): the
            # watchdog is disarmed until a host clears it, and a starting kiosk is that host.
            log.warning("ioboard: board was in shutdown (%s); clearing it", status.shutdown_reason)
            status = dictionary.status(self._call_named("clear_shutdown"))
        if status.state == "shutdown":
            return status  # a board in shutdown takes no config; left as found
        expected = dictionary.config_crc(self.config)
        if "configured" not in status.flags or status.config_crc != expected:
            status = dictionary.status(self._call_named("config", *self.config.values()))
            if status.config_crc != expected:
                raise IoBoardError(f"config CRC {status.config_crc:04x} != {expected:04x} after config")
        return status

    def _refresh(self) -> None:
        assert self._proto is not None and self._proto.dictionary is not None
        status = self._proto.dictionary.status(self._call_named("get_status"))
        if status.boot_id != self.boot_id or "configured" not in status.flags:
            log.warning("ioboard: board rebooted (boot %s -> %04x); reconfiguring", self.boot_id, status.boot_id)
            self.boot_id = status.boot_id
            status = self._configure()
            self._led_dirty = self._led is not None
            self._emit(BoardRebooted(status.boot_id))
        self._apply(status)

    def _apply(self, status: BoardStatus) -> None:
        self.last_status = status
        self._status_at = time.monotonic()
        self._set_tamper(status.tamper)
        present = "presence" in status.flags
        if self._presence is not None and present != self._presence:
            self._emit(PresenceChanged(present))
        self._presence = present
        for latch in status.latches:
            self._deliver(latch)

    def _set_tamper(self, state: str) -> None:
        if state != self._tamper:
            self._tamper = state
            self._emit(TamperChanged(state))

    def _deliver(self, latch: Latch) -> None:
        key = (self.boot_id or 0, latch.latch_id)
        if key not in self._delivered:
            if not self._emit(TamperLatched(latch.latch_id, latch.opened_at, latch.uptime_ms, latch.still_open,
                                            self.boot_id or 0)):
                return  # not acknowledged: the board offers it again
            self._delivered.append(key)
            self.stats["tamper_delivered"] += 1
        if latch.latch_id not in self._acks:
            self._acks.append(latch.latch_id)

    def _notice(self, notice: Notice) -> None:
        f = notice.fields
        if notice.name == "tamper":
            latch = latch_from(f)
            if latch.still_open and self._connected:
                self._set_tamper("open")
            self._deliver(latch)
        elif notice.name == "presence":
            self._presence = bool(f["present"])
            self._emit(PresenceChanged(self._presence))
        elif notice.name == "boot":
            if f["boot_id"] != self.boot_id:
                self._need_resync = True
                self._status_at = 0.0  # refresh now: reconfigure, BoardRebooted
        elif notice.name == "shutdown":
            assert self._proto is not None and self._proto.dictionary is not None
            reasons = self._proto.dictionary.doc["shutdown_reasons"]
            self._emit(BoardShutdown(reasons[f["reason"]] if f["reason"] < len(reasons) else "unknown"))
        elif notice.name == "power_cycle":
            self._emit(PowerCycleStarted(f["consecutive"]))
