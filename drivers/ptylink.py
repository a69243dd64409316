"""A pty pair reachable under a stable link name: how the simulators stand in for a USB device.

udev names a plugged-in adapter /dev/estation-<device> and removes the name when it is
pulled; the simulators do the same with a symlink to the pty's slave, so the host's
reconnect-by-name logic is exercised for real.
"""

from __future__ import annotations

import os
import tempfile
import tty


def link_directory(link_dir: str | None, prefix: str) -> tuple[str, str | None]:
    """(where the link name goes, the same again when the simulator made that directory itself
    and must remove it when it stops, else None): a caller's directory is the caller's to clean."""
    if link_dir:
        return link_dir, None
    made = tempfile.mkdtemp(prefix=prefix)
    return made, made


def open_pty_link(path: str) -> tuple[int, int]:
    """A raw pty pair with `path` (atomically) pointing at its slave; returns (master, slave).

    The slave is set raw at once, so nothing is echoed or line-edited before the host
    configures the port; the caller keeps it open so the host can close and reopen
    without the master seeing EIO.
    """
    master, slave = os.openpty()
    tty.setraw(slave)
    tmp = path + ".new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.ttyname(slave), tmp)
    os.replace(tmp, path)
    return master, slave


def close_pty_link(path: str, *fds: int) -> None:
    """Pull the cable: the link goes first (a stale one would point at a /dev/pts number the
    kernel soon hands to another pty), then the descriptors close."""
    if os.path.lexists(path):
        os.unlink(path)
    for fd in fds:
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
