"""What a printer does with parsed ESC/POS commands: printer state in, printed blocks out.

Pure (no I/O, no Pillow): the simulator feeds it `protocol` events and renders the
blocks it returns; the round-trip tests turn the blocks back into receipt items.
Real-time commands (DLE EOT, DLE DC4, DLE ENQ) are the simulator's business and
are ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EscPosError
from .protocol import QR_ECC, TEXT_ENCODING, Align, Command, Event, Feed, Item, Line, QrCode, Text

_ECC_BY_CODE = {v: k for k, v in QR_ECC.items()}


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    width: int = 1
    height: int = 1


@dataclass(frozen=True)
class TextLine:
    runs: tuple[Run, ...]
    align: Align = Align.LEFT

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class FeedBlock:
    lines: int = 0
    dots: int = 0


@dataclass(frozen=True)
class QrBlock:
    data: bytes
    module: int
    ecc: str
    align: Align = Align.CENTER


@dataclass(frozen=True)
class RasterBlock:
    width: int  # dots, a multiple of 8
    height: int
    bits: bytes  # rows of width/8 bytes, MSB leftmost, 1 = black
    align: Align = Align.LEFT
    scale_x: int = 1
    scale_y: int = 1

    def dark(self, x: int, y: int) -> bool:
        """Is the printed dot at (x, y) black (coordinates on paper, after scaling)?"""
        x, y = x // self.scale_x, y // self.scale_y
        return bool(self.bits[y * (self.width // 8) + x // 8] & (0x80 >> (x % 8)))


@dataclass(frozen=True)
class CutBlock:
    partial: bool = True


@dataclass(frozen=True)
class ProcessIdRequest:
    """GS ( H fn=48 reached the head of the queue: answer `37 22 id 00` now."""

    process_id: str


Block = TextLine | FeedBlock | QrBlock | RasterBlock | CutBlock
Output = Block | ProcessIdRequest


class Interpreter:
    """Printer state machine for the print path.  `apply(event)` returns what got printed."""

    def __init__(self, *, native_qr: bool = True, chinese_default: bool = False) -> None:
        self.native_qr = native_qr
        self.chinese_default = chinese_default
        self.reset()

    def reset(self) -> None:
        """ESC @: defaults back, the unprinted line dropped (as the reference says)."""
        self.chinese = self.chinese_default
        self.align = Align.LEFT
        self.bold = False
        self.width = self.height = 1
        self.runs: list[Run] = []
        self.line_align = Align.LEFT
        self.qr_module, self.qr_ecc, self.qr_data = 3, "L", b""

    def apply(self, event: Event) -> list[Output]:
        if isinstance(event, Text):
            self._text(event.data.decode(TEXT_ENCODING if self.chinese else "cp437", errors="replace"))
            return []
        if not isinstance(event, Command):
            return []  # Unknown: ignored, as a printer does
        name, args = event.name, event.args
        handler = _HANDLERS.get(name)
        return handler(self, args) if handler else []

    def _text(self, text: str) -> None:
        if not self.runs:
            self.line_align = self.align  # alignment counts only at the start of a line
        run = Run(text, self.bold, self.width, self.height)
        if self.runs and self.runs[-1].bold == run.bold and (self.runs[-1].width, self.runs[-1].height) == (
                run.width, run.height):
            run = Run(self.runs.pop().text + text, run.bold, run.width, run.height)
        self.runs.append(run)

    def _flush(self) -> list[Output]:
        if not self.runs:
            return []
        line = TextLine(tuple(self.runs), self.line_align)
        self.runs = []
        return [line]

    # --- command handlers -------------------------------------------------------------------
    def _lf(self, _: bytes) -> list[Output]:
        return self._flush() or [TextLine((), self.align)]

    def _feed(self, args: bytes) -> list[Output]:
        printed = self._flush()
        n = args[0] - 1 if printed else args[0]
        return printed + ([FeedBlock(lines=n)] if n > 0 else [])

    def _feed_dots(self, args: bytes) -> list[Output]:
        return self._flush() + [FeedBlock(dots=args[0])]

    def _init(self, _: bytes) -> list[Output]:
        self.reset()
        return []

    def _align(self, args: bytes) -> list[Output]:
        self.align = Align(args[0] % 48)
        return []

    def _bold(self, args: bytes) -> list[Output]:
        self.bold = bool(args[0] & 1)
        return []

    def _print_mode(self, args: bytes) -> list[Output]:  # ESC !: bit 3 bold, 4 double height, 5 double width
        self.bold = bool(args[0] & 0x08)
        self.height, self.width = (2 if args[0] & 0x10 else 1), (2 if args[0] & 0x20 else 1)
        return []

    def _size(self, args: bytes) -> list[Output]:
        self.width, self.height = (args[0] >> 4) + 1, (args[0] & 7) + 1
        return []

    def _chinese_on(self, _: bytes) -> list[Output]:
        self.chinese = True
        return []

    def _chinese_off(self, _: bytes) -> list[Output]:
        self.chinese = False
        return []

    def _qr(self, args: bytes) -> list[Output]:
        if not self.native_qr or len(args) < 2 or args[0] != 0x31:
            return []  # no native QR on this model, or another 2-D symbol (PDF417, MaxiCode...)
        fn, rest = args[1], args[2:]
        if fn == 0x43:
            if len(rest) != 1 or not 1 <= rest[0] <= 16:
                raise EscPosError(f"QR module size {rest[:1].hex()} outside 1..16")
            self.qr_module = rest[0]
        elif fn == 0x45:
            if len(rest) != 1 or rest[0] not in _ECC_BY_CODE:
                raise EscPosError(f"QR error correction {rest[:1].hex()} not in 48..51")
            self.qr_ecc = _ECC_BY_CODE[rest[0]]
        elif fn == 0x50:
            if len(rest) < 1 or rest[0] != 0x30:
                raise EscPosError("QR store without m=48")
            self.qr_data = bytes(rest[1:])
        elif fn == 0x51:
            printed = self._flush()
            if self.qr_data:  # nothing stored: the reference says nothing is printed
                printed.append(QrBlock(self.qr_data, self.qr_module, self.qr_ecc, self.align))
            return printed
        return []  # model select (only model 2 is rendered), size info request: no output

    def _raster(self, args: bytes) -> list[Output]:
        mode, xbytes, height = args[0] % 48, args[1] | args[2] << 8, args[3] | args[4] << 8
        block = RasterBlock(xbytes * 8, height, bytes(args[5:]), self.align,
                            scale_x=2 if mode in (1, 3) else 1, scale_y=2 if mode in (2, 3) else 1)
        return self._flush() + [block]

    def _cut(self, args: bytes) -> list[Output]:
        printed = self._flush()
        if args[0] in (65, 66) and args[1]:
            printed.append(FeedBlock(dots=args[1]))
        return printed + [CutBlock(partial=args[0] in (1, 49, 66))]

    def _process_id(self, args: bytes) -> list[Output]:
        if len(args) == 6 and args[:2] == b"\x30\x30" and all(32 <= b <= 126 for b in args[2:]):
            return [ProcessIdRequest(args[2:].decode("ascii"))]
        raise EscPosError("GS ( H: only fn=48 m=48 with 4 printable id bytes is supported")


_HANDLERS = {
    "LF": Interpreter._lf, "FF": Interpreter._lf, "ESC d": Interpreter._feed, "ESC J": Interpreter._feed_dots,
    "ESC @": Interpreter._init, "ESC a": Interpreter._align, "ESC E": Interpreter._bold,
    "ESC !": Interpreter._print_mode, "GS !": Interpreter._size,
    "FS &": Interpreter._chinese_on, "FS .": Interpreter._chinese_off,
    "GS ( k": Interpreter._qr, "GS v 0": Interpreter._raster, "GS V": Interpreter._cut,
    "GS ( H": Interpreter._process_id,
}


def to_items(blocks: list[Block]) -> list[Item]:
    """Printed blocks back to receipt items (QR rasters stay as they are: only a scanner reads those)."""
    items: list[Item] = []
    for block in blocks:
        if isinstance(block, TextLine):
            first = block.runs[0] if block.runs else Run("")
            items.append(Line(block.text, block.align, first.bold, first.width, first.height))
        elif isinstance(block, FeedBlock) and block.lines:
            items.append(Feed(block.lines))
        elif isinstance(block, QrBlock):
            items.append(QrCode(block.data.decode("utf-8", errors="replace"), block.module, block.ecc, block.align))
    return items
