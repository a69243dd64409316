"""The device states a kiosk reports (peripherals.json, read by the heartbeat)."""

from __future__ import annotations

import json

from drivers.ioboard.events import BoardConnected, BoardDisconnected, TamperChanged
from kiosk.cli.peripherals import PeripheralReport


def _reported(sync_dir) -> dict:
    return json.loads((sync_dir / "peripherals.json").read_text("utf-8"))


def test_a_board_never_seen_is_absent_and_one_that_went_away_is_a_fault(tmp_path):
    report = PeripheralReport(tmp_path)
    report.io_board_event(BoardDisconnected("/dev/estation-ioboard", "connect failed: no such file"))
    assert report.state["io_board"] == "absent"  # a kiosk without a board, or one not enumerated yet
    report.io_board_event(BoardConnected("/dev/estation-ioboard", "1.0.0", 0x1234, None))
    report.io_board_event(TamperChanged("closed"))
    assert _reported(tmp_path) == {"id_reader": "absent", "printer": "absent", "io_board": "ok", "tamper": "closed"}
    report.io_board_event(BoardDisconnected("/dev/estation-ioboard", "link lost"))
    assert _reported(tmp_path)["io_board"] == "fault" and _reported(tmp_path)["tamper"] == "unknown"
