"""Corruption of any byte -> NAK and retransmit, never a wrong command executed.

First against the firmware logic in memory (every byte position, every XOR
value), then end to end: the host driver over a pty, the simulator damaging
one byte of one host frame at a time.
"""

from __future__ import annotations

import struct
import time

import pytest

from drivers.ioboard import framing as fr
from drivers.ioboard.sim import _firmware_modules
from ioboard_harness import connect, memory_board, wait_until

SET_LED = _firmware_modules()[1].COMMANDS["set_led"][0]


def heartbeat_frame(fw, seq: int, stamp: int) -> bytes:
    cmd, fmt = fw.COMMANDS["heartbeat"]
    return fr.encode(fr.KIND_CMD, seq, cmd, struct.pack(fmt, stamp))


def test_every_corrupted_byte_is_naked_and_never_executed():
    board, hw, link, clock, fw = memory_board()
    board.step()
    link.frames()
    seq = 0
    for index in range(len(heartbeat_frame(fw, 0, 0))):
        for xor in (0x01, 0x80, 0xFF, 0x7E, 0x55):
            good = heartbeat_frame(fw, seq, 1_700_000_000 + seq)
            bad = bytearray(good)
            bad[index] ^= xor
            link.inbox.extend(bad)
            board.step()
            clock.now += fw.IDLE_EXPIRE_MS + 1  # a damaged length waits for bytes that never come
            board.step()
            replies = link.frames()
            assert board.executed == [], (index, xor, board.executed)
            assert (fr.KIND_NAK, seq) in [(k, s) for k, s, _, _ in replies], (index, xor, replies)
            # the host resends the same frame: executed exactly once
            link.inbox.extend(good)
            board.step()
            assert board.executed == [(fw.COMMANDS["heartbeat"][0], (1_700_000_000 + seq,))]
            assert (fr.KIND_ACK, (seq + 1) % 16) in [(k, s) for k, s, _, _ in link.frames()]
            board.executed.clear()
            seq = (seq + 1) % 16


def test_duplicate_is_acked_not_executed_and_reply_is_repeated():
    board, hw, link, clock, fw = memory_board()
    board.step()
    link.frames()
    status = fr.encode(fr.KIND_CMD, 0, fw.COMMANDS["get_status"][0])
    link.inbox.extend(status)
    board.step()
    first = link.frames()
    link.inbox.extend(status)  # the ACK was lost: the host resends
    board.step()
    second = link.frames()
    assert len(board.executed) == 1
    assert [k for k, *_ in first] == [fr.KIND_ACK, fr.KIND_RESP]
    assert [k for k, *_ in second] == [fr.KIND_ACK, fr.KIND_RESP]
    assert first[1][3][:3] == second[1][3][:3]  # same reply (state, flags, led)


def test_unknown_command_and_bad_arguments_are_refused():
    board, hw, link, clock, fw = memory_board()
    board.step()
    link.frames()
    link.inbox.extend(fr.encode(fr.KIND_CMD, 0, 0x55, b""))
    link.inbox.extend(fr.encode(fr.KIND_CMD, 1, fw.COMMANDS["heartbeat"][0], b"\x01"))
    board.step()
    errors = [f for f in link.frames() if f[0] == fr.KIND_RESP]
    assert [f[3] for f in errors] == [bytes([1, 0x55]), bytes([2, fw.COMMANDS["heartbeat"][0]])]
    assert board.executed == []


@pytest.mark.parametrize("index", range(9))  # every byte of a 9-byte set_led frame
def test_end_to_end_corruption_recovers_with_the_right_command(sim, index):
    client = connect(sim)
    try:
        before = len(sim.host_frames)
        sim.faults.corrupt = {before: (index, 0x5A)}
        sim.executed.clear()
        client.set_status_led("fault")
        assert wait_until(lambda: sim.board.host_pattern == 2, 2.0)
        client.set_status_led("degraded")
        assert wait_until(lambda: sim.board.host_pattern == 1, 2.0)
        executed = [args for cmd, args in sim.executed if cmd == SET_LED]
        assert executed == [(2,), (1,)]  # in order, once each, nothing else in between
        assert len(sim.host_frames) > before + 2  # the damaged frame was sent again
        assert sim.board.stats["naks"] >= 1
    finally:
        client.stop()


def test_end_to_end_lost_acks_and_replies_are_recovered(sim):
    client = connect(sim)
    try:
        sim.faults.drop_acks = 3
        sim.faults.drop_replies = 2
        sim.executed.clear()
        for pattern in ("fault", "ok", "degraded"):
            client.set_status_led(pattern)
            time.sleep(0.03)
        assert wait_until(lambda: sim.faults.drop_acks == 0 and sim.board.host_pattern == 1, 3.0)
        status = client.request("get_status")  # replies dropped: the query is re-sent
        assert status.name == "status"
        leds = [args for cmd, args in sim.executed if cmd == SET_LED]
        assert leds == [(2,), (0,), (1,)]
        assert client.stats["retransmits"] >= 1
        assert client.connected
    finally:
        client.stop()
