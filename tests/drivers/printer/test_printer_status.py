"""DLE EOT status bytes (Epson bit tables), the kiosk's status summary, and the printer->host reply parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.printer.errors import EscPosError
from drivers.printer.status import (NEED_DATA, STATUS_BITS, ClearAck, Noise, PrinterStatus, ProcessIdAck, ReplyParser,
                                    StatusByte, StatusRequest, decode_status, encode_status, is_status_byte,
                                    request_status)

# (n, reply byte, flags set) straight from the reference's bit tables.
REFERENCE = [
    (1, 0x12, set()), (1, 0x16, {"drawer_pin3_high"}), (1, 0x1A, {"offline"}),
    (1, 0x32, {"waiting_online_recovery"}), (1, 0x52, {"feed_button_pressed"}),
    (2, 0x12, set()), (2, 0x16, {"cover_open"}), (2, 0x1A, {"feeding_by_button"}), (2, 0x32, {"paper_end_stop"}),
    (2, 0x52, {"error"}), (2, 0x76, {"cover_open", "paper_end_stop", "error"}),
    (3, 0x12, set()), (3, 0x16, {"recoverable_error"}), (3, 0x1A, {"autocutter_error"}),
    (3, 0x32, {"unrecoverable_error"}), (3, 0x52, {"auto_recoverable_error"}),
    (4, 0x12, set()), (4, 0x1E, {"paper_near_end"}), (4, 0x72, {"paper_out"}), (4, 0x7E, {"paper_near_end", "paper_out"}),
    (4, 0x16, {"paper_near_end"}), (4, 0x22 | 0x10, {"paper_out"}),  # compatibles that set one bit of a pair
]


@pytest.mark.parametrize("n, value, flags", REFERENCE)
def test_reference_bit_tables(n, value, flags):
    decoded = decode_status(n, value)
    assert {f for f, on in decoded.items() if on} == flags
    assert set(decoded) == set(STATUS_BITS[StatusRequest(n)])


@pytest.mark.parametrize("n, value, flags", [r for r in REFERENCE if r[1] not in (0x16, 0x32) or r[0] != 4])
def test_encoding_flags_gives_the_reference_byte(n, value, flags):
    assert encode_status(n, **{f: True for f in flags}) == value


@pytest.mark.parametrize("value", [0x00, 0x13, 0x92, 0x02, 0x10, 0xFF, 0x37])
def test_bytes_without_the_fixed_bits_are_not_status(value):
    assert not is_status_byte(value)
    with pytest.raises(EscPosError):
        decode_status(1, value)


@given(st.sampled_from(list(StatusRequest)), st.data())
def test_encode_decode_round_trip(n, data):
    flags = {f: data.draw(st.booleans()) for f in STATUS_BITS[n]}
    assert decode_status(n, encode_status(n, **flags)) == flags


def test_requests_are_dle_eot_n():
    assert [request_status(n) for n in (1, 2, 3, 4)] == [bytes([0x10, 0x04, n]) for n in (1, 2, 3, 4)]
    with pytest.raises(ValueError):
        request_status(5)


@pytest.mark.parametrize("replies, summary, ok", [
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}, "ok", True),
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E}, "paper_low", True),
    ({1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}, "paper_out", False),
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x72}, "paper_out", False),  # sensor alone, not yet stopped
    ({1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12}, "fault", False),  # cover open
    ({1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12}, "fault", False),  # autocutter jam
    ({1: 0x3A, 2: 0x12, 3: 0x12, 4: 0x12}, "fault", False),  # offline, waiting for recovery
    ({1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x1E}, "fault", False),  # cover open beats paper low
    ({1: 0x1A, 2: 0x36, 3: 0x12, 4: 0x7E}, "paper_out", False),  # cover open to change the roll
])
def test_summary_is_the_kiosk_vocabulary(replies, summary, ok):
    status = PrinterStatus.from_bytes(replies)
    assert status.summary == summary and status.ok is ok


def test_status_detail_lists_raw_flags():
    status = PrinterStatus.from_bytes({1: 0x1A, 3: 0x1A})
    assert status.detail == ("autocutter_error", "offline") and status.error and status.offline


REPLIES = [
    (b"\x12", [StatusByte(0x12)]),
    (b"\x37\x22A001\x00", [ProcessIdAck("A001")]),
    (b"\x37\x25\x00", [ClearAck()]),
    (b"\x00\xff\x01\x37\x22A001\x00\x7e", [Noise(3), ProcessIdAck("A001"), StatusByte(0x7E)]),
    (b"\x37\x22A0\x01\x01\x00", [Noise(1), Noise(6)]),  # unprintable id bytes: not an ack
    (b"\x37\x25\x01\x1a", [Noise(1), Noise(2), StatusByte(0x1A)]),
]


@pytest.mark.parametrize("raw, events", REPLIES)
def test_reply_parser_whole_and_byte_by_byte(raw, events):
    for chunks in ([raw], [bytes([b]) for b in raw]):
        parser, got = ReplyParser(), []
        for chunk in chunks:
            parser.feed(chunk)
            while (event := parser.next_event()) is not NEED_DATA:
                got.append(event)
        # Noise runs may split differently across chunks; what they cover must not.
        assert [e for e in got if not isinstance(e, Noise)] == [e for e in events if not isinstance(e, Noise)]
        assert sum(e.count for e in got if isinstance(e, Noise)) == sum(e.count for e in events if isinstance(e, Noise))


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_fuzz_reply_parser_never_raises_and_accounts_for_every_byte(raw):
    parser, total = ReplyParser(), 0
    parser.feed(raw + b"\x12")  # a final status byte flushes any waiting partial reply
    while (event := parser.next_event()) is not NEED_DATA:
        total += {StatusByte: 1, ClearAck: 3, ProcessIdAck: 7}.get(type(event), getattr(event, "count", 0))
    assert total == len(raw) + 1
