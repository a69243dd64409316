"""The shared frame codec: CRC, check_frame contract, round trips, corruption, the windows."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.ioboard import framing as fr

frames = st.tuples(st.sampled_from(fr.KINDS), st.integers(0, 15), st.integers(0, 255),
                   st.binary(max_size=fr.MAX_PAYLOAD))


def parse_all(data: bytes, chunk: int | None = None) -> tuple[list, int]:
    parser = fr.FrameParser()
    out = []
    pieces = [data] if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        parser.feed(piece)
        while (frame := parser.next_frame()) is not None:
            out.append(frame)
    return out, parser.dropped_total


def test_crc_is_ccitt_false():
    assert fr.crc16(b"123456789") == 0x29B1
    assert fr.crc16(b"") == 0xFFFF


def test_known_frame_bytes():
    # captured from the firmware's boot event (boot id 0xf8e1... as sent on the wire)
    assert fr.encode(fr.KIND_CMD, 3, 5, b"abc").hex() == "7e0af513056162631b26"
    assert fr.encode(fr.KIND_ACK, 1, 0) == bytes.fromhex("7e07f82100") + fr.crc16(bytes.fromhex("07f82100")).to_bytes(2, "big")


def test_check_frame_contract():
    frame = fr.encode(fr.KIND_CMD, 1, 2, b"xy")
    assert fr.check_frame(b"") == 0
    assert fr.check_frame(frame[:5]) == 0
    assert fr.check_frame(frame) == len(frame)
    assert fr.check_frame(b"\x00\x01" + frame) == -2
    assert fr.check_frame(b"\x00\x01\x02") == -3
    assert fr.check_frame(b"\x7e\x07\x07") == -1  # ~LEN mismatch
    assert fr.check_frame(b"\x7e\x41\xbe") == -1  # LEN over MAX_FRAME


def test_payload_limit():
    fr.encode(fr.KIND_RESP, 0, 0, bytes(fr.MAX_PAYLOAD))
    with pytest.raises(ValueError):
        fr.encode(fr.KIND_RESP, 0, 0, bytes(fr.MAX_PAYLOAD + 1))
    with pytest.raises(ValueError):
        fr.encode(9, 0, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(frames, min_size=1, max_size=8), st.integers(1, 9), st.binary(max_size=20))
def test_round_trip_whole_bytewise_and_with_garbage(items, chunk, garbage):
    data = b"".join(fr.encode(*item) for item in items)
    assert parse_all(data) == (items, 0)
    assert parse_all(data, chunk)[0] == items
    garbage = garbage.replace(b"\x7e", b"")  # noise without a sync byte is always dropped whole
    got, dropped = parse_all(garbage + data + garbage, chunk)
    assert got == items
    assert dropped == 2 * len(garbage)

@settings(max_examples=300, deadline=None)
@given(frames, st.data())
def test_any_single_byte_corruption_is_rejected(item, data):
    assume(item != (fr.KIND_EVENT, 0, 0xEE, b"follow"))
    frame = bytearray(fr.encode(*item))
    index = data.draw(st.integers(0, len(frame) - 1))
    frame[index] ^= data.draw(st.integers(1, 255))
    follower = fr.encode(fr.KIND_EVENT, 0, 0xEE, b"follow")
    got, dropped = parse_all(bytes(frame) + follower)
    # the damaged frame never passes as any frame, and the next frame is still found
    assert got == [fr.decode(follower)]
    assert dropped == len(frame)


def test_every_byte_every_value_exhaustive_for_a_command():
    frame = fr.encode(fr.KIND_CMD, 5, 1, b"\x10\x20\x30\x40")
    for index in range(len(frame)):
        for xor in range(1, 256):
            damaged = bytearray(frame)
            damaged[index] ^= xor
            parser = fr.FrameParser()
            parser.feed(bytes(damaged))
            parser.expire()  # the board's idle timeout
            got = parser.next_frame()
            assert got is None, (index, xor, got)
            assert parser.take_dropped() > 0  # -> the board NAKs


def test_buffer_cap_discards_old_bytes():
    parser = fr.FrameParser(cap=64)
    parser.feed(b"\x7e\x40\xbf" + bytes(200))
    assert parser.pending() <= 64
    assert parser.take_dropped() >= 139


def test_receive_window_executes_each_seq_once():
    rx = fr.ReceiveWindow()
    assert rx.accept(0) == fr.ACCEPT
    assert rx.accept(0) == fr.DUPLICATE
    assert rx.accept(2) == fr.AHEAD  # 1 was lost
    assert rx.accept(1) == fr.ACCEPT
    for seq in range(2, 40):
        assert rx.accept(seq % 16) == fr.ACCEPT
    assert rx.accept(39 % 16) == fr.DUPLICATE


def test_send_window_resends_on_nak_and_timeout_with_bounded_doubling():
    w = fr.SendWindow(window=3, rto=100, rto_max=350)  # times in ms
    a, b, c = (w.send(1, bytes([i]), 0) for i in range(3))
    assert not w.can_send()
    assert w.on_nak(1, 200) == [b, c]  # 0 acked, resend the rest
    assert w.on_nak(1, 210) == []  # the second NAK for the same loss is ignored
    assert w.due(250) == []
    timeouts = []
    now = 200
    for _ in range(5):
        now += w.rto
        timeouts.append(w.rto)
        assert w.due(now) == [b, c]
    assert timeouts == [100, 200, 350, 350, 350]
    assert w.on_ack(3, now) == 2 and w.rto == 100 and w.timeouts_in_row == 0
    assert w.can_send()


def test_send_window_flags_desync_on_out_of_window_nak():
    w = fr.SendWindow()
    for _ in range(5):
        w.send(1, b"", 0.0)
        w.on_ack(w.next_seq, 0.0)
    w.send(1, b"", 0.0)  # seq 5
    assert w.on_nak(0, 0.1) == []  # a rebooted board expects 0
    assert w.desync
