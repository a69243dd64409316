"""The checks behind `estation doctor`, one function each, testable on their own.

Each check returns a `CheckResult` (OK / WARN / FAIL, a detail, and for a FAIL a
hint saying what to do).  Checks never raise: a technician on site needs the whole
table, not the first traceback.  Inputs that vary (paths, the current time, the
probe) are parameters so tests can drive every branch.
"""

from __future__ import annotations

import enum
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kiosk.config import SIMULATED_PORT, Config, load_config
from kiosk.errors import ConfigError

# Debian's fonts-noto-cjk; the UI extracts the Simplified Chinese face from it.
NOTO_CJK_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
MIN_FREE_BYTES = 500 * 1024 * 1024
# A clock before this release's build date is certainly wrong (no RTC battery, no NTP yet).
# Bump it when cutting a release.
BUILD_DATE = date(2026, 11, 1)
# Per protocol step; the lead's probe_reader also tries the other speeds, so a silent
# port costs about 5 x this.
PROBE_TIMEOUT_S = 1.0
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


class Status(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    detail: str
    hint: str = ""


def ok(check: str, detail: str) -> CheckResult:
    return CheckResult(check, Status.OK, detail)


def warn(check: str, detail: str, hint: str = "") -> CheckResult:
    return CheckResult(check, Status.WARN, detail, hint)


def fail(check: str, detail: str, hint: str) -> CheckResult:
    return CheckResult(check, Status.FAIL, detail, hint)


# ---------------------------------------------------------------- config


def check_config(path: Path) -> tuple[CheckResult, Config | None]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return fail("config", exc.reason, exc.hint or "see hardware/config/estation.example.toml"), None
    s = config.station
    return ok("config", f"{path}: station {s.id}, city {s.city}"), config


# ---------------------------------------------------------------- devices

Probe = Callable[[str, int, float], str]  # (port, baudrate, timeout) -> SAM id


def check_device_path(check: str, port: str) -> CheckResult:
    """A configured port: "sim", or a path that exists, is a tty-like device and opens read/write."""
    if port == SIMULATED_PORT:
        return ok(check, "sim (simulated)")
    try:
        st = os.stat(port)
    except FileNotFoundError:
        return fail(check, f"{port}: not found",
                    "plug the device in and check `ls -l /dev/estation-*` and the udev rules; "
                    "or set the port to \"sim\"")
    except OSError as exc:
        return fail(check, f"{port}: {exc.strerror}", "check the path and its permissions")
    if not stat.S_ISCHR(st.st_mode):  # pty slaves (/dev/pts/N) are character devices too
        return fail(check, f"{port}: not a character device", "point the port at the device node, e.g. /dev/ttyUSB0")
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except PermissionError:
        return fail(check, f"{port}: permission denied",
                    "add the kiosk user to the dialout group (usermod -aG dialout USER) or fix the udev rule's MODE")
    except OSError as exc:
        return fail(check, f"{port}: cannot open: {exc.strerror}", "is another program using it? `fuser -v " + port + "`")
    os.close(fd)
    return ok(check, f"{port}: opened read/write")


def _lazy_probe(port: str, baudrate: int, timeout: float) -> str:
    # Imported here: the doctor must still report everything else if the driver is broken.
    from drivers.idcard.transport import probe_reader

    return probe_reader(port, baudrate, timeout)


def check_idcard_reader(port: str, baudrate: int, *, probe: Probe = _lazy_probe,
                        timeout: float = PROBE_TIMEOUT_S) -> CheckResult:
    """The path layer, then ask the SAM module for its id (proves the reader answers)."""
    check = "device idcard"
    result = check_device_path(check, port)
    if result.status is not Status.OK or port == SIMULATED_PORT:
        return result
    try:
        sam_id = probe(port, baudrate, timeout)
    except Exception as exc:  # OSError, ProtocolError, ReaderError, a broken driver: all FAIL
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        return fail(check, f"{port}: opened, but the reader did not answer at {baudrate} baud: {reason}",
                    "check the cable and power; the baudrate must match the reader's "
                    "(devices.idcard.baudrate); unplug and replug the reader")
    return ok(check, f"{port}: reader answers, SAM {sam_id}")


def check_devices(config: Config, *, probe: Probe = _lazy_probe,
                  probe_timeout: float = PROBE_TIMEOUT_S) -> list[CheckResult]:
    idcard = config.devices.idcard
    results = [check_idcard_reader(idcard.port, idcard.baudrate, probe=probe, timeout=probe_timeout)]
    printer = config.devices.printer.port
    results.append(check_device_path("device printer", printer) if printer
                   else ok("device printer", "none configured (QR-code receipts only)"))
    return results


# ---------------------------------------------------------------- fonts, disk


def check_fonts(path: Path = NOTO_CJK_PATH) -> CheckResult:
    if path.is_file():
        return ok("fonts", f"{path}")
    return fail("fonts", f"{path}: missing (no Chinese glyphs on screen)", "apt-get install fonts-noto-cjk")


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(data_dir: Path, *, min_free_bytes: int = MIN_FREE_BYTES) -> CheckResult:
    """Enough free space on data_dir's filesystem, and data_dir writable (or creatable)."""
    check = "disk"
    base = _existing_ancestor(data_dir)
    try:
        free = shutil.disk_usage(base).free
    except OSError as exc:
        return fail(check, f"{data_dir}: cannot stat filesystem: {exc.strerror}", "check station.data_dir")
    free_mb = free // (1024 * 1024)
    if free < min_free_bytes:
        return fail(check, f"{data_dir}: {free_mb} MB free, need {min_free_bytes // (1024 * 1024)} MB",
                    "free space (old logs: journalctl --vacuum-size=100M) or move station.data_dir")
    if base != data_dir.absolute():
        if os.access(base, os.W_OK):
            return warn(check, f"{data_dir}: does not exist yet (will be created); {free_mb} MB free")
        return fail(check, f"{data_dir}: does not exist and {base} is not writable",
                    f"mkdir -p {data_dir} and chown it to the kiosk user")
    if not base.is_dir():
        return fail(check, f"{data_dir}: not a directory", "point station.data_dir at a directory")
    try:  # os.access lies for root and on read-only mounts; really write
        with tempfile.NamedTemporaryFile(dir=base, prefix=".doctor-"):
            pass
    except OSError as exc:
        return fail(check, f"{data_dir}: not writable: {exc.strerror}", f"chown the directory to the kiosk user: {data_dir}")
    return ok(check, f"{data_dir}: {free_mb} MB free, writable")


# ---------------------------------------------------------------- clock


def clock_synced(*, flag: Path = TIMESYNC_FLAG, timeout: float = 2.0) -> bool | None:
    """True/False from systemd (timedatectl, else timesyncd's flag file); None if unknown."""
    if shutil.which("timedatectl"):
        try:
            done = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip() in ("yes", "no"):
            return done.stdout.strip() == "yes"
    if flag.parent.is_dir():  # timesyncd runs; it creates the flag once synchronised
        return flag.exists()
    return None


def check_clock(now: datetime, synced: bool | None, *, build_date: date = BUILD_DATE) -> CheckResult:
    check = "clock"
    shown = now.isoformat(timespec="seconds")
    if now.year < 2025 or now.date() < build_date:
        return fail(check, f"{shown} is before this build ({build_date})",
                    "set the time (timedatectl set-time 'YYYY-MM-DD HH:MM:SS') and enable NTP "
                    "(timedatectl set-ntp true); replace the RTC battery if it keeps happening")
    if synced is False:
        return warn(check, f"{shown}, not synchronised (NTP)", "timedatectl set-ntp true; check the network")
    return ok(check, f"{shown}, " + ("synchronised" if synced else "sync status unknown"))


# ---------------------------------------------------------------- all


def run_checks(config_path: Path, *, now: datetime, synced: bool | None,
               probe: Probe = _lazy_probe, probe_timeout: float = PROBE_TIMEOUT_S,
               fonts_path: Path = NOTO_CJK_PATH) -> list[CheckResult]:
    config_result, config = check_config(config_path)
    results = [config_result]
    if config is None:
        skipped = "not checked: the config is invalid"
        results += [warn("devices", skipped), warn("disk", skipped)]
    else:
        results += check_devices(config, probe=probe, probe_timeout=probe_timeout)
        results.append(check_disk(config.station.data_dir))
    results.append(check_fonts(fonts_path))
    results.append(check_clock(now, synced))
    return results
