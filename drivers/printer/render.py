"""Printed blocks -> a receipt image, the way a 203-dpi thermal head would lay them out.

Pillow and segno are imported lazily (only the simulator renders).  Text uses the
Simplified Chinese face of Noto Sans CJK: Debian's TTC opens at face 0, the
Japanese one, whose 骨/直 differ from the mainland forms, so face 2 is asked for
by index and checked by name.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .paper import Block, FeedBlock, QrBlock, RasterBlock, Run, TextLine
from .protocol import Align

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FONT_FACE = 2  # "Noto Sans CJK SC" (0 JP, 1 KR, 3 TC, 4 HK)
FONT_NAME = "Noto Sans CJK SC"
PAPER_DOTS = 576  # 80 mm paper at 203 dpi (58 mm paper: 384)
CHAR_DOTS = 24  # font A Hanzi cell: 24 x 24 dots, ASCII half as wide
LINE_DOTS = 30  # default line spacing
MARGIN_DOTS = 16  # white paper above the first line


@functools.lru_cache(maxsize=None)
def font(size: int = CHAR_DOTS) -> Any:
    from PIL import ImageFont

    if not os.path.exists(FONT_PATH):
        raise FileNotFoundError(f"{FONT_PATH} missing: install the Debian package fonts-noto-cjk")
    loaded = ImageFont.truetype(FONT_PATH, size, index=FONT_FACE)
    if loaded.getname()[0] != FONT_NAME:
        raise RuntimeError(f"face {FONT_FACE} of {FONT_PATH} is {loaded.getname()[0]!r}, not {FONT_NAME!r}")
    return loaded


def _x(align: Align, width: int, paper: int) -> int:
    return {Align.LEFT: 0, Align.CENTER: (paper - width) // 2, Align.RIGHT: paper - width}[align]


def _wrap(runs: tuple[Run, ...], paper: int) -> list[list[Run]]:
    """Split runs into printed lines: the printer wraps at the right margin, character by character."""
    f = font()
    lines: list[list[Run]] = [[]]
    used = 0.0
    for run in runs:
        piece = ""
        for ch in run.text:
            advance = f.getlength(ch) * run.width
            if used + advance > paper and (piece or lines[-1]):
                if piece:
                    lines[-1].append(Run(piece, run.bold, run.width, run.height))
                lines.append([])
                piece, used = "", 0.0
            piece += ch
            used += advance
        if piece:
            lines[-1].append(Run(piece, run.bold, run.width, run.height))
    return lines


def _text_image(runs: list[Run]) -> Any:
    from PIL import Image, ImageDraw

    f = font()
    parts = []
    for run in runs:
        w = max(1, round(f.getlength(run.text)))
        img = Image.new("L", (w, CHAR_DOTS + 2), 255)
        # Baseline where the ideographic em box (0.88 em up, 0.12 em down) fills the 24-dot cell.
        ImageDraw.Draw(img).text((0, round(0.88 * CHAR_DOTS) + 1), run.text, font=f, fill=0, anchor="ls",
                                 stroke_width=1 if run.bold else 0, stroke_fill=0)
        if (run.width, run.height) != (1, 1):  # the head magnifies the glyph bitmap: blocky, like paper
            img = img.resize((w * run.width, img.height * run.height), Image.Resampling.NEAREST)
        parts.append(img)
    height = max([p.height for p in parts], default=CHAR_DOTS)
    line = Image.new("L", (sum(p.width for p in parts) or 1, height), 255)
    x = 0
    for p in parts:
        line.paste(p, (x, height - p.height))  # runs share a baseline at the bottom of the cell
        x += p.width
    return line


def _qr_image(block: QrBlock) -> Any:
    import segno
    from PIL import Image

    qr = segno.make_qr(block.data, error=block.ecc.lower(), boost_error=False)
    rows = [list(row) for row in qr.matrix_iter(scale=block.module, border=4)]  # border: white paper around the symbol
    img = Image.new("L", (len(rows[0]), len(rows)), 255)
    img.putdata([0 if dark else 255 for row in rows for dark in row])
    return img


def _raster_image(block: RasterBlock) -> Any:
    from PIL import Image

    img = Image.frombytes("1", (block.width, block.height), block.bits, "raw", "1;I").convert("L")
    if (block.scale_x, block.scale_y) != (1, 1):
        img = img.resize((img.width * block.scale_x, img.height * block.scale_y), Image.Resampling.NEAREST)
    return img


def render(blocks: list[Block], paper: int = PAPER_DOTS) -> tuple[Any, list[str]]:
    """The sheet as a greyscale image, and notes on what could not be printed."""
    from PIL import Image

    placed: list[tuple[int, int, Any | None]] = []  # (x, dots of paper used, image or None for blank paper)
    notes: list[str] = []
    for block in blocks:
        if isinstance(block, TextLine):
            lines = _wrap(block.runs, paper) if block.runs else []
            if not lines:
                placed.append((0, LINE_DOTS, None))
            for runs in lines:
                img = _text_image(runs)
                placed.append((_x(block.align, img.width, paper), max(img.height, LINE_DOTS * max(r.height for r in runs)), img))
        elif isinstance(block, FeedBlock):
            placed.append((0, block.lines * LINE_DOTS + block.dots, None))
        elif isinstance(block, (QrBlock, RasterBlock)):
            img = _qr_image(block) if isinstance(block, QrBlock) else _raster_image(block)
            symbol = img.width - (8 * block.module if isinstance(block, QrBlock) else 0)  # without the quiet zone
            if symbol > paper:
                notes.append(f"{type(block).__name__} {symbol} dots wide does not fit {paper}: not printed")
                continue
            if img.width > paper:  # only the quiet zone overhangs: trim it
                img = img.crop(((img.width - paper) // 2, 0, (img.width - paper) // 2 + paper, img.height))
            placed.append((_x(block.align, img.width, paper), img.height, img))
    sheet = Image.new("L", (paper, MARGIN_DOTS + sum(used for _, used, _ in placed)), 255)
    y = MARGIN_DOTS
    for x, used, img in placed:
        if img is not None:
            sheet.paste(img, (x, y))
        y += used
    return sheet, notes
