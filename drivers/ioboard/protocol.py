"""Sans-I/O host side of the IO-board link (h11's shape, Klipper's content).

Bytes in through `HostProtocol.feed()`, events out of `next_event()`
(`Ack`, `Nak`, `Reply`, `Notice`, `Dropped` or `NEED_DATA`), bytes to write out of
`send()` / `due()` / `data_to_send()`.  No serial import, no clock: callers
pass `now`.  The framing, CRC and retransmit window are `framing.py`, the very
file the firmware runs.

Only the bootstrap is hard-coded: `identify` is command 0 with a u16 offset and
its reply is 0x80 (Klipper's identify).  Everything else, ids and argument
formats, comes from the dictionary the board returns (`Dictionary`).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

from . import framing as fr

IDENTIFY_CMD = 0
IDENTIFY_REPLY = 0x80
PROTO = 1
REQUIRED_COMMANDS = ("identify", "heartbeat", "config", "get_status", "tamper_ack", "set_led", "shutdown",
                     "clear_shutdown")
HOST_PATTERNS = ("ok", "degraded", "fault")


class IoBoardError(Exception):
    """The board answered, but not as this driver understands (version, dictionary, config)."""

    def __init__(self, reason: str, consequence: str = "the IO board is not used until it answers correctly") -> None:
        super().__init__(reason)
        self.reason = reason
        self.consequence = consequence


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


@dataclass(frozen=True)
class Ack:
    seq: int  # next sequence number the board expects


@dataclass(frozen=True)
class Nak:
    seq: int


@dataclass(frozen=True)
class Reply:
    seq: int  # the command this answers
    name: str
    fields: dict[str, Any]
    items: tuple[dict[str, Any], ...] = ()
    raw: bytes = b""


@dataclass(frozen=True)
class Notice:
    """An unsolicited board event (tamper, presence, boot, shutdown, power_cycle)."""

    name: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Dropped:
    count: int


@dataclass(frozen=True)
class Latch:
    latch_id: int
    opened_at: int  # unix seconds by the board's estimate of host time; 0 = unknown
    uptime_ms: int
    still_open: bool


@dataclass(frozen=True)
class BoardStatus:
    state: str  # running | shutdown
    flags: frozenset[str]
    led: str
    boot_id: int
    temperature_c: float
    uptime_ms: int
    config_crc: int
    pending: int
    overflow: int
    shutdown_reason: str
    latches: tuple[Latch, ...] = field(default=())

    @property
    def tamper(self) -> str:
        return "open" if "tamper_open" in self.flags else "closed"


@dataclass(frozen=True)
class BoardConfig:
    """Watchdog timings sent to the board at connect (fields of the dictionary's `config`)."""

    watchdog_timeout_ms: int = 120_000
    boot_grace_ms: int = 300_000
    quiet_ms: int = 15_000
    cycle_ms: int = 5_000
    max_cycles: int = 3

    def values(self) -> tuple[int, ...]:
        return (self.watchdog_timeout_ms, self.boot_grace_ms, self.quiet_ms, self.cycle_ms, self.max_cycles)


class Dictionary:
    """The board's command dictionary (from `identify`): encode commands, decode replies and events."""

    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("app") != "estation-ioboard":
            raise IoBoardError(f"not an e-Station IO board: app={doc.get('app')!r}")
        if doc.get("proto") != PROTO:
            raise IoBoardError(f"board protocol {doc.get('proto')} but this driver speaks {PROTO}",
                               "flash the firmware that matches this kiosk release (estation flash)")
        missing = [c for c in REQUIRED_COMMANDS if c not in doc.get("commands", {})]
        if missing:
            raise IoBoardError(f"board lacks commands {missing}")
        self.doc = doc
        self.version: str = doc["version"]
        self.commands: dict[str, tuple[int, str]] = {k: (v[0], v[1]) for k, v in doc["commands"].items()}
        self.replies = {v[0]: (k, v[1], v[2]) for k, v in doc["responses"].items()}
        self.events = {v[0]: (k, v[1], v[2]) for k, v in doc["events"].items()}
        self.config_format = self.commands["config"][1]

    @classmethod
    def from_bytes(cls, data: bytes) -> Dictionary:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise IoBoardError(f"unreadable command dictionary: {exc}") from None
        if not isinstance(doc, dict):
            raise IoBoardError("command dictionary is not an object")
        return cls(doc)

    def encode(self, name: str, *args: int) -> tuple[int, bytes]:
        cmd, fmt = self.commands[name]
        return cmd, fr.pack(fmt, args)

    def config_crc(self, config: BoardConfig) -> int:
        return fr.crc16(struct.pack(self.config_format, *config.values()))

    def pattern_id(self, name: str) -> int:
        if name not in HOST_PATTERNS:
            raise ValueError(f"LED pattern must be one of {HOST_PATTERNS}, not {name!r}")
        return int(self.doc["patterns"].index(name))

    def decode(self, table: dict[int, tuple[str, str, str]], cmd: int, payload: bytes
               ) -> tuple[str, dict[str, Any], tuple[dict[str, Any], ...]]:
        if cmd not in table:
            return f"unknown_{cmd:#04x}", {"payload": payload}, ()
        name, fmt, tail = table[cmd]
        size = struct.calcsize(fmt)
        if len(payload) < size:
            raise ValueError(f"short {name}")
        values = struct.unpack(fmt, payload[:size])
        keys = self.doc["field_names"].get(name)
        fields = dict(zip(keys, values)) if keys else {f"v{i}": v for i, v in enumerate(values)}
        items: list[dict[str, Any]] = []
        if tail:
            step = struct.calcsize(tail)
            rest = payload[size:]
            if len(rest) % step:
                raise ValueError(f"ragged {name}")
            for off in range(0, len(rest), step):
                items.append(dict(zip(self.doc["latch_fields"], struct.unpack(tail, rest[off:off + step]))))
        else:
            fields["rest"] = payload[size:]
        return name, fields, tuple(items)

    def status(self, reply: Reply) -> BoardStatus:
        """The status in a reply; IoBoardError when its values are outside the dictionary's lists
        (a frame with a good CRC can still carry them: a firmware of another build, a bug)."""
        f = reply.fields
        try:
            flags = frozenset(n for i, n in enumerate(self.doc["flags"]) if f["flags"] & (1 << i))
            reasons = self.doc["shutdown_reasons"]
            return BoardStatus(
                state=self.doc["states"][f["state"]], flags=flags, led=self.doc["patterns"][f["led"]],
                boot_id=f["boot_id"], temperature_c=f["temp_centi"] / 100, uptime_ms=f["uptime_ms"],
                config_crc=f["config_crc"], pending=f["pending"], overflow=f["overflow"],
                shutdown_reason=reasons[f["shutdown_reason"]] if f["shutdown_reason"] < len(reasons) else "unknown",
                latches=tuple(latch_from(i) for i in reply.items))
        except (IndexError, KeyError, TypeError) as exc:
            raise IoBoardError(f"{reply.name} reply out of the dictionary's range: {exc!r}") from None


def latch_from(item: dict[str, Any]) -> Latch:
    return Latch(item["latch_id"], item["opened_at"], item["uptime_ms"], bool(item["still_open"]))


class HostProtocol:
    """One connection's codec state: parser, send window, dictionary (once identified)."""

    def __init__(self, *, window: int = fr.WINDOW, rto: float = 0.05, rto_max: float = 1.0) -> None:
        self.parser = fr.FrameParser()
        self.window = fr.SendWindow(window, rto, rto_max)
        self.dictionary: Dictionary | None = None
        self._outbox = bytearray()
        self.naks = 0

    # --- outgoing ---------------------------------------------------------------------------
    def reset(self) -> bytes:
        """Restart numbering: the RESET frame; unacknowledged frames are forgotten."""
        self.window.reset()
        return fr.encode(fr.KIND_RESET, 0, 0)

    def send(self, cmd: int, payload: bytes, now: float) -> tuple[int, bytes]:
        seq = self.window.next_seq
        return seq, self.window.send(cmd, payload, now)

    def send_command(self, name: str, *args: int, now: float) -> tuple[int, bytes]:
        assert self.dictionary is not None, "identify first"
        cmd, payload = self.dictionary.encode(name, *args)
        return self.send(cmd, payload, now)

    def due(self, now: float) -> bytes:
        return b"".join(self.window.due(now))

    def data_to_send(self) -> bytes:
        out = bytes(self._outbox)
        self._outbox = bytearray()
        return out

    def unacked_commands(self) -> list[tuple[int, bytes]]:
        """(cmd, payload) of frames still unacknowledged, to resend after a resync."""
        return [fr.decode(frame)[2:] for _, frame in self.window.unacked]  # type: ignore[misc]

    # --- incoming ---------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self.parser.feed(data)

    def next_event(self, now: float) -> Ack | Nak | Reply | Notice | Dropped | _NeedData:
        frame = self.parser.next_frame()
        if frame is None:
            dropped = self.parser.take_dropped()  # noise is reported once the buffer is drained
            return Dropped(dropped) if dropped else NEED_DATA
        kind, seq, cmd, payload = frame
        if kind == fr.KIND_ACK:
            self.window.on_ack(seq, now)
            return Ack(seq)
        if kind == fr.KIND_NAK:
            self.naks += 1
            self._outbox.extend(b"".join(self.window.on_nak(seq, now)))
            return Nak(seq)
        if kind == fr.KIND_RESP:
            if cmd == IDENTIFY_REPLY and (self.dictionary is None or cmd not in self.dictionary.replies):
                if len(payload) < 2:
                    return Dropped(len(payload))
                return Reply(seq, "identify", {"offset": struct.unpack("<H", payload[:2])[0]}, (), payload[2:])
            if self.dictionary is None:
                return Dropped(len(payload))
            try:
                name, fields, items = self.dictionary.decode(self.dictionary.replies, cmd, payload)
            except (ValueError, struct.error):
                return Dropped(len(payload))
            raw = fields.pop("rest", b"") if name == "identify" else b""
            return Reply(seq, name, fields, items, raw)
        if kind == fr.KIND_EVENT and self.dictionary is not None:
            try:
                name, fields, items = self.dictionary.decode(self.dictionary.events, cmd, payload)
            except (ValueError, struct.error):
                return Dropped(len(payload))
            return Notice(name, fields)
        return self.next_event(now)  # events before identify, host-bound frames: ignore


def identify_payload(offset: int) -> bytes:
    return struct.pack("<H", offset)
