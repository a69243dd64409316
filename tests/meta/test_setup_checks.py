"""The suite's own guard rails: missing system packages are named, not skipped."""

from __future__ import annotations

import subprocess
import sys

import pytest

from system_packages import PACKAGE_LIST, ROOT, missing_packages, required_files


def test_package_list_names_a_file_for_each_area():
    files = required_files(PACKAGE_LIST.read_text())
    assert {"xvfb", "fonts-noto-cjk", "postgresql", "chromium", "espeak-ng"} <= set(files)


def test_a_missing_package_is_named():
    listing = "xvfb /usr/bin/Xvfb\nghost-pkg /nonexistent/ghost\nlibgl1 -\n"
    assert missing_packages(listing) == ["ghost-pkg (no /nonexistent/ghost)"]


def test_this_machine_has_everything():
    assert missing_packages(PACKAGE_LIST.read_text()) == []


def test_ci_runs_make_test_and_readme_opens_with_the_two_commands():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    head = (ROOT / "README.md").read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head) and any(line.startswith("make test") for line in head)


def test_setup_script_is_idempotent_and_quick_when_done():
    result = subprocess.run(["bash", "hardware/scripts/dev-setup.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Debian packages present" in result.stdout and "up to date" in result.stdout


def test_demo_reads_simulated_cards_end_to_end():
    result = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--reader-only", "--count", "2", "--dwell", "0.5",
                             "--gap", "0.2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    reads = [line for line in result.stdout.splitlines() if line.startswith("card read")]
    assert len(reads) == 2 and "resident" in reads[0]
    assert "330302********" in reads[0]  # masked, never the full number


def test_demo_station_files_a_visit_that_reaches_its_local_central(tmp_path):
    import json

    argv = [sys.executable, "-m", "kiosk", "demo", "--visit", "--data-dir", str(tmp_path / "demo")]
    first = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)  # a restarted station
    assert again.returncode == 0, again.stdout + again.stderr
    runs = [json.loads(r.stdout.strip().splitlines()[-1]) for r in (first, again)]
    assert [r["seq"] for r in runs] == [1, 2] and all(r["stored_at_central"] for r in runs)
    assert [r["dashboard_records"] for r in runs] == [1, 2]  # the operator sees them on the dashboard
    assert runs[0]["receipt_token"].startswith("ES1:")
    key = oct((tmp_path / "demo" / "sync" / "device.key").stat().st_mode & 0o777)
    assert key == "0o600"


@pytest.mark.parametrize("program", ["kiosk", "sync.central.cli"])
def test_no_command_is_one_error_line(program):
    result = subprocess.run([sys.executable, "-m", program], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
