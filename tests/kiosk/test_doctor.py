"""`estation doctor`: the real CLI in a subprocess, and each check on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from kiosk.cli import doctor_checks
from kiosk.cli.doctor import format_table
from kiosk.cli.doctor_checks import (
    CheckResult, Status, check_clock, check_device_path, check_disk, check_fonts, check_idcard_reader,
    clock_synced, run_checks,
)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"


def write_config(tmp_path: Path, *, idcard: str = "sim", printer: str = "", extra: str = "",
                 idcard_extra: str = "") -> Path:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    file = tmp_path / "estation.toml"
    file.write_text(
        f'[station]\nid = "ws-0042"\ncity = "hubei"\ndata_dir = "{data}"\n'
        f'[devices.idcard]\nport = "{idcard}"\n{idcard_extra}[devices.printer]\nport = "{printer}"\n{extra}',
        encoding="utf-8")
    return file


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ESTATION_CONFIG"}
    environ.update(env or {})
    return subprocess.run([str(PYTHON if PYTHON.exists() else sys.executable), "-m", "kiosk", "doctor", *args],
                          capture_output=True, text=True, cwd=ROOT, env=environ, timeout=30, check=False)


def row(stdout: str, check: str) -> str:
    """The table row of one check (status and detail)."""
    for line in stdout.splitlines():
        if line.startswith(check + " "):
            return line
    raise AssertionError(f"no {check!r} row in:\n{stdout}")


def hint_after(stdout: str, check: str) -> str:
    lines = stdout.splitlines()
    following = lines[lines.index(row(stdout, check)) + 1].strip()
    assert following.startswith("hint: "), stdout
    return following


# ---------------------------------------------------------------- the CLI


def test_good_config_with_simulated_devices_passes(tmp_path):
    done = doctor("--config", str(write_config(tmp_path, printer="sim")))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].split() == ["check", "status", "detail"]
    for check in ("config", "device idcard", "device printer", "disk", "fonts"):
        assert " OK " in row(done.stdout, check)
    assert "simulated" in row(done.stdout, "device idcard")
    assert row(done.stdout, "clock").split()[1] in ("OK", "WARN")  # unsynced is only a warning
    assert "FAIL" not in done.stdout and done.stderr == ""


def test_unknown_key_fails_naming_it_with_a_hint(tmp_path):
    done = doctor("--config", str(write_config(tmp_path, extra="[ui]\nrotaton = 90\n")))
    assert done.returncode == 1
    config_row = row(done.stdout, "config")
    assert " FAIL " in config_row and "ui.rotaton" in config_row
    assert "did you mean 'rotation'" in hint_after(done.stdout, "config")
    assert "not checked" in row(done.stdout, "devices")  # later checks still run and say why they are skipped
    assert row(done.stdout, "fonts") and row(done.stdout, "clock")


def test_bad_value_fails_naming_the_key(tmp_path):
    done = doctor("--config", str(write_config(tmp_path, idcard_extra="baudrate = 12345\n")))
    assert done.returncode == 1
    assert " FAIL " in row(done.stdout, "config") and "devices.idcard.baudrate" in row(done.stdout, "config")


def test_broken_toml_fails_the_config_check(tmp_path):
    file = tmp_path / "estation.toml"
    file.write_text("[station\n", encoding="utf-8")
    done = doctor("--config", str(file))
    assert done.returncode == 1 and "not valid TOML" in row(done.stdout, "config")


def test_config_path_comes_from_the_environment(tmp_path):
    file = write_config(tmp_path)
    assert doctor(env={"ESTATION_CONFIG": str(file)}).returncode == 0
    done = doctor(env={"ESTATION_CONFIG": str(tmp_path / "missing.toml")})
    assert done.returncode == 1 and "missing.toml: no such file" in row(done.stdout, "config")


def test_missing_device_path_fails_with_a_hint(tmp_path):
    done = doctor("--config", str(write_config(tmp_path, idcard="/dev/estation-nonexistent",
                                               printer=str(tmp_path / "printer"))))
    assert done.returncode == 1
    assert " FAIL " in row(done.stdout, "device idcard") and "not found" in row(done.stdout, "device idcard")
    assert "udev" in hint_after(done.stdout, "device idcard")
    assert " FAIL " in row(done.stdout, "device printer") and "hint: " in hint_after(done.stdout, "device printer")


def test_a_pty_opens_but_a_silent_reader_fails_the_probe(tmp_path):
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        done = doctor("--config", str(write_config(tmp_path, idcard=path, printer=path)), "--probe-timeout", "0.1")
    finally:
        os.close(master)
        os.close(slave)
    assert " OK " in row(done.stdout, "device printer") and "opened read/write" in row(done.stdout, "device printer")
    idcard = row(done.stdout, "device idcard")
    assert " FAIL " in idcard and "opened, but the reader did not answer" in idcard, done.stdout
    assert "baudrate" in hint_after(done.stdout, "device idcard")
    assert done.returncode == 1


def test_the_simulated_reader_on_a_pty_answers_the_probe(tmp_path):
    from drivers.idcard.sim import SimulatedReader

    with SimulatedReader(cards=[]) as reader:
        done = doctor("--config", str(write_config(tmp_path, idcard=reader.port)))
    idcard = row(done.stdout, "device idcard")
    assert " OK " in idcard and "reader answers, SAM " in idcard, done.stdout
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("args", [["--bogus"], ["--probe-timeout", "zero"], ["--config"]])
def test_usage_errors_exit_2_with_one_error_line(args):
    done = doctor(*args)
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")


# ---------------------------------------------------------------- the checks


def test_device_path_layer(tmp_path):
    assert check_device_path("device x", "sim").status is Status.OK
    plain = tmp_path / "plain"
    plain.write_text("")
    result = check_device_path("device x", str(plain))
    assert result.status is Status.FAIL and "not a character device" in result.detail and result.hint
    assert check_device_path("device x", "/dev/null").status is Status.OK  # a character device that opens


def test_reader_probe_outcomes():
    def must_not_probe(*_):
        raise AssertionError("the simulator is not probed")

    assert check_idcard_reader("sim", 115200, probe=must_not_probe).status is Status.OK

    def silent(port, baudrate, timeout):
        raise OSError(5, "Input/output error")

    result = check_idcard_reader("/dev/null", 9600, probe=silent)
    assert result.status is Status.FAIL and "Input/output error" in result.detail and "9600" in result.detail

    seen = []
    result = check_idcard_reader("/dev/null", 57600, probe=lambda *a: seen.append(a) or "05.01-20260101-1-2")
    assert result.status is Status.OK and "05.01-20260101-1-2" in result.detail
    assert seen == [("/dev/null", 57600, 1.0)]
    assert check_idcard_reader("/nonexistent", 115200, probe=must_not_probe).status is Status.FAIL


def test_fonts_check(tmp_path):
    missing = check_fonts(tmp_path / "NotoSansCJK-Regular.ttc")
    assert missing.status is Status.FAIL and "apt-get install fonts-noto-cjk" in missing.hint
    font = tmp_path / "font.ttc"
    font.write_bytes(b"ttcf")
    assert check_fonts(font).status is Status.OK


def test_disk_check(tmp_path):
    assert check_disk(tmp_path).status is Status.OK
    full = check_disk(tmp_path, min_free_bytes=1 << 62)
    assert full.status is Status.FAIL and "MB free, need" in full.detail and full.hint
    assert check_disk(tmp_path / "not" / "yet").status is Status.WARN
    afile = tmp_path / "afile"
    afile.write_text("")
    assert check_disk(afile).status is Status.FAIL


def test_disk_check_not_writable(tmp_path, monkeypatch):
    # Faked: the suite may run as root, who can write to a chmod 500 directory.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(doctor_checks.tempfile, "NamedTemporaryFile", refuse)
    result = check_disk(tmp_path)
    assert result.status is Status.FAIL and "not writable" in result.detail and "chown" in result.hint


def test_clock_check():
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    assert check_clock(now, True, build_date=date(2026, 11, 1)).status is Status.OK
    assert check_clock(now, None, build_date=date(2026, 11, 1)).status is Status.OK
    unsynced = check_clock(now, False, build_date=date(2026, 11, 1))
    assert unsynced.status is Status.WARN and "set-ntp" in unsynced.hint
    assert check_clock(now, True, build_date=date(2027, 1, 1)).status is Status.FAIL  # before the build
    epoch = check_clock(datetime(1970, 1, 1, tzinfo=timezone.utc), True, build_date=date(2020, 1, 1))
    assert epoch.status is Status.FAIL and "timedatectl" in epoch.hint  # a Pi without RTC or NTP


def test_clock_synced_reads_the_timesyncd_flag_without_timedatectl(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no timedatectl on PATH
    flag = tmp_path / "timesync" / "synchronized"
    assert clock_synced(flag=flag) is None  # no timesyncd: unknown
    flag.parent.mkdir()
    assert clock_synced(flag=flag) is False
    flag.write_text("")
    assert clock_synced(flag=flag) is True


def test_run_checks_and_table(tmp_path):
    results = run_checks(write_config(tmp_path, idcard="/dev/null"), now=datetime(2030, 1, 1), synced=False,
                         probe=lambda *a: "SAM-1", fonts_path=tmp_path / "nofont")
    by_name = {r.check: r.status for r in results if r.check in (
        "config", "device idcard", "device printer", "disk", "fonts", "clock")}  # the sync/IO-board rows: below
    assert by_name == {"config": Status.OK, "device idcard": Status.OK, "device printer": Status.OK,
                       "disk": Status.OK, "fonts": Status.FAIL, "clock": Status.WARN}
    table = format_table(results)
    assert "hint: apt-get install fonts-noto-cjk" in table and "1 failed, " in table
    assert format_table([CheckResult("x", Status.OK, "fine")]).endswith("all checks passed")


# ---------------------------------------------------------------- printer, IO board, central, outbox, feeds


def statuses(results: list[CheckResult]) -> dict[str, tuple[Status, str]]:
    return {r.check: (r.status, r.detail) for r in results}


def test_printer_status_and_paper_through_the_simulator():
    from drivers.printer.sim import SimulatedPrinter

    with SimulatedPrinter(render=False) as sim:
        got = statuses(doctor_checks.check_printer(sim.port))
        assert got["device printer"][0] is Status.OK and got["printer"] == (Status.OK, "answers DLE EOT 1-4: ok")
        assert got["paper"] == (Status.OK, "ok")
        sim.faults.paper_near_end = True
        assert statuses(doctor_checks.check_printer(sim.port))["paper"][0] is Status.WARN
        sim.run_out_of_paper()
        out = doctor_checks.check_printer(sim.port)
        assert out[2].status is Status.FAIL and out[2].detail == "out" and "roll" in out[2].hint
        sim.load_paper()
        sim.open_cover()
        cover = doctor_checks.check_printer(sim.port)[1]
        assert cover.status is Status.FAIL and "cover_open" in cover.detail and "cover" in cover.hint
    master, slave = os.openpty()
    try:  # a port that opens but never answers
        silent = doctor_checks.check_printer(os.ttyname(slave), timeout=0.1)[1]
    finally:
        os.close(master)
        os.close(slave)
    assert silent.status is Status.FAIL and "no answer to DLE EOT" in silent.detail and silent.hint
    assert [r.check for r in doctor_checks.check_printer("")] == ["device printer"]


def test_ioboard_identify_and_tamper_through_the_simulator():
    from drivers.ioboard.sim import SimulatedBoard

    with SimulatedBoard() as sim:
        device, tamper = doctor_checks.check_ioboard(sim.port)
        assert device.status is Status.OK and "firmware 1.0.0" in device.detail, device
        assert tamper == doctor_checks.ok("tamper", "closed")
    with SimulatedBoard(tamper_open=True) as sim:
        device, tamper = doctor_checks.check_ioboard(sim.port)
        assert device.status is Status.OK and tamper.status is Status.FAIL and "door open" in tamper.detail
        assert "latched" in tamper.detail and "switch" in tamper.hint
    master, slave = os.openpty()
    try:
        mute = doctor_checks.check_ioboard(os.ttyname(slave), timeout=0.5)
    finally:
        os.close(master)
        os.close(slave)
    assert mute[0].status is Status.FAIL and "no version handshake" in mute[0].detail and "flash" in mute[0].hint
    assert doctor_checks.check_ioboard(None, connect=lambda *a: 1 / 0)[0].status in (Status.WARN, Status.FAIL)
    assert doctor_checks.check_ioboard("/dev/estation-nonexistent")[0].status is Status.FAIL  # named: must exist


def test_ioboard_held_by_the_running_kiosk_is_a_warning_and_left_alone():
    from drivers.ioboard.events import BoardConnected
    from drivers.ioboard.sim import SimulatedBoard
    from drivers.ioboard.transport import SerialIoBoard

    with SimulatedBoard() as sim:
        seen = []
        with SerialIoBoard(sim.port, seen.append) as kiosk:
            deadline = time.monotonic() + 5
            while not kiosk.connected and time.monotonic() < deadline:
                time.sleep(0.02)
            device, tamper = doctor_checks.check_ioboard(sim.port, timeout=1.0)
            assert device.status is Status.WARN and "in use by the running kiosk" in device.detail, device
            assert "systemctl stop estation-ui" in device.hint and tamper.status is Status.WARN
            time.sleep(0.3)
            assert kiosk.connected and kiosk.stats["reconnects"] == 0 and kiosk.stats["resyncs"] == 0
        assert sum(isinstance(e, BoardConnected) for e in seen) == 1


def test_ioboard_in_shutdown_is_reported_not_cleared():
    from drivers.ioboard.sim import SimulatedBoard

    with SimulatedBoard() as sim:
        sim.board.enter_shutdown(1)
        device, _ = doctor_checks.check_ioboard(sim.port)
        assert device.status is Status.FAIL and "shutdown" in device.detail and "clears it" in device.hint
        assert sim.board.state == 1  # still disarmed: the doctor only looks


def test_clock_skew_thresholds():
    check = doctor_checks.check_central_clock
    assert check("", 0).status is Status.WARN
    assert check("http://c", 1000.0, central_time=lambda u, t: 1030.0).status is Status.OK
    assert check("http://c", 1000.0, central_time=lambda u, t: 1000.0 - 61).status is Status.WARN
    far = check("http://c", 1000.0, central_time=lambda u, t: 1301.0)
    assert far.status is Status.FAIL and "+301 s" in far.detail and "set-ntp" in far.hint

    def down(url, timeout):
        raise OSError("connection refused")

    assert check("http://c", 0, central_time=down).status is Status.FAIL


def test_outbox_backlog_and_quarantine(tmp_path):
    now = 1_800_000_000.0
    assert doctor_checks.check_outbox(tmp_path / "sync", now).status is Status.OK  # nothing yet
    spool = tmp_path / "sync" / "spool"
    spool.mkdir(parents=True)
    for seq, age in ((1, 7200), (2, 10)):
        rec = spool / f"{seq:016d}.rec"
        rec.write_bytes(b"{}")
        os.utime(rec, (now - age, now - age))
    result = doctor_checks.check_outbox(tmp_path / "sync", now)
    assert result.status is Status.WARN and result.detail == "2 record(s) waiting, oldest 2 h 0 min"
    os.utime(spool / f"{1:016d}.rec", (now - 90000, now - 90000))
    assert doctor_checks.check_outbox(tmp_path / "sync", now).status is Status.FAIL
    (spool / f"{1:016d}.rec").unlink()
    (tmp_path / "sync" / "quarantine").mkdir()
    (tmp_path / "sync" / "quarantine" / f"{1:016d}.rec").write_bytes(b"{}")
    quarantined = doctor_checks.check_outbox(tmp_path / "sync", now)
    assert quarantined.status is Status.WARN and "1 quarantined" in quarantined.detail


def test_feed_freshness(tmp_path):
    import json

    now = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
    sync = tmp_path / "sync"
    assert "not synced yet" in doctor_checks.check_feeds(sync, now).detail
    (sync / "feeds").mkdir(parents=True)
    for name, expires in (("jobs", "2027-01-01T00:00:00.000Z"), ("policy", "2027-01-01T00:00:00.000Z")):
        (sync / "feeds" / f"{name}.snapshot").write_text(json.dumps(
            {"signed": {"version": 3, "expires_at": expires}, "sig": "x"}))
    fresh = doctor_checks.check_feeds(sync, now)
    assert fresh.status is Status.OK and "jobs v3 until 2027-01-01T00:00" in fresh.detail
    stale = doctor_checks.check_feeds(sync, datetime(2027, 2, 1, tzinfo=timezone.utc).timestamp())
    assert stale.status is Status.WARN and "EXPIRED" in stale.detail


def test_enrollment_and_clock_skew_against_a_local_central(tmp_path):
    from kiosk.cli.localcentral import start_local_central
    from sync.provision import provision

    config = write_config(tmp_path, extra="")
    sync = tmp_path / "data" / "sync"
    assert doctor_checks.check_enrollment(sync, required=True).status is Status.FAIL
    assert doctor_checks.check_enrollment(sync, required=False).status is Status.WARN
    central = start_local_central(tmp_path / "central.sqlite")
    try:
        token, _ = central.central.create_enroll_token(label="site A")
        enrollment = provision(sync_dir=sync, central_url=central.url, token=token, hardware_id="test")
        now = datetime.now().astimezone()
        results = statuses(run_checks(config, now=now, synced=True, ioboard_port="sim"))
        assert results["enrollment"][0] is Status.OK and enrollment.device_id in results["enrollment"][1]
        assert "site A" in results["enrollment"][1]
        assert results["clock skew"][0] is Status.OK and central.url in results["clock skew"][1]
        later = datetime.fromtimestamp(now.timestamp() + 400).astimezone()
        assert statuses(run_checks(config, now=later, synced=True, ioboard_port="sim"))["clock skew"][0] is Status.FAIL
    finally:
        central.stop()
    (sync / "device.key").chmod(0o644)
    loose = doctor_checks.check_enrollment(sync, required=True)
    assert loose.status is Status.FAIL and "0644" in loose.detail and "chmod 600" in loose.hint
