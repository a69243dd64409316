"""`estation run` as systemd starts it: a real process under Xvfb that says READY=1 after its
first frame and keeps pinging WATCHDOG=1 from the Kivy loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_run_notifies_systemd_ready_and_watchdog(tmp_path):
    data = tmp_path / "kiosk"
    visit = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--visit", "--data-dir", str(data)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)  # provisions the kiosk, builds the index
    assert visit.returncode == 0, visit.stdout + visit.stderr
    config = tmp_path / "estation.toml"
    config.write_text(f'[station]\nid = "ws-0042"\ncity = "xuchang"\ndata_dir = "{data}"\n'
                      '[devices.idcard]\nport = "sim"\n[devices.printer]\nport = "sim"\n'
                      '[ui]\nfullscreen = false\nvoice = false\n', encoding="utf-8")
    # sun_path is short: not under tmp_path
    with tempfile.TemporaryDirectory(prefix="sdn-", dir="/tmp") as sock_dir, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        address = os.path.join(sock_dir, "notify")
        server.bind(address)
        server.settimeout(1.0)
        env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "SDL_VIDEODRIVER": "x11",
               "KIVY_HOME": str(tmp_path / "kivy"), "ESTATION_CACHE": os.environ["ESTATION_CACHE"]}
        env.pop("WATCHDOG_PID", None)
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        got: list[str] = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not ("READY=1" in got and got.count("WATCHDOG=1") >= 2):
                try:
                    got.extend(server.recv(4096).decode().split("\n"))
                except socket.timeout:
                    assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        finally:
            proc.terminate()
            proc.wait(15)
    assert "READY=1" in got, got
    assert got.count("WATCHDOG=1") >= 2, got


def test_the_io_board_watchdog_check_follows_the_loop_not_the_frames(station):
    """An idle attract screen draws no frame for minutes; the check must stay healthy while the
    loop runs, and fail soon after it stops (then the IO board cuts the power, as it should)."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.cli.run import loop_liveness

    st = station()
    st.pump(5)
    flips = []

    def count(*_: object) -> None:
        flips.append(1)

    Window.bind(on_flip=count)
    healthy = loop_liveness(Clock, stale_after=0.5, every=0.1)
    try:
        until = time.monotonic() + 1.5  # three times the limit, with nothing to draw
        while time.monotonic() < until:
            st.pump(1)
            assert healthy()
        assert len(flips) <= 2, "the premise: the attract screen stands still"
        time.sleep(0.8)  # the loop stops turning
        assert not healthy()
        st.pump(2)
        assert healthy()
    finally:
        healthy.stop()
        Window.unbind(on_flip=count)
