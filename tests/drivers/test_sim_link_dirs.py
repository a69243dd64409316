"""Simulators clean up after themselves: a link directory a simulator made is gone when it
stops (a demo station or a test run must not leave one per device in /tmp); a caller's is left."""

from __future__ import annotations

import os

import pytest

from drivers.idcard.sim import SimulatedReader
from drivers.ioboard.sim import SimulatedBoard
from drivers.printer.sim import SimulatedPrinter

SIMULATORS = {"idcard": lambda **kw: SimulatedReader(**kw), "printer": lambda **kw: SimulatedPrinter(render=False, **kw),
              "ioboard": lambda **kw: SimulatedBoard(**kw)}


@pytest.mark.parametrize("name", sorted(SIMULATORS))
def test_a_directory_the_simulator_made_goes_when_it_stops(name):
    sim = SIMULATORS[name]()
    with sim:
        directory = os.path.dirname(sim.port)
        assert os.path.islink(sim.port)
    assert not os.path.exists(directory)


@pytest.mark.parametrize("name", sorted(SIMULATORS))
def test_a_callers_directory_stays(name, tmp_path):
    with SIMULATORS[name](link_dir=str(tmp_path)) as sim:
        assert os.path.islink(sim.port)
    assert tmp_path.is_dir() and not os.path.lexists(sim.port)


@pytest.mark.parametrize("name", ["idcard", "printer"])
def test_a_stopped_device_starts_again(name):
    sim = SIMULATORS[name]()
    sim.start().stop()
    with sim:
        assert os.path.islink(sim.port)
    assert not os.path.exists(os.path.dirname(sim.port))
