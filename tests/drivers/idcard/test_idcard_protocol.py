"""Codec tests: spec frames, framing/resync, code tables, round trips for every card type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.idcard.codes import ETHNICITY_BY_CODE, SEX_BY_CODE, Action, describe_status
from drivers.idcard.idnumber import check_char, id_number_problem, is_valid_citizen_number
from drivers.idcard.protocol import (NEED_DATA, Command, Frame, FrameParser, Garbage, ProtocolError, build_command,
                                     build_read_response, build_response, build_sam_id, check_frame, decode_frame,
                                     parse_sam_id)
from drivers.idcard.textblock import encode_text_block
from idcard_strategies import any_card, foreign_2017_cards, foreign_2023_cards, hmt_cards, resident_cards

SAMPLES = json.loads((Path(__file__).parents[3] / "drivers/idcard/sample_cards.json").read_text("utf-8"))

# IDCARD.md §3/§4 worked examples: (command, complete frame as in the spec).
COMMAND_FRAMES = [
    (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (Command.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
    (Command.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (Command.SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (Command.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (Command.READ_APPENDED_ADDRESS, "AA AA AA 96 69 00 03 30 03 30"),
    (Command.READ_TEXT_PHOTO_FP, "AA AA AA 96 69 00 03 30 10 23"),
]
# Reader replies from the spec: (frame, SW3, data length).
RESPONSE_FRAMES = [
    ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, 4),
    ("AA AA AA 96 69 00 04 00 00 80 84", 0x80, 0),
    ("AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", 0x90, 8),
    ("AA AA AA 96 69 00 04 00 00 41 45", 0x41, 0),
    ("AA AA AA 96 69 00 04 00 00 90 94", 0x90, 0),
]


@pytest.mark.parametrize("command, frame", COMMAND_FRAMES, ids=lambda v: getattr(v, "name", ""))
def test_command_frames_match_the_spec(command, frame):
    assert build_command(command.value[0], command.value[1]) == bytes.fromhex(frame)


def test_speed_and_frame_size_commands_match_the_spec():
    for para, chk in zip(range(5), (0x63, 0x62, 0x61, 0x60, 0x67)):
        assert build_command(0x60, para)[-1] == chk
    assert build_command(0x61, 0xFF, b"\x50") == bytes.fromhex("AA AA AA 96 69 00 04 61 FF 50 CA")


def _feed_all(parser: FrameParser, chunks) -> list:
    events = []
    for chunk in chunks:
        parser.feed(chunk)
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
    return events


@pytest.mark.parametrize("frame, sw3, data_len", RESPONSE_FRAMES)
@pytest.mark.parametrize("delivery", ["whole", "byte_by_byte", "noise_before", "noise_after"])
def test_spec_responses_parse_whole_bytewise_and_with_garbage(frame, sw3, data_len, delivery):
    raw = bytes.fromhex(frame)
    chunks = {
        "whole": [raw],
        "byte_by_byte": [raw[i:i + 1] for i in range(len(raw))],
        "noise_before": [b"\x00\xaa\x13\xaa\xaa\x96", raw],
        "noise_after": [raw + b"\xaa\xaa\x01"],
    }[delivery]
    frames = [e for e in _feed_all(FrameParser(), chunks) if isinstance(e, Frame)]
    assert len(frames) == 1
    assert (frames[0].sw3, len(frames[0].data)) == (sw3, data_len)


def test_check_frame_contract():
    ok = build_response(0x90)
    assert check_frame(ok[:6]) == (0, "")
    assert check_frame(ok) == (len(ok), "")
    assert check_frame(b"\x01\x02" + ok) == (-2, "noise")
    bad_chk = ok[:-1] + bytes([ok[-1] ^ 1])
    assert check_frame(bad_chk) == (-1, "bad checksum")
    too_short = bytes.fromhex("AA AA AA 96 69 00 03 00 00 03")
    assert check_frame(too_short) == (-1, "bad length")
    assert check_frame(too_short, min_len=3)[0] == len(too_short)  # commands may be 3
    too_long = bytes.fromhex("AA AA AA 96 69 10 01")
    assert check_frame(too_long) == (-1, "bad length")


def test_parser_resynchronises_after_a_corrupt_frame():
    good = build_response(0x9F, bytes(4))
    corrupt = good[:-1] + b"\x00"
    events = _feed_all(FrameParser(), [corrupt + good])
    assert any(isinstance(e, Garbage) and e.frame_error for e in events)
    assert [e.sw3 for e in events if isinstance(e, Frame)] == [0x9F]


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_parser_accounts_for_every_byte_and_never_raises(chunks):
    parser = FrameParser()
    events = _feed_all(parser, chunks)
    seen = sum(len(e) if isinstance(e, Frame) else e.count for e in events)
    assert seen + parser.buffered == sum(map(len, chunks))
    assert parser.buffered < 7 + 0x1000 + 7  # never buffers past one maximal frame


# --- code tables ------------------------------------------------------------------------------

def test_check_digit_worked_example():
    assert check_char("11010519491231002") == "X"
    assert is_valid_citizen_number("11010519491231002X")
    assert not is_valid_citizen_number("110105194912310021")
    assert not is_valid_citizen_number("11010519491231002x")  # upper-case X only


@given(st.text(st.sampled_from("0123456789"), min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_exactly_one_check_character_is_valid(first17, last):
    assert is_valid_citizen_number(first17 + last) == (last == check_char(first17))


@pytest.mark.parametrize("number, card_type, flag, ok", [
    ("81000019900808001" + check_char("81000019900808001"), "hmt_residence", "J", True),
    ("11010519491231002X", "hmt_residence", "J", False),
    ("91563019950421004" + check_char("91563019950421004"), "foreign_permanent", "Y", True),
    ("11010519491231002X", "foreign_permanent", "Y", False),
    ("DEU197912010012", "foreign_permanent", "I", True),
    ("deu197912010012", "foreign_permanent", "I", False),
    ("DEU19791201001", "foreign_permanent", "I", False),
])
def test_id_number_rules_per_card_type(number, card_type, flag, ok):
    assert (id_number_problem(number, card_type, flag) is None) == ok


def test_ethnicity_table_has_the_right_names():
    assert len(ETHNICITY_BY_CODE) == 58
    for code, name in {"29": "柯尔克孜", "36": "毛南", "43": "乌孜别克", "46": "德昂", "56": "基诺",
                       "97": "其他", "98": "外国血统中国籍人士", "01": "汉"}.items():
        assert ETHNICITY_BY_CODE[code] == name
    assert not any(name.endswith("族") for name in ETHNICITY_BY_CODE.values())


def test_sex_codes_unknown_and_unstated_are_not_female():
    assert SEX_BY_CODE == {"0": "U", "1": "M", "2": "F", "9": "U"}


def test_status_actions():
    assert describe_status(0x80)[1] is Action.NO_CARD
    assert describe_status(0x60)[1] is Action.FATAL
    assert describe_status(0x41)[1] is Action.RESTART
    assert describe_status(0x40)[1] is Action.NOT_ID_CARD
    assert describe_status(0x77)[1] is Action.RESTART


def test_sam_id_format():
    assert parse_sam_id(build_sam_id(5, 1, 20260101, 1234567, 7654321)) == "05.01-20260101-0001234567-0007654321"
    with pytest.raises(ProtocolError):
        parse_sam_id(bytes(15))


# --- round trips --------------------------------------------------------------------------------

EXTRAS = ("photo_bytes", "fingerprint_bytes", "sex_code", "ethnicity_code")


def _decoded(card: dict, **kw) -> dict:
    out = decode_frame(build_read_response(card, **kw))
    return {k: v for k, v in out.items() if k not in EXTRAS}


@pytest.mark.parametrize("strategy", [resident_cards(), hmt_cards(), foreign_2017_cards(), foreign_2023_cards()],
                         ids=["resident", "hmt", "foreign2017", "foreign2023"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_round_trip_every_card_type(strategy, data):
    card = data.draw(strategy)
    decoded = decode_frame(build_read_response(card))
    assert {k: v for k, v in decoded.items() if k not in EXTRAS} == card
    assert decoded["sex_code"] in "0129" and decoded["sex"] == {"0": "U", "1": "M", "2": "F", "9": "U"}[decoded["sex_code"]]
    if card["card_type"] == "resident":
        assert ETHNICITY_BY_CODE[decoded["ethnicity_code"]] == card["ethnicity"]
    else:
        assert decoded["ethnicity_code"] is None


@settings(max_examples=100, deadline=None)
@given(any_card, st.sampled_from([0, 512, 1024]))
def test_round_trip_with_fingerprints(card, fl):
    out = decode_frame(build_read_response(card, fingerprint=bytes(fl)))
    assert (out["photo_bytes"], out["fingerprint_bytes"]) == (1024, fl)
    assert out["id_number"] == card["id_number"]


def test_foreign_2023_english_name_continues_at_offset_220():
    card = dict(SAMPLES[7], english_name="A" * 35 + "BCDEFGHIJKL")
    text = encode_text_block(card)
    assert text[220:242].decode("utf-16-le") == "BCDEFGHIJKL"
    assert _decoded(card)["english_name"] == "A" * 35 + "BCDEFGHIJKL"


def test_reserved_areas_are_never_decoded():
    text = bytearray(encode_text_block(SAMPLES[0]))
    text[220:248] = b"\x00\xd8" * 14  # unpaired surrogates in the reserved area
    frame = build_response(0x90, b"\x01\x00\x04\x00" + bytes(text) + bytes(1024))
    assert decode_frame(frame)["name"] == SAMPLES[0]["name"]


def test_sample_deck_covers_every_card_type_and_flag():
    flags = {encode_text_block(card)[248:250].decode("utf-16-le") for card in SAMPLES}
    assert flags == {" ", "J", "I", "Y"}


def test_the_simulator_answers_damaged_commands_and_everything_buffered(tmp_path):
    """§5: a bad checksum is answered 10, a bad length 11; noise then a command in one write is
    answered at once (a real reader does not wait for the next write)."""
    import os
    import time

    from drivers.idcard.codes import Status
    from drivers.idcard.protocol import Command, FrameParser, build_command
    from drivers.idcard.sim import SimulatedReader
    from drivers.idcard.transport import open_serial

    with SimulatedReader(link_dir=str(tmp_path)) as sim:
        port = open_serial(sim.port, 115200)
        try:
            def ask(raw: bytes) -> list[int]:
                port.reset_input_buffer()
                port.write(raw)
                parser, deadline, replies = FrameParser(), time.monotonic() + 1.0, []
                while time.monotonic() < deadline:
                    parser.feed(port.read(4096))
                    while hasattr(event := parser.next_event(), "sw3"):
                        replies.append(event.sw3)
                return replies
            find = build_command(*Command.FIND_CARD.value)
            assert ask(find[:-1] + bytes([find[-1] ^ 0x55])) == [Status.BAD_CHECKSUM]
            assert ask(b"\xaa\xaa\xaa\x96\x69\x00\x01\x00") == [Status.BAD_LENGTH]
            assert ask(os.urandom(7).replace(b"\xaa", b"\x00") + find) == [Status.NO_CARD]
            assert ask(build_command(0x60, 0x00)) == [Status.OK] and ask(build_command(0x61, 0xFF, b"\x50")) == [Status.OK]
        finally:
            port.close()


def test_cards_the_simulator_cannot_encode_are_refused_when_loaded(tmp_path):
    import json

    from drivers.idcard.sim import load_cards

    cards = json.loads((Path(__file__).parents[3] / "drivers/idcard/sample_cards.json").read_text("utf-8"))
    bad = tmp_path / "cards.json"
    bad.write_text(json.dumps([cards[0], dict(cards[0], name="名" * 16)]), "utf-8")
    with pytest.raises(ValueError, match="card 1 cannot be put on a card"):
        load_cards(bad)


def test_decode_errors_never_carry_the_personal_value():
    from drivers.idcard.textblock import _date

    for value in ("1972031", "19720231"):
        with pytest.raises(ProtocolError) as caught:
            _date(value, "birth_date")
        assert "1972" not in caught.value.reason
