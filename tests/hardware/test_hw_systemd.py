"""hardware/systemd units: `systemd-analyze verify` clean (any stderr fails), and the settings that matter."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).parents[2] / "hardware/systemd"
PREFIX = "/opt/estation/venv/bin"


def analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze missing (Debian package systemd)")
    return found


def staged(tmp_path: Path, name: str) -> Path:
    """Copy a unit with its ExecStart binaries redirected to stubs that exist (verify insists)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for binary in ("estation",):
        stub = bindir / binary
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    text = (UNITS / name).read_text().replace(PREFIX, str(bindir))
    out = tmp_path / name
    out.write_text(text)
    return out


def verify(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([analyze(), "verify", *map(str, paths)], capture_output=True, text=True, timeout=30,
                          cwd=paths[0].parent)


def load(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


@pytest.mark.parametrize("name", ["estation-ui.service", "estation-sync.service"])
def test_units_verify_without_warnings(tmp_path, name):
    result = verify(staged(tmp_path, name))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_verify_catches_a_bad_value(tmp_path):
    unit = staged(tmp_path, "estation-ui.service")
    unit.write_text(unit.read_text().replace("Type=notify", "Type=notfy"))
    result = verify(unit)
    assert "notfy" in result.stderr  # exit status stays 0: only stderr tells


def test_verify_catches_a_missing_binary():
    result = verify(UNITS / "estation-sync.service")
    assert result.returncode != 0 and "estation" in result.stderr


def test_ui_unit_settings():
    unit = load("estation-ui.service")
    service, section = unit["Service"], unit["Unit"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert 10 <= int(service["WatchdogSec"]) <= 60
    assert service["Restart"] == "always"
    assert int(section["StartLimitBurst"]) >= 3 and int(section["StartLimitIntervalSec"]) > 0
    assert "plymouth-quit-wait.service" in section["After"]  # the display is up
    assert section["ConditionPathExists"] == "/dev/dri/card0"
    assert "SDL_VIDEODRIVER=kmsdrm" in service["Environment"]
    assert service["ExecStart"].startswith(PREFIX + "/estation ")


def test_sync_unit_settings():
    service = load("estation-sync.service")["Service"]
    assert service["Restart"] == "always" and service["ExecStart"] == PREFIX + "/estation sync"
    assert service["User"] == "estation"
