"""The checks behind `estation doctor`, one function each, testable on their own.

Each check returns a `CheckResult` (OK / WARN / FAIL, a detail, and for a FAIL a
hint saying what to do).  Checks never raise: a technician on site needs the whole
table, not the first traceback.  Inputs that vary (paths, the current time, the
probe) are parameters so tests can drive every branch.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
IOBOARD_PORT = "/dev/estation-ioboard"  # the udev name; the config has no IO-board key
SKEW_WARN_S, SKEW_FAIL_S = 60, 300  # SYNC.md §4: central refuses requests over 300 s
OUTBOX_WARN_AGE_S, OUTBOX_FAIL_AGE_S = 3600, 24 * 3600


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
    return [check_idcard_reader(idcard.port, idcard.baudrate, probe=probe, timeout=probe_timeout)]


PrinterPoll = Callable[[str, float], object]  # (port, timeout) -> drivers.printer.status.PrinterStatus


def _lazy_printer_poll(port: str, timeout: float) -> object:
    from drivers.printer.transport import Link, open_serial

    link = Link(open_serial(port, 115200), status_timeout=timeout)
    try:
        return link.poll()  # DLE EOT 1-4
    finally:
        link.close()


def check_printer(port: str, *, poll: PrinterPoll = _lazy_printer_poll,
                  timeout: float = PROBE_TIMEOUT_S) -> list[CheckResult]:
    """`device printer` (the path), `printer` (answers DLE EOT 1-4, no fault) and `paper` (ok / low / out)."""
    if not port:
        return [ok("device printer", "none configured (QR-code receipts only)")]
    device = check_device_path("device printer", port)
    if port == SIMULATED_PORT or device.status is not Status.OK:
        return [device]
    try:
        status: Any = poll(port, timeout)
    except Exception as exc:  # LinkError, OSError, a broken driver
        return [device, fail("printer", f"{port}: no answer to DLE EOT: {exc}",
                             "is the printer switched on? check the cable; set the printer to 115200 baud")]
    flags = ", ".join(status.detail) or "no flags"
    if status.summary == "fault":
        printer = fail("printer", f"answers, but {flags}",
                       "close the cover, clear any jam, press the printer's feed/reset button; "
                       "`python -m drivers.printer status PORT` shows the raw flags")
    else:
        printer = ok("printer", f"answers DLE EOT 1-4: {status.summary}")
    if status.paper_out:
        paper = fail("paper", "out", "load a new roll (80 mm thermal) and close the cover")
    elif status.paper_low:
        paper = warn("paper", "low (near-end sensor)", "bring a roll; replace it at the next visit")
    else:
        paper = ok("paper", "ok")
    return [device, printer, paper]


IoBoardConnect = Callable[[str, float], tuple[str, object]]  # (port, timeout) -> (version, BoardStatus)


def _lazy_ioboard_connect(port: str, timeout: float) -> tuple[str, object]:
    import threading

    from drivers.ioboard.events import BoardConnected, BoardDisconnected
    from drivers.ioboard.transport import SerialIoBoard

    got: list[BoardConnected] = []
    why: list[str] = []
    seen = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, BoardConnected):
            got.append(event)
            seen.set()
        elif isinstance(event, BoardDisconnected):
            why.append(event.reason)
            if "in use by another process" in event.reason:
                seen.set()  # no use waiting: the kiosk holds it

    # Looking only: a board left in shutdown stays there (armed, it would cut the power of a Pi whose
    # kiosk is stopped for the technician), and the doctor says so.
    board = SerialIoBoard(port, on_event, reconnect_interval=timeout, rearm_on_connect=False).start()
    try:
        seen.wait(timeout)
    finally:
        board.stop()
    if not got:
        raise TimeoutError(f"no version handshake within {timeout:.1f} s" + (f" ({why[-1]})" if why else ""))
    return got[0].version, got[0].status


def check_ioboard(port: str | None, *, connect: IoBoardConnect = _lazy_ioboard_connect,
                  timeout: float = 3.0) -> list[CheckResult]:
    """`device ioboard` (identify / version handshake) and `tamper` (from the board's status).

    port None = the udev name, where a missing board is only a warning (dev machines have none)."""
    check, explicit = "device ioboard", port is not None
    port = port or IOBOARD_PORT
    if port == SIMULATED_PORT:
        return [ok(check, "sim (simulated)"), ok("tamper", "simulated")]
    if not explicit and not os.path.exists(port):
        return [warn(check, f"{port}: absent (no watchdog: a hung Pi is not power-cycled)",
                     "plug in the IO board (USB); `estation flash` if it is new"),
                warn("tamper", "unknown: no IO board")]
    result = check_device_path(check, port)
    if result.status is not Status.OK:
        return [result, warn("tamper", "unknown: no IO board")]
    try:
        version, status = connect(port, timeout)
    except Exception as exc:
        if "in use by another process" in str(exc):
            return [warn(check, f"{port}: in use by the running kiosk, not probed",
                         "its state is in the kiosk's heartbeat; to probe: systemctl stop estation-ui, "
                         "estation doctor, systemctl start estation-ui"),
                    warn("tamper", "unknown: the kiosk holds the IO board")]
        return [fail(check, f"{port}: opened, but no version handshake: {exc}",
                     "replug the board; if its LEDs stay dark or blink green briefly forever, "
                     "flash it again (`estation flash`)"),
                warn("tamper", "unknown: the IO board does not answer")]
    st: Any = status
    state = "" if st.state == "running" else f", state {st.state} ({st.shutdown_reason})"
    device = ok(check, f"{port}: firmware {version}, {st.temperature_c:.0f} °C{state}")
    if st.state != "running":
        device = fail(check, device.detail, "the board is in shutdown: watchdog disarmed; the kiosk clears it "
                                            "at start, else power-cycle the board")
    openings = len(st.latches)
    latched = f"; {openings} opening(s) latched, not yet acknowledged" if openings else ""
    if st.tamper == "open":
        tamper = fail("tamper", "door open" + latched,
                      "close the door; if it is closed, check the switch and its wire (a cut wire reads open)")
    elif openings:
        tamper = warn("tamper", "closed" + latched, "the kiosk acknowledges them once it reports them")
    else:
        tamper = ok("tamper", "closed")
    return [device, tamper]


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


# ---------------------------------------------------------------- central, outbox, feeds, enrollment

CentralTime = Callable[[str, float], float]  # (central URL, timeout) -> central's unix time


def _lazy_central_time(url: str, timeout: float) -> float:
    import httpx

    answer = httpx.get(url.rstrip("/") + "/v1/keys", timeout=timeout)
    answer.raise_for_status()
    return parsedate_to_datetime(answer.headers["date"]).timestamp()


def check_central_clock(url: str, now: float, *, central_time: CentralTime = _lazy_central_time,
                        timeout: float = 3.0) -> CheckResult:
    """Skew of this clock vs central's (the Date header of GET /v1/keys; 1 s resolution)."""
    check = "clock skew"
    if not url:
        return warn(check, "not checked: no central service configured (central.url)")
    try:
        skew = central_time(url, timeout) - now
    except Exception as exc:
        return fail(check, f"{url}: unreachable: {type(exc).__name__}: {exc}"[:160],
                    "check the network, DNS and central.url; `curl URL/healthz` from the kiosk")
    shown = f"{round(skew):+d} s vs {url} (central ahead if +)"
    hint = "enable NTP (timedatectl set-ntp true) or set the time; estation-sync adopts central's offset"
    if abs(skew) > SKEW_FAIL_S:
        return fail(check, shown + f": over {SKEW_FAIL_S} s, central refuses requests (clock_skew)", hint)
    if abs(skew) > SKEW_WARN_S:
        return warn(check, shown, hint)
    return ok(check, shown)


def check_outbox(sync_dir: Path, now: float) -> CheckResult:
    """Sealed records waiting for a receipt (spool/*.rec), the oldest one's age, quarantined ones."""
    check = "outbox"
    try:
        pending = [p for p in (sync_dir / "spool").glob("*.rec") if not p.name.startswith(".")]
        ages = [now - p.stat().st_mtime for p in pending]
        quarantined = len(list((sync_dir / "quarantine").glob("*.rec")))
    except OSError as exc:
        return fail(check, f"{sync_dir}: {exc.strerror}", "check the data directory's owner and mode")
    oldest = max(ages, default=0.0)
    detail = f"{len(pending)} record(s) waiting" + (f", oldest {_age(oldest)}" if pending else "")
    if quarantined:
        detail += f", {quarantined} quarantined"
    hint = "is estation-sync running (systemctl status estation-sync)? is central reachable? `estation sync --once`"
    if oldest > OUTBOX_FAIL_AGE_S:
        return fail(check, detail, hint)
    if oldest > OUTBOX_WARN_AGE_S or quarantined:
        return warn(check, detail, hint if oldest > OUTBOX_WARN_AGE_S else
                    "central refused them: see DATA_DIR/sync/quarantine/*.reason and tell the operator")
    return ok(check, detail)


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds // 60} min {seconds % 60} s"


def check_feeds(sync_dir: Path, now: float, names: tuple[str, ...] = ("jobs", "policy")) -> CheckResult:
    """Adopted feed snapshots (feeds/<name>.snapshot) and their expiry; refusals in feeds/status.json."""
    check = "feeds"
    parts, stale, refused = [], [], []
    try:
        status = json.loads((sync_dir / "feeds" / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = {}
    for name in names:
        try:
            signed = json.loads((sync_dir / "feeds" / f"{name}.snapshot").read_bytes())["signed"]
            version, expires = int(signed["version"]), str(signed["expires_at"])
        except (OSError, ValueError, KeyError, TypeError):
            parts.append(f"{name} not synced yet")
            continue
        expired = datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp() <= now
        parts.append(f"{name} v{version}" + (" EXPIRED" if expired else f" until {expires[:16]}"))
        if expired:
            stale.append(name)
        if isinstance(status, dict) and isinstance(status.get(name), dict):
            refused.append(f"{name}: {status[name].get('error')}")
    detail = ", ".join(parts) + (f"; last refusal {', '.join(refused)}" if refused else "")
    if stale or refused or "not synced yet" in detail:
        return warn(check, detail, "run `estation sync --once`; check `clock skew` and the network; "
                                   "stale feeds are shown marked 'may be outdated'")
    return ok(check, detail)


def check_enrollment(sync_dir: Path, required: bool) -> CheckResult:
    """enrollment.json present with pinned keys, and the device key file private (0600)."""
    check = "enrollment"
    hint = "run `estation provision --central URL --token T --central-pub HEX` (docs/technician.md)"
    try:
        data = json.loads((sync_dir / "enrollment.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        detail = f"{sync_dir}: not enrolled"
        return fail(check, detail, hint) if required else warn(check, detail + " (no central.url configured)", hint)
    except (OSError, ValueError) as exc:
        return fail(check, f"{sync_dir / 'enrollment.json'}: unreadable: {exc}", "provision again")
    missing = [k for k in ("device_id", "central_url", "receipt_key", "feed_key") if not data.get(k)]
    if missing:
        return fail(check, f"enrollment.json lacks {', '.join(missing)} (keys not pinned)", "provision again")
    key = sync_dir / "device.key"
    try:
        mode = stat.S_IMODE(key.stat().st_mode)
    except FileNotFoundError:
        return fail(check, f"{key}: missing (enrolled, but the device key is gone)",
                    "the kiosk cannot sign: ask the operator to revoke it, then provision again with a new token")
    if mode & 0o077:
        return fail(check, f"{key}: mode {mode:04o}, must be 0600", f"chmod 600 {key}")
    label = f" ({data['label']})" if data.get("label") else ""
    return ok(check, f"{data['device_id']}{label} at {data['central_url']}, receipt and feed keys pinned")


# ---------------------------------------------------------------- all


def run_checks(config_path: Path, *, now: datetime, synced: bool | None,
               probe: Probe = _lazy_probe, probe_timeout: float = PROBE_TIMEOUT_S,
               fonts_path: Path = NOTO_CJK_PATH, printer_poll: PrinterPoll = _lazy_printer_poll,
               ioboard_port: str | None = None, ioboard_connect: IoBoardConnect = _lazy_ioboard_connect,
               central_time: CentralTime = _lazy_central_time, central_timeout: float = 3.0) -> list[CheckResult]:
    config_result, config = check_config(config_path)
    results = [config_result]
    if config is None:
        skipped = "not checked: the config is invalid"
        results += [warn("devices", skipped), warn("disk", skipped)]
    else:
        results += check_devices(config, probe=probe, probe_timeout=probe_timeout)
        results += check_printer(config.devices.printer.port, poll=printer_poll, timeout=probe_timeout)
    results += check_ioboard(ioboard_port, connect=ioboard_connect, timeout=max(3 * probe_timeout, 2.0))
    if config is not None:
        results.append(check_disk(config.station.data_dir))
    results.append(check_fonts(fonts_path))
    results.append(check_clock(now, synced))
    if config is not None:
        sync_dir = config.station.data_dir / "sync"
        enrollment = check_enrollment(sync_dir, required=bool(config.central.url))
        url = config.central.url or _enrolled_url(sync_dir)
        results.append(check_central_clock(url, now.timestamp(), central_time=central_time, timeout=central_timeout))
        results += [check_outbox(sync_dir, now.timestamp()), check_feeds(sync_dir, now.timestamp()), enrollment]
    return results


def _enrolled_url(sync_dir: Path) -> str:
    try:
        return str(json.loads((sync_dir / "enrollment.json").read_text(encoding="utf-8")).get("central_url", ""))
    except (OSError, ValueError, AttributeError):
        return ""
