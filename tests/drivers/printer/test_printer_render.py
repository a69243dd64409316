"""The simulator's paper: Chinese text in the SC face, QR codes (native and raster) that scan."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont
from pyzbar.pyzbar import ZBarSymbol, decode

from drivers.printer.paper import QrBlock, TextLine
from drivers.printer.protocol import Align, Feed, Line, QrCode, Receipt, encode_receipt
from drivers.printer.render import FONT_NAME, FONT_PATH, PAPER_DOTS, font, render
from printer_harness import interpret

TOKEN = "EST1." + "Qm9vbGVhbiB0b2tlbiBmb3IgYSByZWNlaXB0" * 5  # about 200 characters, like a signed receipt token


def _sheet(receipt: Receipt, native_qr: bool = True):
    blocks, _ = interpret(encode_receipt(receipt, native_qr=native_qr), native_qr=native_qr)
    return render(blocks)


def _scan(image) -> list[str]:
    return [s.data.decode() for s in decode(image, symbols=[ZBarSymbol.QRCODE])]


def _dark(image, box=None) -> int:
    region = image.crop(box) if box else image
    return sum(region.point(lambda v: 255 if v < 128 else 0).convert("L").histogram()[255:])


@pytest.mark.parametrize("native_qr", [True, False], ids=["native GS ( k", "raster GS v 0"])
def test_the_qr_on_paper_scans_to_the_token(native_qr):
    image, notes = _sheet(Receipt.from_lines(["就业服务回执", "编号 42"], TOKEN), native_qr)
    assert notes == [] and image.width == PAPER_DOTS
    assert _scan(image) == [TOKEN]


def test_a_different_token_scans_differently():
    image, _ = _sheet(Receipt((QrCode("EST1.other"),)))
    assert _scan(image) == ["EST1.other"]


def test_chinese_text_renders_real_glyphs_not_blanks_or_boxes():
    image, _ = _sheet(Receipt((Line("就业服务"),), feed_before_cut=0))
    ink = _dark(image)
    assert ink > 400  # four Hanzi at 24 dots carry a few hundred dark dots
    box = image.point(lambda v: 255 - v).getbbox()
    assert 80 <= box[2] - box[0] <= 110  # four 24-dot cells, not 4 half-width tofu or nothing
    blank, _ = _sheet(Receipt((Line(" "),), feed_before_cut=0))
    assert _dark(blank) == 0
    # Four distinct characters: the four cells differ (tofu boxes would be identical).
    cells = [image.crop((box[0] + 24 * i, box[1], box[0] + 24 * (i + 1), box[3])) for i in range(4)]
    assert len({c.tobytes() for c in cells}) == 4


def test_text_is_drawn_with_the_simplified_chinese_face():
    assert font().getname()[0] == FONT_NAME == "Noto Sans CJK SC"

    def ink_box(img):
        return img.crop(img.point(lambda v: 255 - v).getbbox()).resize((24, 24))

    def glyph(index: int):
        img = Image.new("L", (40, 40), 255)
        ImageDraw.Draw(img).text((4, 4), "骨", font=ImageFont.truetype(FONT_PATH, 24, index=index), fill=0)
        return ink_box(img)

    def distance(a, b) -> int:
        return sum(level * count for level, count in enumerate(ImageChops.difference(a, b).histogram()))

    ours, _ = _sheet(Receipt((Line("骨"),), feed_before_cut=0))
    ours, sc, jp = ink_box(ours), glyph(2), glyph(0)
    assert distance(sc, jp) > 0  # the faces really differ on 骨
    assert distance(ours, sc) * 3 < distance(ours, jp)


def test_alignment_size_and_emphasis_show_on_paper():
    def box(line):
        image, _ = _sheet(Receipt((line,), feed_before_cut=0))
        return image.point(lambda v: 255 - v).getbbox(), _dark(image)

    (left, ink), (centre, _), (right, _) = (box(Line("回执", a)) for a in Align)
    assert left[0] < 5 and abs((centre[0] + centre[2]) / 2 - PAPER_DOTS / 2) < 3 and right[2] > PAPER_DOTS - 5
    big, big_ink = box(Line("回执", width=2, height=2))
    assert big[2] - big[0] >= 2 * (left[2] - left[0]) - 2 and big_ink > 3 * ink
    _, bold_ink = box(Line("回执", bold=True))
    assert bold_ink > ink * 1.3


def test_long_lines_wrap_at_the_paper_edge():
    image, _ = _sheet(Receipt((Line("业" * 30),), feed_before_cut=0))  # 30 x 24 dots > 576
    rows = [y for y in range(image.height) if _dark(image, (0, y, PAPER_DOTS, y + 1))]
    assert rows and rows[-1] - rows[0] > 40  # two printed lines


def test_a_qr_wider_than_the_paper_is_not_printed_and_says_so():
    blocks = [QrBlock(b"x" * 300, 16, "H")]
    image, notes = render(blocks)
    assert notes and "does not fit" in notes[0] and _dark(image) == 0


def test_blank_lines_and_feeds_take_paper():
    short, _ = render([TextLine(())])
    tall, _ = _sheet(Receipt((Feed(5),), feed_before_cut=0))
    assert tall.height > short.height


def test_render_cli_prints_a_captured_job_and_rejects_a_missing_file(tmp_path, capsys):
    from drivers.printer.__main__ import main

    job = tmp_path / "job.bin"
    job.write_bytes(encode_receipt(Receipt.from_lines(["回执"], TOKEN), native_qr=False) + b"\x1ba\x09")
    assert main(["render", str(job), str(tmp_path / "out.png")]) == 0
    assert _scan(Image.open(tmp_path / "out.png")) == [TOKEN]
    assert "1 malformed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["render"])
    assert exit_.value.code == 2 and capsys.readouterr().err.startswith("error: the following arguments")
    assert main(["render", str(tmp_path / "missing"), str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read")
    for out in (tmp_path / "no" / "such" / "dir.png", tmp_path / "x.weird"):  # a message, never a traceback
        assert main(["render", str(job), str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and "cannot write the image" in err[-1] and "Traceback" not in err
