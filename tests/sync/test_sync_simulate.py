"""`estation simulate`: simulated kiosks enroll, send records and heartbeats against a real central
(uvicorn on 127.0.0.1), bounded in count and time, loopback only."""

from __future__ import annotations

import json
import time

import pytest

import kiosk.cli as root
from sync.central.cli import main as central_main
from sync.central.fleet import all_device_views


@pytest.fixture
def central(sqlite_central):
    return sqlite_central


@pytest.fixture
def estation():
    """The real root CLI (simulate is one of its COMMAND_MODULES)."""
    assert "kiosk.cli.simulate" in root.COMMAND_MODULES
    return root.main


def test_fleet_enrolls_sends_records_and_beats(central, estation, capsys, tmp_path):
    operator = central.central.create_operator_token()
    started = time.monotonic()
    code = estation(["simulate", "--kiosks", "5", "--central", central.url, "--records", "4", "--seconds", "3",
                     "--beat", "1", "--operator-token", operator, "--seed", "1", "--data-dir", str(tmp_path / "f")])
    elapsed = time.monotonic() - started
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary
    assert summary["enrolled"] == 5 and summary["records_created"] == 20 and summary["records_stored"] == 20
    assert summary["heartbeats"] >= 5 + 5 and summary["failed_passes"] == 0
    assert elapsed < 8  # bounded by --seconds (plus the last round in flight)
    views = all_device_views(central.central)
    assert len(views) == 5
    for view in views:
        assert view["status"] == "online" and view["label"] == "simulated"
        assert view["records"] == {"count": 4, "max_seq": 4, "missing": 0}
        assert set(view["last_heartbeat"]["peripherals"]) == {"id_reader", "printer", "io_board", "tamper"}


def test_token_from_the_central_cli(central, estation, capsys, tmp_path):
    db = central.central.settings.db_url
    assert central_main(["token", "create", "--db", db, "--uses", "2"]) == 0
    token = capsys.readouterr().out.strip()
    assert estation(["simulate", "--kiosks", "2", "--central", central.url, "--records", "1", "--seconds", "2",
                     "--token", token]) == 0
    assert json.loads(capsys.readouterr().out)["records_stored"] == 2


@pytest.mark.parametrize("argv, message", [
    (["--kiosks", "2", "--central", "http://10.1.2.3:8080", "--operator-token", "x"], "loopback only"),
    (["--kiosks", "2", "--central", "https://central.example", "--operator-token", "x"], "loopback only"),
    (["--kiosks", "0", "--central", "http://127.0.0.1:9"], "--kiosks"),
    (["--kiosks", "1001", "--central", "http://127.0.0.1:9"], "--kiosks"),
    (["--kiosks", "1", "--central", "http://127.0.0.1:9", "--seconds", "99999"], "--seconds"),
    (["--kiosks", "1", "--central", "http://127.0.0.1:9"], "--operator-token"),
])
def test_bad_input_is_one_error_line(estation, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("ESTATION_OPERATOR_TOKEN", raising=False)
    assert estation(["simulate", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err


def test_wrong_operator_token_is_refused(central, estation, capsys):
    assert estation(["simulate", "--kiosks", "1", "--central", central.url, "--operator-token", "eo_nope"]) == 1
    assert "refused the enrollment token" in capsys.readouterr().err
