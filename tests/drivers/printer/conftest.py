"""Fixtures for the printer tests: a simulator on a real pty pair and a transport driving it."""

from __future__ import annotations

import pytest

from drivers.printer.sim import SimulatedPrinter
from drivers.printer.transport import ReceiptPrinter
from printer_harness import FAST, EventLog


@pytest.fixture
def sim(tmp_path):
    with SimulatedPrinter(out_dir=str(tmp_path), link_dir=str(tmp_path)) as printer:
        yield printer


@pytest.fixture
def printer(sim):
    log = EventLog()
    with ReceiptPrinter(sim.port, log, **FAST) as p:
        p.log = log
        yield p
