"""kiosk/cli/sdnotify.py against a fake NOTIFY_SOCKET (path and abstract namespace)."""

from __future__ import annotations

import os
import socket
import tempfile

import pytest

from kiosk.cli import sdnotify


@pytest.fixture
def notify_socket():
    directory = tempfile.mkdtemp(prefix="sdn-")  # short: sun_path is limited to 107 bytes
    path = os.path.join(directory, "n.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(1.0)
        yield path, sock
    os.unlink(path)
    os.rmdir(directory)


def test_ready_and_watchdog_reach_the_socket(notify_socket, monkeypatch):
    path, sock = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert sdnotify.notify_ready("UI up")
    assert sock.recv(256) == b"READY=1\nSTATUS=UI up"
    assert sdnotify.notify_watchdog()
    assert sock.recv(256) == b"WATCHDOG=1"
    assert sdnotify.notify_stopping()
    assert sock.recv(256) == b"STOPPING=1"


def test_abstract_namespace():
    name = f"estation-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(1.0)
        assert sdnotify.sd_notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"WATCHDOG=1"


def test_no_socket_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify_watchdog() is False
    assert sdnotify.sd_notify("READY=1", environ={"NOTIFY_SOCKET": ""}) is False


def test_broken_socket_raises(tmp_path):
    with pytest.raises(OSError):
        sdnotify.sd_notify("READY=1", environ={"NOTIFY_SOCKET": "/nonexistent/n.sock"})


def test_watchdog_interval_is_half_of_watchdog_usec():
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_interval({}) is None
