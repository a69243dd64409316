"""Sans-I/O codec for the SAM serial protocol (IDCARD.md §3-§7, §12).

No I/O and no pyserial here (h11's shape): bytes go in through
`FrameParser.feed()`, events come out of `FrameParser.next_event()`, and
`build_command()` / `build_response()` turn requests into bytes.

    host -> reader: AA AA AA 96 69 | LEN_H LEN_L | CMD PARA DATA.. | CHK
    reader -> host: AA AA AA 96 69 | LEN_H LEN_L | SW1 SW2 SW3 DATA.. | CHK

LEN counts the bytes after it, CHK included; CHK is the XOR of LEN_H .. last DATA.

Malformed input raises `ProtocolError` (a ValueError) with a reason, and nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from .codes import Status
from .errors import ProtocolError
from .textblock import TEXT_LEN, decode_text_block, encode_text_block

__all__ = [
    "PREAMBLE", "MAX_LEN", "ProtocolError", "Frame", "Garbage", "NEED_DATA", "FrameParser",
    "check_frame", "checksum", "build_command", "build_response", "parse_read_response",
    "decode_frame", "build_read_response", "parse_sam_id", "Command",
]

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = 7  # preamble + LEN
MAX_LEN = 0x1000  # the largest real response is 2314
MIN_RESPONSE_LEN = 4  # SW1 SW2 SW3 CHK
MIN_COMMAND_LEN = 3  # CMD PARA CHK
MIN_RESPONSE_FRAME = HEADER_LEN + MIN_RESPONSE_LEN  # 11 bytes


class Command(bytes, Enum):
    """(CMD, PARA) pairs of §4."""

    RESET_SAM = b"\x10\xff"
    SAM_STATUS = b"\x11\xff"
    SAM_ID = b"\x12\xff"
    FIND_CARD = b"\x20\x01"
    SELECT_CARD = b"\x20\x02"
    READ_TEXT_PHOTO = b"\x30\x01"
    READ_APPENDED_ADDRESS = b"\x30\x03"
    READ_TEXT_PHOTO_FP = b"\x30\x10"


def checksum(data: bytes) -> int:
    """XOR of all bytes (LEN_H .. last DATA byte)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def _frame(payload: bytes) -> bytes:
    body = struct.pack(">H", len(payload) + 1) + payload
    return PREAMBLE + body + bytes([checksum(body)])


def build_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    """Host -> reader frame, e.g. build_command(0x20, 0x01) == AA AA AA 96 69 00 03 20 01 22."""
    return _frame(bytes([cmd, para]) + data)


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    """Reader -> host frame (the simulator speaks with this)."""
    return _frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True, slots=True)
class Frame:
    """One checked frame: `payload` is everything between LEN and CHK."""

    payload: bytes

    # response view
    @property
    def sw1(self) -> int:
        return self.payload[0]

    @property
    def sw2(self) -> int:
        return self.payload[1]

    @property
    def sw3(self) -> int:
        return self.payload[2]

    @property
    def data(self) -> bytes:
        return self.payload[3:]

    # command view
    @property
    def command(self) -> bytes:
        return self.payload[:2]

    @property
    def command_data(self) -> bytes:
        return self.payload[2:]

    def __len__(self) -> int:
        return HEADER_LEN + len(self.payload) + 1


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes the parser dropped while resynchronising, and why.

    `reason` is "noise" for bytes before a preamble, otherwise a frame-level
    error ("bad length", "bad checksum") on a frame that started with a preamble.
    """

    count: int
    reason: str

    @property
    def frame_error(self) -> bool:
        return self.reason != "noise"


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()


def _preamble_prefix_at_end(buf: bytes | bytearray) -> int:
    """Length of the longest suffix of buf that could start a preamble."""
    for k in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf[-k:] == PREAMBLE[:k]:
            return k
    return 0


def check_frame(buf: bytes | bytearray, min_len: int = MIN_RESPONSE_LEN) -> tuple[int, str]:
    """Klipper's check_packet contract: (0, '') need more data; (-n, why) discard n
    bytes; (+n, '') a complete, checked frame of n bytes is at the start of buf."""
    start = bytes(buf[:len(PREAMBLE)])
    if start != PREAMBLE[:len(start)]:
        pos = bytes(buf).find(PREAMBLE)
        if pos < 0:
            pos = len(buf) - _preamble_prefix_at_end(buf)
        return (-pos, "noise") if pos else (-1, "noise")
    if len(buf) < HEADER_LEN:
        return 0, ""
    length = (buf[5] << 8) | buf[6]
    if length < min_len or length > MAX_LEN:
        return -1, "bad length"
    total = HEADER_LEN + length
    if len(buf) < total:
        return 0, ""
    if checksum(buf[5:total - 1]) != buf[total - 1]:
        return -1, "bad checksum"
    return total, ""


class FrameParser:
    """Streaming frame splitter with resynchronisation (IDCARD.md §3).

    feed() bytes as they arrive, then call next_event() until NEED_DATA.
    Events are `Frame` or `Garbage`.  Commands are parsed with min_len=3
    (the simulator), responses with min_len=4 (the host).
    """

    def __init__(self, min_len: int = MIN_RESPONSE_LEN) -> None:
        self._buf = bytearray()
        self._min_len = min_len

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        self._buf.clear()

    def next_event(self) -> Frame | Garbage | _NeedData:
        if not self._buf:
            return NEED_DATA
        result, why = check_frame(self._buf, self._min_len)
        if result == 0:
            return NEED_DATA
        if result < 0:
            # Coalesce noise runs so one burst of garbage is one event.
            dropped = -result
            del self._buf[:dropped]
            return Garbage(dropped, why)
        frame = Frame(bytes(self._buf[HEADER_LEN:result - 1]))
        del self._buf[:result]
        return frame


# --- read response (§7, §12.1 steps 2-6) -------------------------------------------------------

def parse_read_response(frame: Frame) -> dict:
    """Contract dict (§12.2) of a checked `30 01` / `30 10` response frame."""
    if len(frame.payload) < 3:
        raise ProtocolError("response too short for a status word")
    if frame.sw3 != Status.OK:
        raise ProtocolError(f"status SW3=0x{frame.sw3:02X}, expected 0x90")
    data = frame.data
    if len(data) < 4:
        raise ProtocolError(f"read response carries {len(data)} data bytes, need at least 4")
    tl, pl = struct.unpack(">HH", data[:4])
    if len(data) == 4 + tl + pl:
        text_at, fl = 4, 0
    elif len(data) >= 6 and len(data) == 6 + tl + pl + (fl := struct.unpack(">H", data[4:6])[0]):
        text_at = 6
    else:
        raise ProtocolError(f"data length {len(data)} does not match TL={tl} PL={pl}")
    if tl != TEXT_LEN:
        raise ProtocolError(f"text length TL={tl}, expected {TEXT_LEN}")
    card = decode_text_block(data[text_at:text_at + TEXT_LEN])
    card["photo_bytes"] = pl
    card["fingerprint_bytes"] = fl
    return card


def decode_frame(raw: bytes) -> dict:
    """Decode exactly one complete read-response frame (the `decode` CLI, §12.1)."""
    if raw[:len(PREAMBLE)] != PREAMBLE:
        raise ProtocolError("frame does not start with the preamble AA AA AA 96 69")
    if len(raw) < MIN_RESPONSE_FRAME:
        raise ProtocolError(f"frame is {len(raw)} bytes, shorter than the minimum {MIN_RESPONSE_FRAME}")
    length = (raw[5] << 8) | raw[6]
    if length < MIN_RESPONSE_LEN:
        raise ProtocolError(f"LEN={length} is below the minimum {MIN_RESPONSE_LEN}")
    if len(raw) < HEADER_LEN + length:
        raise ProtocolError(f"truncated frame: LEN={length} needs {HEADER_LEN + length} bytes, got {len(raw)}")
    if len(raw) > HEADER_LEN + length:
        raise ProtocolError(f"{len(raw) - HEADER_LEN - length} trailing bytes after the frame")
    if checksum(raw[5:-1]) != raw[-1]:
        raise ProtocolError(f"checksum mismatch: computed 0x{checksum(raw[5:-1]):02X}, frame has 0x{raw[-1]:02X}")
    return parse_read_response(Frame(raw[HEADER_LEN:-1]))


def build_read_response(card: dict, *, photo: bytes | None = None, fingerprint: bytes | None = None) -> bytes:
    """A `30 01` response (or `30 10` when fingerprint is given) carrying `card`."""
    photo = bytes(1024) if photo is None else photo
    text = encode_text_block(card)
    if fingerprint is None:
        data = struct.pack(">HH", TEXT_LEN, len(photo)) + text + photo
    else:
        data = struct.pack(">HHH", TEXT_LEN, len(photo), len(fingerprint)) + text + photo + fingerprint
    return build_response(Status.OK, data)


def parse_sam_id(data: bytes) -> str:
    """SAM id (`12 FF`, 16 bytes): two LE uint16 and three LE uint32 (§4)."""
    if len(data) != 16:
        raise ProtocolError(f"SAM id is {len(data)} bytes, expected 16")
    a, b, c, d, e = struct.unpack("<HHIII", data)
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"


def build_sam_id(a: int, b: int, c: int, d: int, e: int) -> bytes:
    return struct.pack("<HHIII", a, b, c, d, e)
