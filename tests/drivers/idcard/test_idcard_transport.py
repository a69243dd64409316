"""Transport over a real pty pair against the simulator: every state transition and fault mode."""

from __future__ import annotations

import threading

import pytest

from drivers.idcard.codes import Status
from drivers.idcard.events import CardError, CardRead, CardRemoved, ReaderConnected, ReaderDisconnected, ReaderFault
from drivers.idcard.protocol import Command
from drivers.idcard.sim import Faults, SimulatedReader
from drivers.idcard.transport import CardReader, ReaderError, connect, open_serial, probe_reader

from idcard_harness import FAST, EventLog


def test_start_up_probes_sam_and_reports_its_id(reader, sim):
    event = reader.log.wait_for(ReaderConnected)
    assert event.sam_id == "05.01-20260101-0001234567-0007654321"
    assert sim.history[:2] == [Command.SAM_STATUS.value, Command.SAM_ID.value]


def test_idle_polls_find_only(reader, sim):
    reader.log.wait_for(ReaderConnected)
    reader.log.settle(0.2)
    assert len(sim.history) > 4
    assert set(sim.history[2:]) == {Command.FIND_CARD.value}
    assert reader.log.count(CardRead) == 0


def test_idle_to_present_reads_the_card_with_find_select_read(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.place(cards[0])
    event = reader.log.wait_for(CardRead)
    assert event.card["id_number"] == cards[0]["id_number"]
    assert event.card["name"] == cards[0]["name"]
    sim.assert_commands(Command.FIND_CARD, Command.SELECT_CARD, Command.READ_TEXT_PHOTO)


@pytest.mark.parametrize("resting", ["found", "no_card"])
def test_a_card_left_on_the_reader_is_reported_once(reader, sim, cards, resting):
    sim.faults.resting = resting
    sim.place(cards[1])
    reader.log.wait_for(CardRead)
    reader.log.settle(0.4)
    assert reader.log.count(CardRead) == 1
    if resting == "found":
        assert sim.reads_served > 3  # the module kept answering 9F and we kept re-reading it


def test_present_to_idle_on_removal(reader, sim, cards):
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    sim.remove()
    reader.log.wait_for(CardRemoved)
    reader.log.settle(0.2)
    assert reader.log.count(CardRemoved) == 1
    assert not reader.card_present


def test_removal_needs_two_misses_spanning_the_window(sim, cards):
    log = EventLog()
    with CardReader(sim.port, log, **{**FAST, "removal_window": 0.5}):
        sim.place(cards[0])
        log.wait_for(CardRead)
        sim.remove()
        assert log.settle(0.3) == []  # several misses, but not yet 0.5 s of them
        log.wait_for(CardRemoved, timeout=1.0)


def test_card_swapped_mid_session_reports_removal_then_the_new_card(reader, sim, cards):
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    sim.place(cards[2])  # no gap a poll could see
    reader.log.wait_for(CardRemoved)
    assert reader.log.wait_for(CardRead).card["id_number"] == cards[2]["id_number"]


@pytest.mark.parametrize("index", range(8))
def test_every_sample_card_type_is_read(reader, sim, cards, index):
    sim.place(cards[index])
    card = reader.log.wait_for(CardRead).card
    assert card == {**cards[index], "photo_bytes": 1024, "fingerprint_bytes": 0,
                    "sex_code": card["sex_code"], "ethnicity_code": card["ethnicity_code"]}


def test_fingerprint_read_command(sim, cards):
    log = EventLog()
    with CardReader(sim.port, log, read_command=Command.READ_TEXT_PHOTO_FP, **FAST):
        sim.place(cards[0])
        assert log.wait_for(CardRead).card["fingerprint_bytes"] == 512


# --- fault modes -----------------------------------------------------------------------------------

def test_garbage_before_every_reply_is_dropped(reader, sim, cards):
    sim.faults.noise = 37
    sim.place(cards[3])
    assert reader.log.wait_for(CardRead).card["name"] == cards[3]["name"]


def test_split_writes_are_reassembled(reader, sim, cards):
    sim.faults.split, sim.faults.split_gap = 7, 0.0005
    sim.place(cards[5])
    assert reader.log.wait_for(CardRead).card["pass_number"] == cards[5]["pass_number"]


def test_slow_device_within_the_deadline_is_fine(reader, sim, cards):
    sim.faults.delay = 0.2
    sim.place(cards[0])
    reader.log.wait_for(CardRead, timeout=5)
    assert reader.stats["link_errors"] == 0


def test_device_slower_than_the_deadline_recovers_when_it_speeds_up(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.delay = 0.6  # find's deadline is 0.5 s
    sim.place(cards[0])
    reader.log.settle(1.3)
    assert reader.stats["link_errors"] >= 1 and reader.log.count(CardRead) == 0
    sim.faults.delay = 0
    reader.log.wait_for(CardRead, timeout=6)


@pytest.mark.parametrize("fault", ["bad_checksum", "truncate"])
def test_corrupt_replies_restart_the_sequence(reader, sim, cards, fault):
    reader.log.wait_for(ReaderConnected)
    setattr(sim.faults, fault, 2)
    sim.place(cards[0])
    reader.log.wait_for(CardRead, timeout=5)
    assert reader.stats["link_errors"] >= 1
    assert reader.log.count(ReaderDisconnected) == 0  # fewer than 5 in a row: no reconnect


def test_five_link_errors_in_a_row_reopen_the_port(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.bad_checksum = 5
    reader.log.wait_for(ReaderDisconnected, timeout=5)
    reader.log.wait_for(ReaderConnected, timeout=5)
    sim.place(cards[0])
    reader.log.wait_for(CardRead)


def test_reader_resends_once_when_it_reports_a_bad_checksum(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.SELECT_CARD.value] = [Status.BAD_CHECKSUM]
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    assert reader.stats["link_errors"] == 0
    assert sim.history.count(Command.SELECT_CARD.value) == 2


def test_no_card_means_no_events(reader, sim):
    reader.log.wait_for(ReaderConnected)
    assert reader.log.settle(0.3) == []


def test_read_failures_give_one_card_error_after_three_attempts(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.READ_TEXT_PHOTO.value] = [Status.READ_FAILED] * 3
    sim.place(cards[0])
    error = reader.log.wait_for(CardError)
    assert (error.attempts, error.status) == (3, Status.READ_FAILED)
    reader.log.settle(0.2)
    assert reader.log.count(CardError) == 1 and reader.log.count(CardRead) == 0
    sim.remove()  # lift and replace: a new placement, counted afresh
    reader.log.settle(0.2)
    sim.place(cards[0])
    reader.log.wait_for(CardRead)


def test_a_read_that_succeeds_on_the_third_attempt_is_not_an_error(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.SELECT_CARD.value] = [Status.SELECT_FAILED, Status.SAM_AUTH_FAILED]
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    assert reader.log.count(CardError) == 0


def test_not_an_id_card_is_reported_at_once(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.SELECT_CARD.value] = [Status.UNKNOWN_CARD_TYPE]
    sim.place(cards[0])
    error = reader.log.wait_for(CardError)
    assert error.attempts == 1 and error.status == Status.UNKNOWN_CARD_TYPE


def test_invalid_card_data_is_a_card_error_not_a_crash(reader, sim, cards):
    bad = dict(cards[0], id_number=cards[0]["id_number"][:17] + ("0" if cards[0]["id_number"][17] != "0" else "1"))
    sim.place(bad)
    error = reader.log.wait_for(CardError)
    assert "id_number" in error.reason
    assert bad["id_number"] not in error.reason  # no personal data in the reason


@pytest.mark.parametrize("status", [Status.SAM_SELF_TEST_FAILED, Status.SAM_NOT_AUTHORISED, Status.NOT_PERMITTED])
def test_sam_fault_is_reported_as_reader_fault(reader, sim, cards, status):
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.FIND_CARD.value] = [status]
    fault = reader.log.wait_for(ReaderFault)
    assert fault.status == status


def test_sam_fault_at_start_up(tmp_path):
    with SimulatedReader(link_dir=str(tmp_path), faults=Faults(status={Command.SAM_STATUS.value: [Status.SAM_SELF_TEST_FAILED]})) as sim:
        log = EventLog()
        with CardReader(sim.port, log, **FAST):
            assert log.wait_for(ReaderFault).status == Status.SAM_SELF_TEST_FAILED


# --- unplug / replug ---------------------------------------------------------------------------

def test_unplug_and_replug_while_idle(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.unplug()
    reader.log.wait_for(ReaderDisconnected)
    sim.replug()
    reader.log.wait_for(ReaderConnected, timeout=2.0)
    sim.place(cards[0])
    reader.log.wait_for(CardRead)


def test_unplug_during_a_read(reader, sim, cards):
    reader.log.wait_for(ReaderConnected)
    sim.faults.split, sim.faults.split_gap = 64, 0.01  # a read reply now takes ~0.2 s
    sent = threading.Event()
    original = sim._write

    def write_then_unplug(fd, data, is_read=False):
        if is_read:
            original(fd, data[:300])
            sent.set()
            sim.unplug()
        else:
            original(fd, data, is_read)

    sim._write = write_then_unplug
    sim.place(cards[0])
    assert sent.wait(3)
    reader.log.wait_for(ReaderDisconnected)
    assert reader.log.count(CardRead) == 0
    sim._write = original
    sim.faults.split = 0
    sim.replug()
    reader.log.wait_for(ReaderConnected, timeout=2.0)
    assert reader.log.wait_for(CardRead).card["id_number"] == cards[0]["id_number"]


def test_card_present_across_a_short_unplug_is_not_reported_twice(reader, sim, cards):
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    sim.unplug()
    reader.log.wait_for(ReaderDisconnected)
    sim.replug()
    reader.log.wait_for(ReaderConnected, timeout=2.0)
    reader.log.settle(0.3)
    assert reader.log.count(CardRead) == 1 and reader.log.count(CardRemoved) == 0


def test_card_removed_while_unplugged_is_reported_after_replug(reader, sim, cards):
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    sim.unplug()
    sim.remove()
    sim.replug()
    reader.log.wait_for(CardRemoved, timeout=3)


def test_reader_absent_at_start_connects_when_plugged_in(tmp_path, cards):
    log = EventLog()
    sim = SimulatedReader(link_dir=str(tmp_path))
    with CardReader(sim.port, log, **FAST):
        assert "No such file" in log.wait_for(ReaderDisconnected).reason
        log.settle(0.2)
        assert log.count(ReaderDisconnected) == 1  # reported once, not on every retry
        with sim:
            log.wait_for(ReaderConnected, timeout=2)
            sim.place(cards[1])
            log.wait_for(CardRead)


def test_a_failing_event_handler_does_not_stop_the_reader(sim, cards):
    seen = []

    def handler(event):
        seen.append(event)
        if isinstance(event, CardRead):
            raise RuntimeError("consumer bug")

    with CardReader(sim.port, handler, **FAST):
        sim.place(cards[0])
        log = EventLog()
        for _ in range(100):
            if any(isinstance(e, CardRead) for e in seen):
                break
            log.settle(0.02)
        sim.remove()
        for _ in range(100):
            if any(isinstance(e, CardRemoved) for e in seen):
                break
            log.settle(0.02)
    assert [type(e) for e in seen if not isinstance(e, (ReaderConnected, ReaderDisconnected))] == [CardRead, CardRemoved]


# --- probing ---------------------------------------------------------------------------------------

def test_probe_reader_returns_the_sam_id(sim):
    assert probe_reader(sim.port).startswith("05.01-")


def test_probe_reader_on_a_silent_port_fails(tmp_path):
    with SimulatedReader(link_dir=str(tmp_path), faults=Faults(silent=10**6)) as sim:
        with pytest.raises(ReaderError):
            probe_reader(sim.port, timeout=0.05)


def test_speed_probe_tries_the_configured_rate_first_then_the_others(sim):
    tried = []

    def opener(port, rate):
        tried.append(rate)
        # loop:// echoes our own command back: a 3-byte LEN reply, which a host never accepts
        return open_serial(port if rate == 38400 else "loop://", rate)

    link, sam_id, rate = connect(sim.port, 57600, opener, deadline_scale=0.1)
    link.close()
    assert (tried, rate) == ([57600, 115200, 38400], 38400)


def test_reads_cut_short_count_as_attempts_then_ask_to_replace_the_card(reader, sim, cards):
    """§6: a truncated reply (or silence) while the reader sends is a card lifted mid-read: after
    3 attempts one CardError ("lift and replace"), and the reader is not declared gone."""
    reader.log.wait_for(ReaderConnected)
    sim.faults.truncate_reads = 3
    sim.place(cards[0])
    error = reader.log.wait_for(CardError, timeout=15)
    assert error.attempts == 3 and "read cut short" in error.reason
    assert reader.log.count(ReaderDisconnected) == 0 and reader.log.count(CardRead) == 0
    sim.remove()
    reader.log.settle(0.2)
    sim.place(cards[0])
    reader.log.wait_for(CardRead)


def test_deadlines_add_wire_time_at_lower_speeds():
    from drivers.idcard.transport import DEADLINES, Link

    fast, slow = Link(None, 1.0, 115200), Link(None, 1.0, 9600)
    assert fast.deadline(Command.READ_TEXT_PHOTO) == DEADLINES[Command.READ_TEXT_PHOTO]
    # 1,305 bytes at 9600 baud take 1.36 s, 0.11 s of which the 115200 deadline already covers
    assert slow.deadline(Command.READ_TEXT_PHOTO) == pytest.approx(2.0 + 1305 * 10 * (1 / 9600 - 1 / 115200))
    assert slow.deadline(Command.FIND_CARD) == pytest.approx(0.5 + 30 * 10 * (1 / 9600 - 1 / 115200))


def test_a_card_is_read_over_a_9600_baud_link_slower_than_the_fast_deadline(tmp_path, cards):
    """The read reply sent 0.8 s late and paced at 9600 baud: 2.15 s, over §4's 2 s at 115200."""
    with SimulatedReader(link_dir=str(tmp_path), faults=Faults(wire_baud=9600, read_delay=0.8)) as sim:
        log = EventLog()
        with CardReader(sim.port, log, baudrate=9600, **FAST) as reader:
            log.wait_for(ReaderConnected)
            sim.place(cards[0])
            log.wait_for(CardRead, timeout=15)
            assert reader.stats["link_errors"] == 0


def test_a_command_damaged_twice_is_followed_by_a_re_probe(reader, sim, cards):
    """§5 10: resend once; then flush and re-probe (status, SAM id) and start the sequence again."""
    reader.log.wait_for(ReaderConnected)
    sim.faults.status[Command.SELECT_CARD.value] = [Status.BAD_CHECKSUM, Status.BAD_CHECKSUM]
    sim.place(cards[0])
    reader.log.wait_for(CardRead)
    select_at = [i for i, c in enumerate(sim.history) if c == Command.SELECT_CARD.value]
    after_second = sim.history[select_at[1] + 1:select_at[1] + 3]
    assert after_second == [Command.SAM_STATUS.value, Command.SAM_ID.value]
    assert reader.log.count(ReaderDisconnected) == 0 and reader.log.count(CardError) == 0


def test_a_fingerprint_verification_error_is_retried_once_without_fingerprints(sim, cards):
    """§5 37 after 30 10: retry once with 30 01; the card is read."""
    log = EventLog()
    with CardReader(sim.port, log, read_command=Command.READ_TEXT_PHOTO_FP, **FAST):
        log.wait_for(ReaderConnected)
        sim.faults.status[Command.READ_TEXT_PHOTO_FP.value] = [Status.FINGERPRINT_VERIFY_FAILED]
        sim.place(cards[0])
        log.wait_for(CardRead)
        first_fp = sim.history.index(Command.READ_TEXT_PHOTO_FP.value)
        assert sim.history[first_fp + 1] == Command.READ_TEXT_PHOTO.value
        assert log.count(CardError) == 0


def test_scripted_success_replies_carry_their_data(sim):
    from drivers.idcard.protocol import FrameParser, build_command

    port = open_serial(sim.port, 115200)
    try:
        for command, code, size in ((Command.FIND_CARD, Status.FOUND, 4), (Command.SELECT_CARD, Status.OK, 8)):
            sim.faults.status[command.value] = [code]
            port.write(build_command(*command.value))
            parser, frame = FrameParser(), None
            while frame is None:
                parser.feed(port.read(64))
                event = parser.next_event()
                frame = event if hasattr(event, "sw3") else None
            assert (frame.sw3, len(frame.data)) == (code, size)
    finally:
        port.close()
