"""`estation install` in a sandbox root standing for "/": plan, apply, idempotence, dry run, units verify."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.cli import install as inst
from kiosk.cli.install import install_station, plan_install
from kiosk.config import load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = '[station]\nid = "ws-0042"\ncity = "hubei"\n[devices.idcard]\nport = "sim"\n'


def snapshot(root: Path) -> dict[str, tuple[int, bytes | str]]:
    """Every path under root with its mode and content (or link target)."""
    out: dict[str, tuple[int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body: bytes | str = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else ""
        out[str(path.relative_to(root))] = (st.st_mode, body)
    return out


def run_cli(*argv: str, capsys) -> tuple[int, str, str]:
    code = main(list(argv))  # the real root parser: `install` is in COMMAND_MODULES
    out, err = capsys.readouterr()
    return code, out, err


def test_first_install_lands_files_with_modes_and_planned_owners(tmp_path):
    changes = plan_install(tmp_path, config_text=CONFIG)
    by_path = {str(c.path): c for c in changes if c.path is not None}
    assert by_path["/etc/estation/estation.toml"].owner == "root"
    assert by_path["/etc/estation/estation.toml"].group == "estation"
    assert by_path["/var/lib/estation"].owner == "estation" and by_path["/var/lib/estation/sync"].mode == 0o700
    user = next(c for c in changes if c.kind == "user")
    assert user.state == "skipped" and user.argv[:2] == ("useradd", "--system") and user.argv[-1] == "estation"

    lines = install_station(tmp_path, CONFIG)
    assert "10 change(s) made" in lines

    def mode(rel: str) -> int:
        return stat.S_IMODE((tmp_path / rel).lstat().st_mode)

    assert mode("etc/estation/estation.toml") == 0o640
    assert (tmp_path / "etc/estation/estation.toml").read_text() == CONFIG
    assert mode("var/lib/estation") == 0o750 and mode("var/lib/estation/sync") == 0o700
    assert mode("var/lib/estation/kivy") == 0o700
    for unit in ("estation-ui.service", "estation-sync.service"):
        installed = tmp_path / "etc/systemd/system" / unit
        assert installed.read_bytes() == (ROOT / "hardware/systemd" / unit).read_bytes() and mode(str(installed)) == 0o644
        link = tmp_path / "etc/systemd/system/multi-user.target.wants" / unit
        assert os.readlink(link) == f"/etc/systemd/system/{unit}"  # what `systemctl enable` makes
    rules = tmp_path / "etc/udev/rules.d/99-estation.rules"
    assert rules.read_bytes() == (ROOT / "hardware/udev/99-estation.rules").read_bytes()
    # The installed config is one the kiosk accepts, data dir as the units expect.
    assert load_config(tmp_path / "etc/estation/estation.toml").station.data_dir == Path("/var/lib/estation")


def test_new_rules_name_the_devices_already_plugged_in(tmp_path):
    commands = [c.argv for c in plan_install(tmp_path, config_text=CONFIG) if c.kind == "command"]
    reload_at = commands.index(("udevadm", "control", "--reload"))
    assert commands[reload_at + 1] == ("udevadm", "trigger", "--subsystem-match=tty", "--action=add")


def test_second_run_changes_nothing_and_says_so(tmp_path):
    install_station(tmp_path, CONFIG)
    before = snapshot(tmp_path)
    assert not [c for c in plan_install(tmp_path, config_text=CONFIG) if c.pending]
    lines = install_station(tmp_path, CONFIG)
    assert lines[-2] == "nothing to change: already installed" or "nothing to change: already installed" in lines
    assert not any(line.startswith("done:") for line in lines)
    assert snapshot(tmp_path) == before


def test_repairs_drift_only_where_it_is(tmp_path):
    install_station(tmp_path, CONFIG)
    (tmp_path / "var/lib/estation/sync").chmod(0o755)
    (tmp_path / "etc/systemd/system/multi-user.target.wants/estation-ui.service").unlink()
    edited = CONFIG.replace("hubei", "wenzhou")
    pending = [c for c in plan_install(tmp_path, config_text=edited) if c.pending]
    assert sorted(str(c.path) for c in pending) == [
        "/etc/estation/estation.toml", "/etc/systemd/system/multi-user.target.wants/estation-ui.service",
        "/var/lib/estation/sync"]
    install_station(tmp_path, edited)
    assert stat.S_IMODE((tmp_path / "var/lib/estation/sync").stat().st_mode) == 0o700
    assert (tmp_path / "etc/estation/estation.toml.bak").read_text() == CONFIG  # the old config is kept
    assert not [c for c in plan_install(tmp_path, config_text=edited) if c.pending]


def test_dry_run_touches_nothing_and_lists_every_change(tmp_path, capsys):
    cfg = tmp_path / "in.toml"
    cfg.write_text(CONFIG)
    root = tmp_path / "root"
    root.mkdir()
    code, out, err = run_cli("install", "--root", str(root), "--config", str(cfg), "--dry-run", capsys=capsys)
    assert code == 0 and err == ""
    assert list(root.iterdir()) == []
    assert out.count("\nwould ") + out.startswith("would ") == 10
    assert "would write /etc/estation/estation.toml mode 0640 root:estation" in out
    assert "skip: create service user estation" in out and out.rstrip().endswith("10 change(s) to make")

    run_cli("install", "--root", str(root), "--config", str(cfg), capsys=capsys)
    before = snapshot(root)
    code, out, _ = run_cli("install", "--root", str(root), "--dry-run", capsys=capsys)  # keeps the config
    assert code == 0 and "nothing to change: already installed" in out and "would " not in out
    assert snapshot(root) == before


@pytest.mark.parametrize("config, message", [
    ('[station]\nid = "ws-0042"\ncity = "atlantis"\n', "station.city"),
    ('[station]\nid = "ws-0042"\ncity = "hubei"\ndata_dir = "/home/x"\n', "station.data_dir must be /var/lib/estation"),
])
def test_bad_config_is_refused_before_anything_is_written(tmp_path, capsys, config, message):
    cfg = tmp_path / "in.toml"
    cfg.write_text(config)
    root = tmp_path / "root"
    root.mkdir()
    code, out, err = run_cli("install", "--root", str(root), "--config", str(cfg), capsys=capsys)
    assert code == 2 and out == "" and err.startswith("error: ") and message in err and err.count("\n") == 1
    assert list(root.iterdir()) == []


def test_no_config_on_first_install_is_a_usage_error(tmp_path, capsys):
    code, _, err = run_cli("install", "--root", str(tmp_path), capsys=capsys)
    assert code == 2 and "--config" in err


def test_user_already_in_the_image_is_done(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nestation:x:998:998::/var/lib/estation:/usr/sbin/nologin\n")
    user = next(c for c in plan_install(tmp_path, config_text=CONFIG) if c.kind == "user")
    assert user.state == "done"


def test_installed_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze missing (Debian package systemd)")
    root = tmp_path / "root"
    root.mkdir()
    install_station(root, CONFIG)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "estation").write_text("#!/bin/sh\nexit 0\n")
    (stubs / "estation").chmod(0o755)
    staged = []
    for unit in sorted((root / "etc/systemd/system").glob("*.service")):
        # verify insists that ExecStart exists: point it at a stub, as tests/hardware/test_hw_systemd.py does
        out = tmp_path / unit.name
        out.write_text(unit.read_text().replace(str(inst.EXEC_BINARY.parent), str(stubs)))
        staged.append(str(out))
    assert len(staged) == 2
    done = subprocess.run([analyze, "verify", *staged], capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_wanted_by_parses_the_install_section():
    assert inst.wanted_by("[Unit]\nWantedBy=x.target\n[Install]\nWantedBy=a.target b.target\n") == [
        "a.target", "b.target"]
