"""ESC/POS codec: reference byte layouts, streaming parse (whole / byte by byte / garbage), round trips, fuzz."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.printer.errors import EscPosError
from drivers.printer.paper import CutBlock, FeedBlock, Interpreter, QrBlock, RasterBlock, TextLine, to_items
from drivers.printer.protocol import (CHINESE_ON, INIT, NEED_DATA, Align, Command, CommandParser, Feed, Line, QrCode,
                                      Receipt, Text, Unknown, align, char_size, cut, emphasis, encode_receipt,
                                      feed_lines, process_id, qr_native, qr_raster, raster)
from drivers.printer.status import CLEAR_BUFFERS, request_status
from printer_harness import interpret, parse_all
from printer_strategies import receipts

H = bytes.fromhex
# One table for both directions (h11's SIMPLE_CASES): bytes as the Epson reference lays them out,
# and the events the parser must make of them.
CASES = [
    (INIT, H("1B 40"), [Command("ESC @")]),
    (CHINESE_ON, H("1C 26"), [Command("FS &")]),
    (align(Align.CENTER), H("1B 61 01"), [Command("ESC a", b"\x01")]),
    (emphasis(True), H("1B 45 01"), [Command("ESC E", b"\x01")]),
    (char_size(2, 2), H("1D 21 11"), [Command("GS !", b"\x11")]),
    (char_size(3, 1), H("1D 21 20"), [Command("GS !", b"\x20")]),
    (feed_lines(3), H("1B 64 03"), [Command("ESC d", b"\x03")]),
    (cut(partial=True), H("1D 56 01"), [Command("GS V", b"\x01")]),
    (cut(partial=False), H("1D 56 00"), [Command("GS V", b"\x00")]),
    (cut(partial=True, feed=3), H("1D 56 42 03"), [Command("GS V", b"\x42\x03")]),
    (process_id("A001"), H("1D 28 48 06 00 30 30 41 30 30 31"), [Command("GS ( H", b"00A001")]),
    (qr_native(b"ABC", 6, "M"),
     H("1D 28 6B 04 00 31 41 32 00" "1D 28 6B 03 00 31 43 06" "1D 28 6B 03 00 31 45 31"
       "1D 28 6B 06 00 31 50 30 41 42 43" "1D 28 6B 03 00 31 51 30"),
     [Command("GS ( k", H("31 41 32 00")), Command("GS ( k", H("31 43 06")), Command("GS ( k", H("31 45 31")),
      Command("GS ( k", H("31 50 30 41 42 43")), Command("GS ( k", H("31 51 30"))]),
    (raster(16, 2, H("FF 00 81 18")), H("1D 76 30 00 02 00 02 00 FF 00 81 18"),
     [Command("GS v 0", H("00 02 00 02 00 FF 00 81 18"))]),
    ("中文".encode("gb18030") + b"\n", H("D6 D0 CE C4 0A"), [Text(H("D6 D0 CE C4")), Command("LF")]),
    (request_status(4), H("10 04 04"), [Command("DLE EOT", b"\x04")]),
    (CLEAR_BUFFERS, H("10 14 08 01 03 14 01 06 02 08"), [Command("DLE DC4", H("08 01 03 14 01 06 02 08"))]),
]


@pytest.mark.parametrize("encoded, reference, events", CASES, ids=lambda v: v.hex(" ")[:23] if isinstance(v, bytes) else "")
def test_encoder_matches_the_reference_layout(encoded, reference, events):
    assert encoded == reference


@pytest.mark.parametrize("encoded, reference, events", CASES, ids=lambda v: v.hex(" ")[:23] if isinstance(v, bytes) else "")
def test_parser_gives_the_same_events_whole_byte_by_byte_and_before_garbage(encoded, reference, events):
    assert parse_all([reference]) == events
    assert parse_all([bytes([b]) for b in reference]) == events
    # Trailing garbage: an unknown ESC command and text not yet ended by a control byte.
    parser = CommandParser()
    assert parse_all([reference + b"\x1b\xee" + b"tail"], parser) == events + [Unknown(b"\x1b\xee")]
    assert parser.buffered == 4


def test_unknown_commands_are_skipped_and_parsing_goes_on():
    data = b"\x1b\xfa" + b"\x10\x99" + b"\x00" + b"ok\n" + b"\x1d(Z\x02\x00ab" + b"\x1b@"
    assert parse_all([data]) == [Unknown(b"\x1b\xfa"), Unknown(b"\x10"), Text(b"\x99"), Unknown(b"\x00"),
                                 Text(b"ok"), Command("LF"), Command("GS ( Z", b"ab"), Command("ESC @")]


@pytest.mark.parametrize("bad, reason", [
    (b"\x1ba\x07", "ESC a"), (b"\x1d!\x88", "reserved"), (b"\x1dV\x07", "GS V"), (b"\x10\x04\x09", "DLE EOT"),
    (b"\x1dv0\x00\x00\x00\x05\x00", "zero"), (b"\x1dv1\x00", "GS v"),
    (b"\x1dv0\x00\xff\xff\xff\xff", "cap"),
])
def test_malformed_commands_raise_escpos_error_then_parsing_continues(bad, reason):
    parser = CommandParser()
    parser.feed(bad + b"\x1b@")
    with pytest.raises(EscPosError, match=reason) as info:
        while parser.next_event() is not NEED_DATA:
            pass
    assert isinstance(info.value, ValueError) and info.value.reason
    rest = parse_all([b""], parser)
    assert rest[-1] == Command("ESC @")


@pytest.mark.parametrize("qr_args, reason", [(H("31 43 00"), "module"), (H("31 43 11"), "module"),
                                             (H("31 45 34"), "error correction"), (H("31 50 31 41"), "m=48")])
def test_interpreter_rejects_bad_qr_parameters(qr_args, reason):
    with pytest.raises(EscPosError, match=reason):
        Interpreter().apply(Command("GS ( k", qr_args))


def test_kiosk_receipt_layout():
    receipt = Receipt.from_lines(["就业服务回执", "姓名：张*\n编号：42"], "TOKEN")
    assert receipt.items == (Line("就业服务回执", Align.CENTER, True, 2, 2), Feed(1), Line("姓名：张*"), Line("编号：42"),
                             Feed(1), QrCode("TOKEN"))
    data = encode_receipt(receipt, job_id="J001")
    assert data.startswith(INIT + CHINESE_ON) and data.endswith(cut(True) + process_id("J001"))
    assert "就业服务回执".encode("gb18030") in data


def test_control_characters_in_text_cannot_inject_commands():
    data = encode_receipt(Receipt.from_lines(["a\x1dV\x00b", "c\x1b@d\x10\x04\x01"], None))
    blocks, _ = interpret(data)
    assert [b for b in blocks if isinstance(b, CutBlock)] == [CutBlock(True)]  # only the receipt's own cut
    assert [b.text for b in blocks if isinstance(b, TextLine)] == ["a V b", "c @d   "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(receipts)
def test_round_trip_encode_parse_interpret(receipt):
    blocks, pids = interpret(encode_receipt(receipt, job_id="R0UN"))
    tail = [Feed(receipt.feed_before_cut)] if receipt.feed_before_cut else []
    assert to_items(blocks) == list(receipt.items) + tail
    assert blocks[-1] == CutBlock(receipt.partial_cut)
    assert [p.process_id for p in pids] == ["R0UN"]


@settings(max_examples=40, deadline=None)
@given(receipts, st.data())
def test_events_do_not_depend_on_chunking(receipt, data):
    raw = encode_receipt(receipt, native_qr=data.draw(st.booleans()))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=20)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    assert parse_all(chunks) == parse_all([raw])


@settings(max_examples=15, deadline=None)
@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=150),
       st.integers(1, 8), st.sampled_from("LMQH"))
def test_raster_fallback_carries_the_same_qr_matrix(payload, module, ecc):
    import segno

    blocks, _ = interpret(qr_raster(payload.encode(), module, ecc))
    (image,) = blocks
    assert isinstance(image, RasterBlock)
    rows = list(segno.make_qr(payload.encode(), error=ecc.lower(), boost_error=False).matrix_iter(border=4))
    assert image.width * image.scale_x >= len(rows[0]) * module
    assert image.height * image.scale_y == len(rows) * module
    assert (image.scale_x, image.scale_y) == ((2, 2) if module % 2 == 0 else (1, 1))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            assert image.dark(x * module + module // 2, y * module + module // 2) == bool(dark)


def _drain(parser: CommandParser) -> list:
    out = []
    while True:
        try:
            event = parser.next_event()
        except EscPosError as exc:
            out.append(("error", exc.reason))
            continue
        if event is NEED_DATA:
            return out
        out.append(event)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400), st.data())
def test_fuzz_parser_only_events_or_escpos_error_whatever_the_chunking(raw, data):
    whole = CommandParser()
    whole.feed(raw)
    events = _drain(whole)
    split = CommandParser()
    step = data.draw(st.integers(1, 7))
    chunked = []
    for i in range(0, len(raw), step):
        split.feed(raw[i:i + step])
        chunked += _drain(split)
    assert chunked == events and split.buffered == whole.buffered
    assert all(isinstance(e, (Text, Command, Unknown, tuple)) for e in events)
    paper = Interpreter()
    for event in events:  # the interpreter takes anything the parser lets through, or says EscPosError
        if not isinstance(event, tuple):
            try:
                paper.apply(event)
            except EscPosError:
                pass


@settings(max_examples=100, deadline=None)
@given(receipts, st.binary(min_size=1, max_size=64))
def test_fuzz_garbage_between_receipts_does_not_break_the_next_one(receipt, garbage):
    raw = encode_receipt(receipt, job_id="NEXT")
    parser = CommandParser()
    parser.feed(garbage + b"\n" * 2)  # a line end flushes pending text; ESC @ in the job resets state
    _drain(parser)
    if parser.buffered:  # inside a declared-length command: the printer would swallow the next bytes too
        return
    parser.feed(raw)
    paper = Interpreter()
    blocks, pids = [], []
    for event in _drain(parser):
        if not isinstance(event, tuple):
            for out in paper.apply(event):
                (pids if hasattr(out, "process_id") else blocks).append(out)
    assert [p.process_id for p in pids] == ["NEXT"]
    assert blocks[-1] == CutBlock(receipt.partial_cut)


def test_feed_and_cut_variants_interpret_as_a_printer_does():
    blocks, _ = interpret(b"x" + feed_lines(3) + b"\x1bJ\x10" + cut(False, feed=5))
    assert blocks == [TextLine(blocks[0].runs), FeedBlock(lines=2), FeedBlock(dots=16), FeedBlock(dots=5),
                      CutBlock(False)]
    assert interpret(qr_native(b"Q")[:-8] + b"\x1d(k\x03\x001Q0")[0] == [QrBlock(b"Q", 6, "M", Align.LEFT)]
    assert interpret(b"\x1d(k\x03\x001Q0")[0] == []  # nothing stored: nothing printed


PACKAGE = Path(__file__).parents[3] / "drivers" / "printer"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layering_only_the_transport_imports_serial_and_nothing_imports_the_kiosk():
    for path in PACKAGE.glob("*.py"):
        names = _imports(path)
        assert not names & {"kiosk", "ui", "sync"}, path.name
        assert ("serial" in names) == (path.name == "transport.py"), path.name
        if path.name in ("protocol.py", "status.py", "paper.py", "errors.py"):
            assert not names & {"PIL", "os", "threading", "select"}, path.name
