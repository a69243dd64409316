"""Host watchdog: heartbeats stop -> the simulated board power-cycles the Pi after the timeout, not
before; it resumes after the Pi's reboot; it backs off; shutdown disarms it.  The firmware runs on
CPython and on the real MicroPython unix port, talking to the host driver over a pty."""

from __future__ import annotations

import time

from drivers.ioboard.events import PowerCycleStarted
from ioboard_harness import connect, FAST_CONFIG, EventLog, wait_until

MS = 1_000_000  # ns
# The board counts whole milliseconds, so an edge may fall up to 1 ms early in wall time, and the
# wall time of each edge is taken by the simulator's process, which the OS may preempt between the
# tick and the stamp: a fresh-clone CI run measured a 200 ms relay pulse as 198.8 ms.  A few ms of
# slack; a wrong timer (another config field, seconds for ms) is off by far more.
TICK = 5 * MS
TIMEOUT = FAST_CONFIG.watchdog_timeout_ms
GRACE = FAST_CONFIG.boot_grace_ms
CYCLE = FAST_CONFIG.cycle_ms


def beat(client, seconds: float, every: float = 0.05) -> int:
    """Heartbeat for `seconds`; returns time_ns() taken just before the last heartbeat() call."""
    end = time.monotonic() + seconds
    sent = client.stats["heartbeats"]
    while True:
        last = time.time_ns()
        client.heartbeat()
        time.sleep(every)
        if time.monotonic() >= end:
            break
    assert wait_until(lambda: client.stats["heartbeats"] > sent)
    return last


def test_power_cycle_after_the_timeout_not_before(any_sim, any_client):
    log = any_client.log
    last = beat(any_client, 1.2)  # twice the timeout: heartbeats keep the Pi powered
    assert any_sim.power_cycles() == []
    assert not wait_until(lambda: any_sim.power_cycles(), (TIMEOUT - 150) / 1000)  # not before
    assert wait_until(lambda: any_sim.power_cycles(), 1.0)
    cut = any_sim.power_cycles()[0]
    assert cut - last >= TIMEOUT * MS - TICK, (cut - last) / MS
    assert cut - last <= (TIMEOUT + 250) * MS, (cut - last) / MS
    assert log.wait_for(PowerCycleStarted).consecutive == 1
    # the relay is released after cycle_ms: the Pi gets power back
    assert wait_until(lambda: not any_sim.relay_on(), 1.0)
    on, off = any_sim.outputs("relay")[-2:]
    assert on[1] == 1 and off[1] == 0
    assert CYCLE * MS - TICK <= off[0] - on[0] <= (CYCLE + 150) * MS


def test_resumes_after_the_pi_reboots(sim, client):
    beat(client, 0.2)
    assert wait_until(lambda: sim.power_cycles(), 2.0)
    assert wait_until(lambda: not sim.relay_on(), 1.0)
    assert sim.board.pattern(sim.board.now) == 4  # booting: waiting for the Pi
    beat(client, (GRACE + TIMEOUT) / 1000 + 0.3)  # the rebooted kiosk heartbeats again
    assert len(sim.power_cycles()) == 1
    assert sim.board.cycles_in_row == 0
    assert sim.board.pattern(sim.board.now) == 0  # ok again


def test_boot_grace_then_backoff_after_max_cycles(sim, client):
    beat(client, 0.1)
    assert wait_until(lambda: len(sim.power_cycles()) == 1, 2.0)
    assert wait_until(lambda: not sim.relay_on(), 1.0)
    released = sim.outputs("relay")[-1][0]
    assert wait_until(lambda: len(sim.power_cycles()) == 2, (GRACE + 500) / 1000)
    assert sim.power_cycles()[1] - released >= GRACE * MS - TICK  # the Pi got its boot grace
    assert not wait_until(lambda: len(sim.power_cycles()) > 2, (GRACE + CYCLE + 300) / 1000)  # max_cycles: back off


def test_shutdown_state_disarms_the_power_cycle(sim, client):
    beat(client, 0.1)
    client.shutdown()
    assert wait_until(lambda: client.request("get_status").fields["state"] == 1, 1.0)
    assert not wait_until(lambda: sim.power_cycles(), (TIMEOUT + 300) / 1000)
    assert sim.board.pattern(sim.board.now) == 3  # shutdown LEDs
    status = client.clear_shutdown()
    assert status.state == "running"
    assert wait_until(lambda: sim.power_cycles(), (GRACE + 500) / 1000)  # re-armed with the boot grace


def test_host_quiet_turns_leds_degraded_and_back(sim, client):
    client.set_status_led("ok")
    beat(client, 0.2)
    assert sim.board.pattern(sim.board.now) == 0
    assert sim.outputs("led_green")[-1][1] == 1 and sim.outputs("led_red")[-1][1] == 0
    assert wait_until(lambda: sim.board.pattern(sim.board.now) == 1, 1.0)  # quiet > quiet_ms
    beat(client, 0.1)
    assert sim.board.pattern(sim.board.now) == 0


def test_an_unconfigured_board_uses_safe_defaults(sim):
    log = EventLog()
    assert sim.board.config == (120000, 300000, 15000, 5000, 3)
    assert not sim.board.configured and not sim.relay_on()
    client = connect(sim, log)
    try:
        assert sim.board.config == FAST_CONFIG.values()
    finally:
        client.stop()
