"""Files that hold secrets are the owner's alone, and root never writes or chowns through a link
a less trusted user could have planted."""

from __future__ import annotations

import os
import stat

import pytest

from kiosk.cli import install as inst
from kiosk.cli.provision import _give_to_service_user
from sync import durable
from sync.central.service import Central
from sync.central.settings import Settings


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_central_sqlite_database_is_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        central = Central(Settings(db_url=f"sqlite:///{tmp_path}/new/central.db"))
        central.repo.migrate()
        modes = {p.name: _mode(p) for p in (tmp_path / "new").iterdir()}  # while open: -wal and -shm too
        central.close()
    finally:
        os.umask(old)
    assert {"central.db", "central.db-wal", "central.db-shm"} <= set(modes)
    assert _mode(tmp_path / "new") == 0o700
    assert set(modes.values()) == {0o600}, modes


def test_an_older_central_database_is_tightened(tmp_path):
    db = tmp_path / "central.db"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    Central(Settings(db_url=f"sqlite:///{db}")).close()
    assert _mode(db) == 0o600


def test_durable_write_never_follows_a_planted_link(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("root's")
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(durable.secrets, "token_hex", lambda n: "guessed")
    os.symlink(victim, spool / f"{durable.TMP_PREFIX}enrollment.json.{os.getpid()}.guessed")
    with pytest.raises(FileExistsError):
        durable.write_durably(spool, "enrollment.json", b'{"clobbered":1}')
    assert victim.read_text() == "root's" and not (spool / "enrollment.json").exists()


def test_durable_temp_names_differ_each_write(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(durable.os, "replace", lambda a, b: (seen.append(str(a)), real_replace(a, b)))
    for _ in range(3):
        durable.write_durably(tmp_path, "x.json", b"{}")
    assert len(set(seen)) == 3


def test_provisioning_hands_over_the_tree_but_not_what_a_link_points_at(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("secret")
    os.chmod(victim, 0o600)
    sync_dir = tmp_path / "sync"
    sync_dir.mkdir()
    (sync_dir / "device.key").write_text("k")
    os.symlink(victim, sync_dir / "planted")
    _give_to_service_user(sync_dir, user="nobody", group="nogroup")
    nobody = __import__("pwd").getpwnam("nobody").pw_uid
    assert os.stat(sync_dir / "device.key").st_uid == nobody and os.stat(sync_dir).st_uid == nobody
    assert os.stat(victim).st_uid == os.geteuid()  # the target stays root's


def test_install_refuses_a_directory_that_became_a_link(tmp_path):
    target = tmp_path / "etc-elsewhere"
    target.mkdir()
    os.chmod(target, 0o755)
    change = inst.Change("dir", inst.PurePosixPath("/var/lib/estation/sync"), "create", mode=0o700,
                         owner="root", group="root", root=tmp_path)
    real = change.real()
    real.parent.mkdir(parents=True)
    os.symlink(target, real)
    with pytest.raises(inst.InstallError, match="symbolic link"):
        inst._apply_one(change)
    assert _mode(target) == 0o755


def test_a_failed_durable_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(durable.os, "write", full_disk)
    for _ in range(3):  # a full disk, retried
        with pytest.raises(OSError):
            durable.write_durably(tmp_path, "feeds-status.json", b"{}")
    assert list(tmp_path.iterdir()) == []
