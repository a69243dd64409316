"""`estation doctor`: the real CLI in a subprocess, and each check on its own."""

from __future__ import annotations

import os
import subprocess
import sys
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
    by_name = {r.check: r.status for r in results}
    assert by_name == {"config": Status.OK, "device idcard": Status.OK, "device printer": Status.OK,
                       "disk": Status.OK, "fonts": Status.FAIL, "clock": Status.WARN}
    table = format_table(results)
    assert "hint: apt-get install fonts-noto-cjk" in table and "1 failed, 1 warning(s)" in table
    assert format_table([CheckResult("x", Status.OK, "fine")]).endswith("all checks passed")
