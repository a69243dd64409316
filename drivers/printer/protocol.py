"""Sans-I/O ESC/POS codec: a receipt document model -> bytes, and a streaming command parser.

No I/O and no pyserial here (h11's shape).  `encode_receipt()` turns a `Receipt`
into the bytes a printer wants; `CommandParser.feed()` / `next_event()` split a
byte stream back into `Text`, `Command` and `Unknown` events (the simulator's
side).  Status requests and replies are in status.py.

Commands used (Epson ESC/POS reference; Chinese printers accept the same):

    ESC @            1B 40                  initialise
    FS &             1C 26                  Chinese character mode (text then is GB18030)
    ESC a n          1B 61 n                alignment 0 left, 1 centre, 2 right
    ESC E n          1B 45 n                emphasis on/off
    GS ! n           1D 21 n                size: width-1 in bits 4-6, height-1 in bits 0-2
    LF / ESC d n     0A / 1B 64 n           print the line / print and feed n lines
    GS ( k ...       1D 28 6B pL pH cn fn   QR (cn=49): fn 65 model, 67 module size,
                                            69 error correction, 80 store, 81 print
                                            (the reference's "functions 165/167/169/180/181")
    GS v 0 m xL xH yL yH d..               raster bit image, x in bytes, y in dots, MSB left
    GS V m [n]       1D 56 m [n]            cut: 0/48 full, 1/49 partial, 65/66 feed n then cut
    GS ( H 06 00 30 30 d1..d4               process ID: the printer answers 37 22 d1..d4 00
                                            once everything before it is printed

Malformed input (an argument out of range, a declared length over the cap) makes
`next_event()` raise `EscPosError` after consuming the command; unknown commands
are not errors, they come out as `Unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .errors import EscPosError

__all__ = [
    "Align", "Line", "QrCode", "Feed", "Receipt", "encode_receipt", "EscPosError", "Text", "Command", "Unknown",
    "CommandParser", "NEED_DATA", "INIT", "CHINESE_ON", "CHINESE_OFF", "align", "emphasis", "char_size",
    "feed_lines", "qr_native", "qr_raster", "raster", "cut", "process_id", "QR_ECC", "sanitize",
]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF = b"\n"
INIT = b"\x1b@"
CHINESE_ON = b"\x1c&"
CHINESE_OFF = b"\x1c."
TEXT_ENCODING = "gb18030"  # covers all of Unicode; GB2312/GBK printers print its BMP Hanzi subset
QR_ECC = {"L": 48, "M": 49, "Q": 50, "H": 51}
MAX_COMMAND = 1 << 18  # cap on one command's declared length (a 576-dot x 3600-dot raster is 259 KB)
MAX_TEXT = 1 << 12  # text held back waiting for LF before it is emitted anyway


class Align(IntEnum):
    LEFT = 0
    CENTER = 1
    RIGHT = 2


# --- encoder ---------------------------------------------------------------------------------

def align(a: Align | int) -> bytes:
    return bytes([ESC, 0x61, Align(a)])


def emphasis(on: bool) -> bytes:
    return bytes([ESC, 0x45, int(on)])


def char_size(width: int = 1, height: int = 1) -> bytes:
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError(f"character size {width}x{height} outside 1..8")
    return bytes([GS, 0x21, (width - 1) << 4 | (height - 1)])


def feed_lines(n: int) -> bytes:
    return bytes([ESC, 0x64, n])


def _gs_paren(fn_letter: bytes, payload: bytes) -> bytes:
    return b"\x1d(" + fn_letter + len(payload).to_bytes(2, "little") + payload


def qr_native(data: bytes, module: int = 6, ecc: str = "M") -> bytes:
    """Model 2, module size, error correction, store, print (GS ( k, cn=49)."""
    if not 1 <= module <= 16:
        raise ValueError(f"QR module size {module} outside 1..16")
    if not 1 <= len(data) <= 7089:
        raise ValueError(f"QR data of {len(data)} bytes (1..7089)")
    return (_gs_paren(b"k", b"\x31\x41\x32\x00") + _gs_paren(b"k", bytes([0x31, 0x43, module]))
            + _gs_paren(b"k", bytes([0x31, 0x45, QR_ECC[ecc]])) + _gs_paren(b"k", b"\x31\x50\x30" + data)
            + _gs_paren(b"k", b"\x31\x51\x30"))


def raster(width_dots: int, height: int, bits: bytes, mode: int = 0) -> bytes:
    """GS v 0: `bits` is rows of ceil(width/8) bytes, MSB = leftmost dot, 1 = black.

    mode 0 normal, 1 double width, 2 double height, 3 both (each dot printed 2 x 2)."""
    xbytes = (width_dots + 7) // 8
    if len(bits) != xbytes * height or not (1 <= xbytes <= 0xFFFF and 1 <= height <= 0xFFFF) or mode not in range(4):
        raise ValueError(f"raster {width_dots}x{height} mode {mode} needs {xbytes * height} bytes, got {len(bits)}")
    return b"\x1dv0" + bytes([mode]) + xbytes.to_bytes(2, "little") + height.to_bytes(2, "little") + bits


def qr_raster(data: bytes, module: int = 6, ecc: str = "M") -> bytes:
    """The QR as a raster image, for printers without GS ( k (quiet zone included).

    An even module size is sent at half size in quadruple mode: a quarter of the bytes
    on the wire (about 5 KB instead of 19 KB for a 200-character token), same print."""
    import segno  # lazy: only the fallback path needs a QR encoder

    mode, scale = (3, module // 2) if module % 2 == 0 else (0, module)
    matrix = [list(row) for row in segno.make_qr(data, error=ecc.lower(), boost_error=False).matrix_iter(border=4)]
    width = len(matrix[0]) * scale
    xbytes = (width + 7) // 8
    out = bytearray()
    for row in matrix:
        dots = "".join(("1" if dark else "0") * scale for dark in row)
        out += (int(dots, 2) << (xbytes * 8 - width)).to_bytes(xbytes, "big")  # pad the row on the right
        out += out[-xbytes:] * (scale - 1)
    return raster(width, len(matrix) * scale, bytes(out), mode)


def cut(partial: bool = True, feed: int = 0) -> bytes:
    if feed:
        return bytes([GS, 0x56, 66 if partial else 65, feed])
    return bytes([GS, 0x56, 1 if partial else 0])


def process_id(pid: str) -> bytes:
    """GS ( H fn=48: ask for `37 22 pid 00` once everything before it has been printed."""
    raw = pid.encode("ascii")
    if len(raw) != 4 or not all(32 <= b <= 126 for b in raw):
        raise ValueError(f"process id must be 4 printable ASCII characters, got {pid!r}")
    return _gs_paren(b"H", b"\x30\x30" + raw)


def sanitize(text: str) -> str:
    """Control characters become spaces: a name or a job title must never smuggle in a command."""
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)


# --- document model -------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    width: int = 1  # character magnification, 1..8
    height: int = 1


@dataclass(frozen=True)
class QrCode:
    data: str
    module: int = 6
    ecc: str = "M"
    align: Align = Align.CENTER


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Item = Line | QrCode | Feed


@dataclass(frozen=True)
class Receipt:
    items: tuple[Item, ...] = ()
    partial_cut: bool = True
    feed_before_cut: int = 4  # the cutter sits above the print head: feed the last line past it

    @classmethod
    def from_lines(cls, lines: list[str], qr_data: str | None = None) -> Receipt:
        """The kiosk's receipt: first line a centred double-size title, the rest left, QR last."""
        texts = [part for line in lines for part in sanitize_lines(line)]
        items: list[Item] = []
        if texts:
            items += [Line(texts[0], Align.CENTER, bold=True, width=2, height=2), Feed(1)]
            items += [Line(t) for t in texts[1:]]
        if qr_data:
            items += [Feed(1), QrCode(qr_data)]
        return cls(tuple(items))


def sanitize_lines(line: str) -> list[str]:
    # Not str.splitlines(): it also splits on \x1c-\x1e, which must become spaces like any control.
    return [sanitize(part) for part in line.replace("\r\n", "\n").split("\n")]


def encode_receipt(receipt: Receipt, *, native_qr: bool = True, job_id: str | None = None) -> bytes:
    """Bytes for one receipt; with `job_id` a process-ID request follows the cut."""
    out = bytearray(INIT + CHINESE_ON)
    state = (Align.LEFT, False, 1, 1)
    for item in receipt.items:
        if isinstance(item, Feed):
            out += feed_lines(item.lines)
            continue
        want = (item.align, item.bold, item.width, item.height) if isinstance(item, Line) \
            else (item.align, False, 1, 1)
        if want[0] != state[0]:
            out += align(want[0])
        if want[1] != state[1]:
            out += emphasis(want[1])
        if want[2:] != state[2:]:
            out += char_size(*want[2:])
        state = want
        if isinstance(item, Line):
            out += sanitize(item.text).encode(TEXT_ENCODING) + LF
        else:
            data = item.data.encode("utf-8")
            out += (qr_native(data, item.module, item.ecc) if native_qr else qr_raster(data, item.module, item.ecc))
    out += feed_lines(receipt.feed_before_cut) + cut(receipt.partial_cut)
    if job_id is not None:
        out += process_id(job_id)
    return bytes(out)


# --- streaming parser (the simulator's side) ---------------------------------------------------

@dataclass(frozen=True)
class Text:
    """Printable bytes up to the next control byte (undecoded: the code page is printer state)."""

    data: bytes


@dataclass(frozen=True)
class Command:
    """A known command.  `args` are the bytes after the name (for GS ( x: after pL pH)."""

    name: str
    args: bytes = b""


@dataclass(frozen=True)
class Unknown:
    """Bytes that are not a command we know; a printer ignores them, so does the simulator."""

    data: bytes


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()
Event = Text | Command | Unknown

_SINGLE = {0x0A: "LF", 0x0D: "CR", 0x09: "HT", 0x0C: "FF", 0x18: "CAN"}
# (lead, second byte) -> fixed number of argument bytes, or a variable-length kind.
_FIXED: dict[tuple[int, int], int | str] = {
    **{(ESC, ord(c)): 0 for c in "@2<"},
    **{(ESC, ord(c)): 1 for c in "!-3=EGJMRUVacdelrt{ J"},
    (ESC, ord("$")): 2, (ESC, ord("\\")): 2, (ESC, ord("p")): 3, (ESC, ord("*")): "bitimage",
    (ESC, ord("(")): "paren",
    **{(GS, ord(c)): 1 for c in "!BHIafhrwbPE"}, (GS, ord("L")): 2, (GS, ord("W")): 2, (GS, ord("$")): 2,
    (GS, ord("V")): "cut", (GS, ord("v")): "raster", (GS, ord("(")): "paren", (GS, ord("k")): "barcode",
    **{(FS, ord(c)): 0 for c in "&."}, **{(FS, ord(c)): 1 for c in "!-CW"}, (FS, ord("S")): 2,
    (FS, ord("(")): "paren",
    (DLE, 0x04): 1, (DLE, 0x05): 1, (DLE, 0x14): "dc4",
}
_RASTER_MODES = (0, 1, 2, 3, 48, 49, 50, 51)
_LEAD_NAMES = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}
_CONTROL_NAMES = {0x04: "EOT", 0x05: "ENQ", 0x14: "DC4"}
_VALID = {  # commands whose argument we check: name -> allowed values of the first argument byte
    "ESC a": {0, 1, 2, 48, 49, 50}, "GS V": {0, 1, 48, 49, 65, 66},
    "DLE EOT": {1, 2, 3, 4}, "DLE ENQ": {1, 2},
}


def _name(lead: int, second: int) -> str:
    second_name = _CONTROL_NAMES.get(second) if lead == DLE else chr(second) if 0x20 < second < 0x7F else None
    return f"{_LEAD_NAMES[lead]} {second_name or f'0x{second:02X}'}"


class CommandParser:
    """Streaming ESC/POS splitter: feed() bytes, then next_event() until NEED_DATA.

    Events do not depend on how the stream was chunked: text is held until the
    control byte that ends it (or MAX_TEXT bytes), a command until all of it is here.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self._buf.clear()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_event(self) -> Event | _NeedData:
        buf = self._buf
        if not buf:
            return NEED_DATA
        first = buf[0]
        if first >= 0x20:  # GB18030 trail bytes are >= 0x30, so text never hides a control byte
            end = next((i for i, b in enumerate(buf) if b < 0x20), None)
            if end is None:
                if len(buf) < MAX_TEXT:
                    return NEED_DATA
                end = MAX_TEXT
            return self._take(Text, end)
        if first in _SINGLE:
            del buf[:1]
            return Command(_SINGLE[first])
        if first not in _LEAD_NAMES:
            return self._take(Unknown, 1)
        if len(buf) < 2:
            return NEED_DATA
        kind = _FIXED.get((first, buf[1]))
        if kind is None:
            # DLE alone is not a command: drop only it, the next byte may be text.
            return self._take(Unknown, 1 if first == DLE else 2)
        name, head, total = self._extent(_name(first, buf[1]), kind)
        if total == 0:
            return NEED_DATA
        args = bytes(buf[head:total])
        del buf[:total]
        allowed = _VALID.get(name)
        if allowed is not None and args[0] not in allowed:
            raise EscPosError(f"{name} with argument {args[0]} (allowed: {sorted(allowed)})")
        if name == "GS !" and args[0] & 0x88:
            raise EscPosError(f"GS ! 0x{args[0]:02X}: bits 3 and 7 are reserved")
        return Command(name, args)

    def _take(self, kind: type, n: int) -> Event:
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return kind(data)

    def _extent(self, name: str, kind: int | str) -> tuple[str, int, int]:
        """(name, start of args, total length) of the command at the head; total 0 = need data.

        Raises EscPosError (after dropping the command's header) for a length over the cap.
        """
        buf = self._buf
        if isinstance(kind, int):
            return name, 2, (2 + kind if len(buf) >= 2 + kind else 0)
        if kind == "raster" and (len(buf) > 2 and buf[2] != 0x30 or len(buf) > 3 and buf[3] not in _RASTER_MODES):
            del buf[:2]
            raise EscPosError("GS v: not GS v 0, or a bad mode byte")
        need = {"paren": 5, "raster": 8, "bitimage": 5, "cut": 3, "barcode": 4, "dc4": 3}[kind]
        if len(buf) < need:
            return name, 2, 0
        head = 2
        if kind == "paren":  # GS ( x pL pH, then pL+pH*256 bytes; named by its function letter
            name = f"{name} {chr(buf[2]) if 0x20 < buf[2] < 0x7F else f'0x{buf[2]:02X}'}"
            head, size = 5, buf[3] | buf[4] << 8
        elif kind == "raster":  # GS v 0 m xL xH yL yH d..
            name, head = "GS v 0", 3
            size = 5 + (buf[4] | buf[5] << 8) * (buf[6] | buf[7] << 8)
            if size == 5:
                del buf[:8]
                raise EscPosError("GS v 0 with zero width or height")
        elif kind == "bitimage":  # ESC * m nL nH: 8-dot columns take 1 byte, 24-dot columns 3
            size = 3 + (buf[3] | buf[4] << 8) * (1 if buf[2] in (0, 1) else 3)
        elif kind == "cut":  # GS V m, or GS V m n for "feed n then cut"
            size = 2 if buf[2] in (65, 66) else 1
        elif kind == "barcode":  # GS k m: m <= 6 NUL-terminated data, m >= 65 a length byte
            if buf[2] > 6:
                size = 2 + buf[3]
            else:
                end = buf.find(0, 3)
                if end < 0:
                    return name, head, (0 if len(buf) < 258 else self._too_long(name, 3, 255))
                size = end - 1
        else:  # DLE DC4 fn: fn 8 (clear buffers) takes 7 more bytes, fn 1/2 two, fn 7 one
            size = {8: 8, 1: 3, 2: 3, 7: 2}.get(buf[2], 1)
        if size > MAX_COMMAND:
            self._too_long(name, head, MAX_COMMAND)
        total = head + size
        return name, head, (total if len(buf) >= total else 0)

    def _too_long(self, name: str, header: int, cap: int) -> int:
        del self._buf[:header]
        raise EscPosError(f"{name}: data longer than the {cap}-byte cap")
