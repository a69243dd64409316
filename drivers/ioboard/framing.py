"""Frame codec shared byte for byte by the IO-board firmware and the host driver.

THE ONE SOURCE FILE.  `hardware/ioboard/framing.py` is a symlink to this file,
so `mpremote cp hardware/ioboard/*.py :` flashes exactly these bytes and the
host imports them as `drivers.ioboard.framing` (tests/hardware/
test_hw_ioboard_firmware.py proves both interpreters produce the same frames).
It therefore runs on MicroPython as well as CPython 3.11: no dataclasses, no
typing at runtime (annotations use builtins only; MicroPython ignores them),
no `from __future__`, no bytearray item deletion, no f-strings.

Wire format (Klipper's idea, with a redundant length so that no single
corrupted byte can move the CRC):

    SYNC | LEN | ~LEN | KIND<<4 | SEQ | CMD | PAYLOAD ... | CRC_H | CRC_L
    7E     7..64       kind 1-6   0-15    id    0..57 bytes   CRC-16/CCITT-FALSE
                                                             over LEN .. PAYLOAD

`check_frame` follows Klipper's `check_packet` contract: 0 = need more bytes,
-n = discard n bytes, +n = a whole valid frame of n bytes.

Host -> board commands carry a 4-bit sequence number.  The board answers
ACK(next expected seq) for a frame it executed or had already executed, and
NAK(next expected seq) for a damaged frame or one from beyond a gap; the host
keeps at most WINDOW frames unacknowledged and resends them all on NAK or on a
timeout that doubles up to a bound (`SendWindow`).  Board -> host replies and
events are not retransmitted: the host re-queries (Klipper serialqueue).
"""

import struct

SYNC = 0x7E
MIN_FRAME = 7
MAX_FRAME = 64
MAX_PAYLOAD = MAX_FRAME - MIN_FRAME
SEQ_MOD = 16
WINDOW = 4  # must stay < SEQ_MOD // 2 so a duplicate is never mistaken for a new frame
BUFFER_CAP = 4 * MAX_FRAME  # h11-style cap on buffered bytes

KIND_CMD = 1  # host -> board, sequenced, retransmitted
KIND_ACK = 2  # board -> host, seq = next expected
KIND_NAK = 3  # board -> host, seq = next expected (resend from there)
KIND_RESP = 4  # board -> host, seq = the command it answers
KIND_EVENT = 5  # board -> host, unsolicited (seq unused)
KIND_RESET = 6  # host -> board: restart sequence numbering at 0
KINDS = (KIND_CMD, KIND_ACK, KIND_NAK, KIND_RESP, KIND_EVENT, KIND_RESET)

ACCEPT = 0  # the expected frame: execute it
DUPLICATE = 1  # already executed (its ACK was lost): re-ACK, do not execute
AHEAD = 2  # a frame after a gap: NAK, do not execute


def crc16(data: bytes | bytearray, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): crc16(b"123456789") == 0x29B1."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc


def encode(kind: int, seq: int, cmd: int, payload: bytes = b"") -> bytes:
    """One frame.  Raises ValueError for a payload over MAX_PAYLOAD or a bad kind."""
    n = len(payload) + MIN_FRAME
    if n > MAX_FRAME:
        raise ValueError("payload too long: %d > %d" % (len(payload), MAX_PAYLOAD))
    if kind not in KINDS:
        raise ValueError("bad kind %d" % kind)
    body = bytes([n, n ^ 0xFF, (kind << 4) | (seq & 0x0F), cmd & 0xFF]) + bytes(payload)
    crc = crc16(body)
    return bytes([SYNC]) + body + bytes([crc >> 8, crc & 0xFF])


def check_frame(buf: bytes | bytearray) -> int:
    """Klipper contract: 0 need more, -n discard n bytes, +n frame length."""
    size = len(buf)
    if size == 0:
        return 0
    if buf[0] != SYNC:
        i = buf.find(bytes([SYNC]))
        return -(i if i > 0 else size)
    if size < 3:
        return 0
    n = buf[1]
    if n < MIN_FRAME or n > MAX_FRAME or buf[2] != n ^ 0xFF:
        return -1
    if size < n:
        return 0
    if crc16(buf[1:n - 2]) != (buf[n - 2] << 8) | buf[n - 1]:
        return -1
    if (buf[3] >> 4) not in KINDS:
        return -1
    return n


def decode(frame: bytes) -> tuple[int, int, int, bytes]:
    """(kind, seq, cmd, payload) of a frame `check_frame` accepted."""
    n = len(frame)
    return frame[3] >> 4, frame[3] & 0x0F, frame[4], bytes(frame[5:n - 2])


class FrameParser:
    """Bytes in (`feed`), checked frames out (`next_frame`); resynchronises on garbage.

    `take_dropped()` returns (and zeroes) how many bytes were discarded since the
    last call: the board answers a NAK for any.  `expire()` drops a partial frame
    that stopped arriving (the board calls it after an idle gap), so a frame whose
    length byte was damaged is NAKed at once rather than swallowing the next one.
    """

    def __init__(self, cap: int = BUFFER_CAP) -> None:
        self.buf = bytearray()
        self.cap = cap
        self.dropped = 0
        self.dropped_total = 0
        self.frames = 0

    def feed(self, data: bytes) -> None:
        self.buf.extend(data)
        excess = len(self.buf) - self.cap
        if excess > 0:
            self._drop(excess)

    def _drop(self, n: int) -> None:
        self.buf[0:n] = b""
        self.dropped += n
        self.dropped_total += n

    def next_frame(self) -> tuple[int, int, int, bytes] | None:
        while True:
            n = check_frame(self.buf)
            if n == 0:
                return None
            if n < 0:
                self._drop(-n)
                continue
            frame = bytes(self.buf[0:n])
            self.buf[0:n] = b""
            self.frames += 1
            return decode(frame)

    def pending(self) -> int:
        return len(self.buf)

    def expire(self) -> int:
        n = len(self.buf)
        if n:
            self._drop(n)
        return n

    def take_dropped(self) -> int:
        n = self.dropped
        self.dropped = 0
        return n

    def clear(self) -> None:
        self.buf = bytearray()
        self.dropped = 0


def seq_distance(a: int, b: int) -> int:
    """How far `b` is ahead of `a`, modulo SEQ_MOD."""
    return (b - a) % SEQ_MOD


class ReceiveWindow:
    """Board side: which command frames to execute (each exactly once)."""

    def __init__(self) -> None:
        self.expected = 0

    def reset(self) -> None:
        self.expected = 0

    def accept(self, seq: int) -> int:
        if seq == self.expected:
            self.expected = (seq + 1) % SEQ_MOD
            return ACCEPT
        back = seq_distance(seq, self.expected)
        if 0 < back <= SEQ_MOD // 2:
            return DUPLICATE
        return AHEAD

    def ack(self) -> bytes:
        return encode(KIND_ACK, self.expected, 0)

    def nak(self) -> bytes:
        return encode(KIND_NAK, self.expected, 0)


class SendWindow:
    """Host side: sequence numbers, the unacknowledged frames and when to resend them.

    Times are plain numbers in one unit chosen by the caller (the host uses
    seconds from time.monotonic()).  The resend timeout starts at `rto`, doubles
    on each timeout up to `rto_max` and falls back to `rto` on progress.
    """

    def __init__(self, window: int = WINDOW, rto: float = 0.05, rto_max: float = 1.0) -> None:
        if not 0 < window < SEQ_MOD // 2:
            raise ValueError("window must be 1..%d" % (SEQ_MOD // 2 - 1))
        self.window = window
        self.rto_base = rto
        self.rto_max = rto_max
        self.reset()
        self.retransmits = 0
        self.sent = 0

    def reset(self) -> None:
        self.next_seq = 0
        self.unacked: list[tuple[int, bytes]] = []  # (seq, frame), oldest first
        self.sent_at: list[float] = []  # when each was last sent
        self.rto = self.rto_base
        self.timeouts_in_row = 0
        self.last_resend = -1.0e30
        self.desync = False

    def can_send(self) -> bool:
        return len(self.unacked) < self.window

    def send(self, cmd: int, payload: bytes, now: float) -> bytes:
        if not self.can_send():
            raise ValueError("window full")
        seq = self.next_seq
        frame = encode(KIND_CMD, seq, cmd, payload)
        self.unacked.append((seq, frame))
        self.sent_at.append(now)
        self.next_seq = (seq + 1) % SEQ_MOD
        self.sent += 1
        return frame

    def _ack_upto(self, nxt: int) -> int:
        """Forget frames before `nxt`; -1 if `nxt` is outside the window (desync)."""
        if not self.unacked:
            return 0 if nxt == self.next_seq else -1
        count = seq_distance(self.unacked[0][0], nxt)
        if count > len(self.unacked):
            return -1
        self.unacked[0:count] = []
        self.sent_at[0:count] = []
        return count

    def on_ack(self, nxt: int, now: float) -> int:
        count = self._ack_upto(nxt)
        if count < 0:
            self.desync = True
            return 0
        if count:
            self.rto = self.rto_base
            self.timeouts_in_row = 0
        return count

    def on_nak(self, nxt: int, now: float) -> list[bytes]:
        count = self._ack_upto(nxt)
        if count < 0:
            self.desync = True
            return []
        if count:
            self.timeouts_in_row = 0
        # several NAKs for one loss arrive together: resend once per base timeout
        if not self.unacked or now - self.last_resend < self.rto_base:
            return []
        return self._resend(now)

    def due(self, now: float) -> list[bytes]:
        """Frames to resend because the oldest waited longer than the current timeout."""
        if not self.unacked or now - self.sent_at[0] < self.rto:
            return []
        self.timeouts_in_row += 1
        self.rto = min(self.rto * 2, self.rto_max)
        return self._resend(now)

    def _resend(self, now: float) -> list[bytes]:
        self.last_resend = now
        out = []
        for i in range(len(self.unacked)):
            self.sent_at[i] = now
            out.append(self.unacked[i][1])
        self.retransmits += len(out)
        return out


def pack(fmt: str, values: tuple[object, ...]) -> bytes:
    """struct.pack for a dictionary format; "" means no arguments."""
    if not fmt:
        return b""
    return struct.pack(fmt, *values)


def unpack(fmt: str, payload: bytes) -> tuple[object, ...]:
    """struct.unpack for a dictionary format; ValueError on a wrong length."""
    if not fmt:
        if payload:
            raise ValueError("unexpected arguments")
        return ()
    if struct.calcsize(fmt) != len(payload):
        raise ValueError("bad argument length")
    return struct.unpack(fmt, payload)
