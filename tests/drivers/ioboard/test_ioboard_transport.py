"""Host driver over a pty against the real firmware: identify, config CRC handshake, tamper latches
that survive host disconnects, board reboots, unplug/replug, presence, temperature."""

from __future__ import annotations

import time

import pytest

from drivers.ioboard.events import (BoardConnected, BoardDisconnected, BoardRebooted, PresenceChanged, TamperChanged,
                                    TamperLatched)
from drivers.ioboard.protocol import BoardConfig, IoBoardError
from drivers.ioboard.transport import SerialIoBoard
from ioboard_harness import connect, FAST, EventLog, wait_until


def test_connect_reads_dictionary_and_configures(any_sim, any_client):
    connected = any_client.log.wait_for(BoardConnected)
    assert connected.version == "1.0.0" and any_client.version == "1.0.0"
    assert "configured" in connected.status.flags
    assert any_client.tamper_state() == "closed"
    assert any_client.last_status.temperature_c == pytest.approx(27.0, abs=0.2)


def test_tamper_is_latched_across_a_host_disconnect(any_sim):
    first = connect(any_sim)
    first.heartbeat()
    assert wait_until(lambda: first.stats["heartbeats"] == 1)
    time.sleep(0.05)
    first.stop()  # the kiosk software is down (crash, update, reboot)
    opened = time.time()
    any_sim.set_tamper(True)
    time.sleep(0.15)
    any_sim.set_tamper(False)  # door closed again before anyone was listening
    time.sleep(0.15)
    second = connect(any_sim)
    try:
        latch = second.log.wait_for(TamperLatched)
        assert latch.latch_id == 1 and not latch.still_open
        assert abs(latch.opened_at - opened) <= 2  # wall clock from the last heartbeat + board ticks
        assert second.tamper_state() == "closed"
        assert wait_until(lambda: second.last_status.pending == 0, 2.0)  # acknowledged -> unlatched
    finally:
        second.stop()
    third = connect(any_sim)
    try:
        third.log.drain(0.4)
        assert third.log.of(TamperLatched) == []  # delivered once, not again
    finally:
        third.stop()


def test_tamper_live_while_connected(sim, client):
    sim.set_tamper(True)
    latch = client.log.wait_for(TamperLatched)
    assert latch.still_open
    assert wait_until(lambda: client.tamper_state() == "open")
    sim.set_tamper(False)
    assert client.log.wait_for(TamperChanged, where=lambda e: e.state == "closed")
    assert wait_until(lambda: client.tamper_state() == "closed")


def test_a_crashed_handler_does_not_lose_the_latch(sim, client):
    client.log.fail[TamperLatched] = 1  # the handler raises: no acknowledgement
    sim.set_tamper(True)
    latch = client.log.wait_for(TamperLatched, timeout=3.0)  # offered again by the board
    assert latch.latch_id == 1
    assert [e.latch_id for e in client.log.failed] == [1]
    assert wait_until(lambda: sim.board.latches == [], 2.0)


def test_several_openings_each_delivered(sim, client):
    for _ in range(3):
        sim.set_tamper(True)
        time.sleep(0.05)
        sim.set_tamper(False)
        time.sleep(0.05)
    assert wait_until(lambda: len(client.log.of(TamperLatched)) == 3, 3.0)
    assert sorted(e.latch_id for e in client.log.of(TamperLatched)) == [1, 2, 3]


def test_board_reboot_is_detected_and_reconfigured(sim, client):
    client.set_status_led("fault")
    assert wait_until(lambda: sim.board.host_pattern == 2)
    sim.reboot()
    event = client.log.wait_for(BoardRebooted, timeout=3.0)
    assert event.boot_id == sim.board.boot_id
    assert wait_until(lambda: sim.board.configured and sim.board.host_pattern == 2, 2.0)
    assert client.connected
    assert client.request("get_status").fields["boot_id"] == sim.board.boot_id


def test_unplug_replug_reconnects(sim, client):
    sim.unplug()
    client.log.wait_for(BoardDisconnected, timeout=3.0)
    assert client.tamper_state() == "unknown"
    client.heartbeat()  # dropped while down, never raises
    sim.replug()
    client.log.wait_for(BoardConnected, timeout=3.0)
    assert wait_until(lambda: client.tamper_state() == "closed", 2.0)
    assert client.stats["reconnects"] == 1


def test_silent_board_drops_the_link(sim, client):
    sim.faults.mute = True
    client.set_status_led("fault")
    client.log.wait_for(BoardDisconnected, timeout=5.0)
    sim.faults.mute = False
    client.log.wait_for(BoardConnected, timeout=5.0)


def test_presence_and_temperature(sim, client):
    sim.set_presence(True)
    assert client.log.wait_for(PresenceChanged).present
    sim.set_temperature(45.0)
    assert wait_until(lambda: abs(client.last_status.temperature_c - 45.0) < 0.3, 3.0)
    sim.set_presence(False)
    assert not client.log.wait_for(PresenceChanged, where=lambda e: not e.present).present


def test_bad_led_pattern_and_bad_config_are_refused(sim, tmp_path):
    log = EventLog()
    bad = SerialIoBoard(sim.port, log, config=BoardConfig(watchdog_timeout_ms=5), **FAST).start()
    try:
        event = log.wait_for(BoardDisconnected)
        assert "refused config" in event.reason
        assert not bad.connected
        with pytest.raises(ValueError):
            bad.set_status_led("blue")
    finally:
        bad.stop()


def test_no_board_reports_disconnected_once(tmp_path):
    log = EventLog()
    with SerialIoBoard(str(tmp_path / "nothing"), log, **FAST):
        log.wait_for(BoardDisconnected)
        time.sleep(0.3)
    assert len(log.of(BoardDisconnected)) == 1
    assert isinstance(IoBoardError("x"), Exception)


# --- the thread that feeds the watchdog never dies; a board left in shutdown -----------------------------

def test_a_board_that_reboots_into_shutdown_is_cleared_and_the_thread_lives(sim, client):
    """Found by review: config refused in shutdown raised IoBoardError out of the I/O thread, which
    died with `connected` still True; the board then cut the Pi's power for want of heartbeats."""
    sim.reboot()
    sim.board.enter_shutdown(2)
    client.log.wait_for(BoardRebooted, timeout=3.0)
    assert wait_until(lambda: sim.board.state == 0 and sim.board.configured, 3.0)  # cleared, configured
    assert client._thread.is_alive() and client.connected
    client.heartbeat()
    assert wait_until(lambda: client.stats["heartbeats"] >= 1, 2.0)


def test_a_status_outside_the_dictionary_drops_the_link_not_the_thread(sim, client):
    sim.board.state = 2  # a value no state name has: a good CRC around a bad value
    event = client.log.wait_for(BoardDisconnected, timeout=3.0)
    assert "out of the dictionary's range" in event.reason
    assert client._thread.is_alive() and not client.connected
    sim.board.state = 0
    client.log.wait_for(BoardConnected, timeout=3.0)


def test_a_board_found_in_shutdown_at_start_is_cleared_by_the_kiosk_only(sim):
    sim.board.enter_shutdown(1)  # the last run's `shutdown` on its way down
    looking = connect(sim, rearm_on_connect=False)  # the doctor
    try:
        assert looking.last_status.state == "shutdown" and sim.board.state == 1
    finally:
        looking.stop()
    kiosk = connect(sim)
    try:
        assert kiosk.last_status.state == "running" and sim.board.state == 0
    finally:
        kiosk.stop()


def test_a_second_opener_is_refused_while_the_kiosk_holds_the_port(sim, client):
    log = EventLog()
    with SerialIoBoard(sim.port, log, **FAST) as other:
        event = log.wait_for(BoardDisconnected)
        assert "in use by another process" in event.reason and not other.connected
    time.sleep(0.2)
    assert client.connected and client.stats["resyncs"] == 0 and client.stats["reconnects"] == 0


def test_a_stopped_transport_starts_again(sim):
    client = connect(sim)
    client.stop()
    client.start()
    try:
        assert wait_until(lambda: client.connected, 5.0) and client._thread.is_alive()
    finally:
        client.stop()


def test_a_refused_second_opener_leaves_the_kiosks_unread_bytes_alone():
    import os

    from drivers.ioboard.transport import PortBusy, open_serial

    master, slave = os.openpty()
    try:
        kiosk = open_serial(os.ttyname(slave), 115200)
        os.write(master, b"board bytes not yet read")
        assert wait_until(lambda: kiosk.in_waiting == 24, 1.0)
        with pytest.raises(PortBusy):
            open_serial(os.ttyname(slave), 115200)  # the doctor, while the kiosk runs
        assert kiosk.in_waiting == 24 and kiosk.read(24) == b"board bytes not yet read"
        kiosk.close()
    finally:
        os.close(master)
        os.close(slave)
