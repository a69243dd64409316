"""Fixtures for the reader tests: a simulator on a real pty pair and a transport reading it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.idcard.sim import SimulatedReader
from drivers.idcard.transport import CardReader
from idcard_harness import FAST, EventLog

SAMPLES = json.loads((Path(__file__).parents[3] / "drivers/idcard/sample_cards.json").read_text("utf-8"))


@pytest.fixture
def cards():
    return [dict(c) for c in SAMPLES]


@pytest.fixture
def sim(tmp_path):
    with SimulatedReader(link_dir=str(tmp_path)) as reader:
        yield reader


@pytest.fixture
def reader(sim):
    log = EventLog()
    with CardReader(sim.port, log, **FAST) as r:
        r.log = log
        yield r
