"""Real-time status (DLE EOT n) and everything else the printer sends back, sans-I/O.

Host -> printer (real-time: the printer answers even while offline or busy):

    DLE EOT n      10 04 n                        n = 1..4, one status byte back
    DLE DC4 fn=8   10 14 08 01 03 14 01 06 02 08  clear receive + print buffers, "37 25 00" back

Printer -> host:

    status byte    0xx1xx10b (bits 0, 1, 4, 7 fixed: byte & 0x93 == 0x12)
    process ID     37 22 d1 d2 d3 d4 00           answer to GS ( H fn=48, sent after the
                                                  data before it has been *printed*
    clear reply    37 25 00                       answer to DLE DC4 fn=8

The status bit meanings follow the Epson ESC/POS reference (DLE EOT); they are one
table, `STATUS_BITS`, used both to decode (host) and to encode (simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

from .errors import EscPosError
from .protocol import NEED_DATA, _NeedData

__all__ = [
    "StatusRequest", "STATUS_BITS", "request_status", "CLEAR_BUFFERS", "is_status_byte", "decode_status",
    "encode_status", "PrinterStatus", "StatusByte", "ProcessIdAck", "ClearAck", "Noise", "ReplyParser", "NEED_DATA",
]

DLE, EOT, DC4 = 0x10, 0x04, 0x14
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bit1 = 1, bit4 = 1, bit0 = bit7 = 0 in every status byte
CLEAR_BUFFERS = bytes([DLE, DC4, 0x08, 1, 3, 20, 1, 6, 2, 8])
PROCESS_ID_HEADER = b"\x37\x22"
CLEAR_REPLY = b"\x37\x25\x00"


class StatusRequest(IntEnum):
    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    ROLL_PAPER = 4


# n -> {flag: bit mask}.  A flag is set when any of its bits is set: the reference
# sets both bits of a roll-paper pair, some compatibles only one.
STATUS_BITS: dict[StatusRequest, dict[str, int]] = {
    StatusRequest.PRINTER: {
        "drawer_pin3_high": 1 << 2, "offline": 1 << 3,
        "waiting_online_recovery": 1 << 5, "feed_button_pressed": 1 << 6,
    },
    StatusRequest.OFFLINE_CAUSE: {
        "cover_open": 1 << 2, "feeding_by_button": 1 << 3, "paper_end_stop": 1 << 5, "error": 1 << 6,
    },
    StatusRequest.ERROR_CAUSE: {
        "recoverable_error": 1 << 2, "autocutter_error": 1 << 3,
        "unrecoverable_error": 1 << 5, "auto_recoverable_error": 1 << 6,
    },
    StatusRequest.ROLL_PAPER: {
        "paper_near_end": 0b11 << 2, "paper_out": 0b11 << 5,
    },
}


def request_status(n: int) -> bytes:
    """DLE EOT n."""
    return bytes([DLE, EOT, StatusRequest(n)])


def is_status_byte(value: int) -> bool:
    return value & FIXED_MASK == FIXED_BITS


def decode_status(n: int, value: int) -> dict[str, bool]:
    """Flags of one DLE EOT n reply byte; EscPosError if the fixed bits are wrong."""
    if not 0 <= value <= 0xFF or not is_status_byte(value):
        raise EscPosError(f"0x{value:02X} is not a status byte (fixed bits 0xx1xx10)")
    return {flag: bool(value & mask) for flag, mask in STATUS_BITS[StatusRequest(n)].items()}


def encode_status(n: int, **flags: bool) -> int:
    """The reply byte a printer sends for DLE EOT n with these flags set (the simulator's side)."""
    table = STATUS_BITS[StatusRequest(n)]
    unknown = set(flags) - set(table)
    if unknown:
        raise ValueError(f"no such flag for DLE EOT {n}: {sorted(unknown)}")
    value = FIXED_BITS
    for flag, on in flags.items():
        if on:
            value |= table[flag]
    return value


@dataclass(frozen=True)
class PrinterStatus:
    """What the four real-time status bytes say, reduced to what the kiosk acts on."""

    offline: bool = False
    cover_open: bool = False
    paper_low: bool = False  # near-end sensor: print, but tell the operator
    paper_out: bool = False
    error: bool = False  # any cutter / mechanical / unrecoverable error
    detail: tuple[str, ...] = ()  # every raw flag that was set, for logs and `doctor`

    @classmethod
    def from_bytes(cls, replies: dict[int, int]) -> PrinterStatus:
        """Combine the replies to DLE EOT 1..4 (missing ones count as all-clear)."""
        flags: dict[str, bool] = {}
        for n, value in replies.items():
            flags.update(decode_status(n, value))
        set_flags = tuple(sorted(f for f, on in flags.items() if on))
        error = any(flags.get(f) for f in ("error", *STATUS_BITS[StatusRequest.ERROR_CAUSE]))
        return cls(
            offline=flags.get("offline", False),
            cover_open=flags.get("cover_open", False),
            paper_low=flags.get("paper_near_end", False),
            paper_out=flags.get("paper_out", False) or flags.get("paper_end_stop", False),
            error=error,
            detail=set_flags,
        )

    @property
    def ok(self) -> bool:
        """Printing can go on (near-end paper still prints)."""
        return not (self.offline or self.cover_open or self.paper_out or self.error)

    @property
    def summary(self) -> str:
        """One of ok / paper_low / paper_out / fault (the kiosk's Printer.status() vocabulary)."""
        if self.paper_out:
            return "paper_out"
        if not self.ok:
            return "fault"
        return "paper_low" if self.paper_low else "ok"

    def flags(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "detail"}


# --- printer -> host reply stream ------------------------------------------------------------

@dataclass(frozen=True)
class StatusByte:
    value: int


@dataclass(frozen=True)
class ProcessIdAck:
    """The printer has printed everything sent before GS ( H with this id."""

    process_id: str


@dataclass(frozen=True)
class ClearAck:
    """Answer to DLE DC4 fn=8: the receive and print buffers are empty."""


@dataclass(frozen=True)
class Noise:
    """Bytes that are none of the above (line noise, an ASB we did not ask for)."""

    count: int


ReplyEvent = StatusByte | ProcessIdAck | ClearAck | Noise


class ReplyParser:
    """Splits the printer's byte stream into replies.  Never raises: noise becomes `Noise`."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self._buf.clear()

    def next_event(self) -> ReplyEvent | _NeedData:
        buf = self._buf
        if not buf:
            return NEED_DATA
        first = buf[0]
        if is_status_byte(first):
            del buf[:1]
            return StatusByte(first)
        if first == 0x37:
            verdict = _check_reply(buf)
            if verdict == 0:
                return NEED_DATA
            if verdict == 7:
                pid = bytes(buf[2:6]).decode("ascii")
                del buf[:7]
                return ProcessIdAck(pid)
            if verdict == 3:
                del buf[:3]
                return ClearAck()
        # Drop a run of bytes up to the next one that could start a reply.
        n = 1
        while n < len(buf) and not is_status_byte(buf[n]) and buf[n] != 0x37:
            n += 1
        del buf[:n]
        return Noise(n)


def _check_reply(buf: bytearray) -> int:
    """For a buffer starting with 0x37: 7 (process-ID reply), 3 (clear reply), 0 (need more), -1 (not a reply).

    Each byte is checked as soon as it is here, so a status byte right after a
    stray 0x37 is not held back waiting for a 7-byte reply that cannot be one."""
    if len(buf) < 2:
        return 0
    if buf[1] == 0x25:
        return 0 if len(buf) < 3 else 3 if buf[2] == 0 else -1
    if buf[1] != 0x22:
        return -1
    for i in range(2, min(len(buf), 7)):
        if not (32 <= buf[i] <= 126 if i < 6 else buf[i] == 0):
            return -1
    return 7 if len(buf) >= 7 else 0
