"""`estation provision` from nothing to an enrolled kiosk, in a sandbox root, against a real central."""

from __future__ import annotations

import json
import stat

import pytest

from kiosk.cli import main
from kiosk.cli.localcentral import start_local_central

CONFIG = """[station]
id = "ws-0007"
city = "xuchang"
data_dir = "/var/lib/estation"

[devices.idcard]
port = "/dev/estation-idcard"
"""


@pytest.fixture
def central(tmp_path):
    running = start_local_central(tmp_path / "central.sqlite")
    yield running
    running.stop()


def provision(root, central, token, config, *extra, capsys):
    code = main(["provision", "--central", central.url, "--token", token, "--config", str(config),
                 "--root", str(root), *extra])
    return code, capsys.readouterr()


def test_fresh_root_to_enrolled_kiosk_and_again(tmp_path, central, capsys):
    root, config = tmp_path / "root", tmp_path / "estation.toml"
    root.mkdir()
    config.write_text(CONFIG, encoding="utf-8")
    token, _ = central.central.create_enroll_token(label="test site")
    code, out = provision(root, central, token, config, capsys=capsys)
    assert code == 0, out.err
    assert "enrolled d_" in out.out and "doctor: not run" in out.out
    sync = root / "var/lib/estation/sync"
    key = sync / "device.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    enrollment = json.loads((sync / "enrollment.json").read_text())
    assert enrollment["central_url"] == central.url and enrollment["label"] == "test site"
    assert (root / "etc/estation/estation.toml").read_text() == CONFIG
    assert (root / "etc/systemd/system/estation-ui.service").exists()
    assert (root / "etc/udev/rules.d/99-estation.rules").exists()
    assert [d.device_id for d in central.central.repo.devices()] == [enrollment["device_id"]]

    code, again = provision(root, central, token, config, capsys=capsys)  # a lost answer, retried
    assert code == 0, again.err
    assert "nothing to change" in again.out and enrollment["device_id"] in again.out
    assert len(central.central.repo.devices()) == 1


def test_dry_run_touches_nothing(tmp_path, central, capsys):
    root, config = tmp_path / "root", tmp_path / "estation.toml"
    root.mkdir()
    config.write_text(CONFIG, encoding="utf-8")
    token, _ = central.central.create_enroll_token()
    code, out = provision(root, central, token, config, "--dry-run", capsys=capsys)
    assert code == 0, out.err
    assert "would: create the device key" in out.out
    assert list(root.iterdir()) == [] and central.central.repo.devices() == []


def test_a_spent_token_is_one_error_line(tmp_path, central, capsys):
    root, config = tmp_path / "root", tmp_path / "estation.toml"
    root.mkdir()
    config.write_text(CONFIG, encoding="utf-8")
    code, out = provision(root, central, "et_" + "A" * 32, config, capsys=capsys)
    assert code == 1 and out.err.startswith("error: central refused") and len(out.err.splitlines()) == 1
