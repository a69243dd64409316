"""sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (the protocol is the API).

The UI (estation-ui.service, Type=notify, WatchdogSec=30) calls:
  * `notify_ready()` once, after the first frame (Clock.schedule_once in App.on_start);
  * `notify_watchdog()` from a Kivy Clock.schedule_interval at `watchdog_interval()`
    (half of WATCHDOG_USEC, as sd_watchdog_enabled(3) recommends), and only while the
    kiosk is healthy, so a wedged UI loop gets the service restarted;
  * `notify_stopping()` on exit, `notify_status(text)` for `systemctl status`.
Outside systemd (no NOTIFY_SOCKET) every call is a no-op returning False.
"""

from __future__ import annotations

import os
import socket


def sd_notify(state: str, *, environ: dict[str, str] | None = None) -> bool:
    """Send `state` (e.g. "READY=1" or "WATCHDOG=1\\nSTATUS=ok"); False when not under systemd.

    OSError from the socket is raised: a configured but broken socket is worth noticing.
    """
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address[0] == "@":  # Linux abstract namespace
        address = "\0" + address[1:]
    elif address[0] != "/":
        return False  # vsock and other forms are not used on a kiosk
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(state.encode("utf-8"))
    return True


def notify_ready(status: str = "") -> bool:
    return sd_notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def notify_watchdog() -> bool:
    return sd_notify("WATCHDOG=1")


def notify_stopping() -> bool:
    return sd_notify("STOPPING=1")


def notify_status(text: str) -> bool:
    return sd_notify(f"STATUS={text}")


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None if the watchdog is off
    or meant for another process (WATCHDOG_PID)."""
    env = os.environ if environ is None else environ
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000
