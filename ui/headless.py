"""A virtual X display (Xvfb) for the UI tests and benches: no screen, real rendering (Mesa)."""

from __future__ import annotations

import os
import shutil
import subprocess


def start_xvfb(size: str = "1280x800x24") -> tuple[subprocess.Popen, str]:
    """Start Xvfb on a free display number (it picks and announces one); returns (process, ":N")."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("Xvfb is missing: apt-get install xvfb (or run `make test`)")
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    display = b""
    while not display.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            raise RuntimeError("Xvfb exited before announcing its display")
        display += chunk
    os.close(read)
    return proc, ":" + display.decode().strip()
