"""`estation flash [--port PORT] [--dry-run]`: copy the IO-board firmware with mpremote and verify it.

Steps, each a separate `mpremote connect PORT ...` run (MicroPython's raw REPL):
  1. `fs cp <files> :` the firmware (hardware/ioboard/*.py; framing.py is a symlink
     to drivers/ioboard/framing.py and its *content* is written), main.py last so
     a flash cut short never boots a main.py whose modules are missing;
  2. `fs sha256sum :<file>...`: the board's hashes must equal the local ones;
  3. `reset`: the board reboots into main.py;
  4. the version handshake: drivers.ioboard's `SerialIoBoard` connects (RESET,
     identify, dictionary) and the version it reads must be this tree's
     hardware/ioboard/ioboard_dict.VERSION.
`--dry-run` lists the files (size, sha256) and the commands, and touches nothing.

The firmware disables Ctrl-C, so mpremote cannot interrupt a board that already
runs it: see docs/technician.md ("Flashing") for the BOOTSEL recovery.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import EstationError, UsageError

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO / "hardware" / "ioboard"
DEFAULT_PORT = "/dev/estation-ioboard"
MPREMOTE = (sys.executable, "-m", "mpremote")
BOOT_LAST = "main.py"
VERIFY_TIMEOUT_S = 15.0


class FlashError(EstationError, RuntimeError):
    message_id = "error.flash"


@dataclass(frozen=True)
class FirmwareFile:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def firmware_files(directory: Path = FIRMWARE_DIR) -> list[FirmwareFile]:
    """The top-level *.py of the firmware directory, symlinks followed, main.py last."""
    paths = sorted(directory.glob("*.py"), key=lambda p: (p.name == BOOT_LAST, p.name))
    if not any(p.name == BOOT_LAST for p in paths):
        raise FlashError(f"{directory}: no {BOOT_LAST}", hint="run from a complete e-Station tree")
    try:
        return [FirmwareFile(p.name, p.read_bytes()) for p in paths]  # read_bytes follows the framing.py link
    except OSError as exc:
        raise FlashError(f"cannot read the firmware: {exc}", hint="is the framing.py symlink intact?") from None


def firmware_version(directory: Path = FIRMWARE_DIR) -> str:
    text = (directory / "ioboard_dict.py").read_text(encoding="utf-8")
    found = re.search(r'^VERSION\s*=\s*"([^"]+)"', text, re.M)
    if found is None:
        raise FlashError("ioboard_dict.py has no VERSION")
    return found.group(1)


def mpremote_commands(port: str, staged: Path, files: Sequence[FirmwareFile],
                      mpremote: Sequence[str] = MPREMOTE) -> list[list[str]]:
    """The three mpremote runs: copy, hash, reset."""
    base = [*mpremote, "connect", port]
    return [
        [*base, "fs", "cp", *(str(staged / f.name) for f in files), ":"],
        [*base, "fs", "sha256sum", *(":" + f.name for f in files)],
        [*base, "reset"],
    ]


def parse_sha256sum(output: str) -> dict[str, str]:
    """mpremote's verbose `fs sha256sum` output: `sha256sum :NAME` then the hex digest."""
    hashes, current = {}, None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("sha256sum :"):
            current = line.split(":", 1)[1]
        elif current is not None and re.fullmatch(r"[0-9a-f]{64}", line):
            hashes[current] = line
            current = None
    return hashes


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def run_mpremote(argv: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run mpremote; a board that never answers (no REPL) is a timeout, reported as a failure."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer within {timeout:.0f} s: could not enter raw repl")


def verify_version(port: str, expected: str, *, timeout: float = VERIFY_TIMEOUT_S,
                   opener: Any = None) -> str:
    """Connect with the real host driver (version handshake) and return the board's version."""
    from drivers.ioboard.events import BoardConnected
    from drivers.ioboard.transport import SerialIoBoard

    connected: list[BoardConnected] = []
    seen = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, BoardConnected):
            connected.append(event)
            seen.set()

    kwargs = {"opener": opener} if opener is not None else {}
    board = SerialIoBoard(port, on_event, reconnect_interval=0.2, **kwargs).start()
    try:
        if not seen.wait(timeout):
            raise FlashError(f"{port}: the board did not answer the version handshake within {timeout:.0f} s",
                             hint="unplug and replug the board; check `ls -l /dev/estation-ioboard`; flash again")
    finally:
        board.stop()
    version = connected[0].version
    if version != expected:
        raise FlashError(f"{port}: board reports firmware {version}, expected {expected}",
                         hint="flash again; if it persists, the copy did not take (read-only filesystem?)")
    return version


def flash(port: str, *, dry_run: bool = False, directory: Path = FIRMWARE_DIR, runner: Runner = run_mpremote,
          verify: Callable[[str, str], str] = verify_version, mpremote: Sequence[str] = MPREMOTE,
          settle_s: float = 1.0) -> list[str]:
    """Flash and verify (or, with dry_run, only describe); returns report lines."""
    files = firmware_files(directory)
    expected = firmware_version(directory)
    lines = [f"firmware {expected} from {directory} ({len(files)} files) -> {port}"]
    lines += [f"  {f.name:<16} {len(f.data):>6} bytes  sha256 {f.sha256}" for f in files]
    with tempfile.TemporaryDirectory(prefix="estation-flash-") as tmp:
        staged = Path(tmp)
        commands = mpremote_commands(port, staged, files, mpremote)
        if dry_run:
            lines.append("would run:")
            lines += ["  " + " ".join(c).replace(str(staged), "<staged>") for c in commands]
            lines.append(f"would verify: version handshake on {port} reports {expected}")
            return lines
        for f in files:
            (staged / f.name).write_bytes(f.data)
        copy, hashes, reset = commands
        _run(runner, copy, "copy")
        lines.append(f"copied {len(files)} files")
        got = parse_sha256sum(_run(runner, hashes, "hash").stdout)
        bad = [f.name for f in files if got.get(f.name) != f.sha256]
        if bad:
            raise FlashError(f"sha256 differs on the board for {', '.join(bad)}", hint="flash again")
        lines.append("sha256 on the board matches every file")
        _run(runner, reset, "reset")
    lines.append("board reset")
    time.sleep(settle_s)  # USB CDC re-enumerates after a hard reset
    lines.append(f"version handshake: board reports firmware {verify(port, expected)}: OK")
    return lines


def _run(runner: Runner, argv: list[str], step: str) -> subprocess.CompletedProcess[str]:
    done = runner(argv)
    if done.returncode != 0:
        output = (done.stderr or done.stdout or "").strip().splitlines()
        reason = output[-1] if output else f"exit status {done.returncode}"
        hint = "check the cable and the port (--port); close other programs using it"
        if "raw repl" in reason.lower():
            hint = ("the board does not give a REPL: it already runs the e-Station firmware (Ctrl-C off). "
                    "Recover with BOOTSEL (docs/technician.md, Flashing), then flash again")
        raise FlashError(f"mpremote {step} failed: {reason}", hint=hint)
    return done


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("flash", help="copy the IO-board firmware with mpremote and verify it",
                              description="Copy hardware/ioboard/*.py to the IO board (mpremote), check the "
                                          "files' sha256 on the board, reset it and verify the version handshake.")
    p.add_argument("--port", default=DEFAULT_PORT, help=f"the board's serial port (default {DEFAULT_PORT})")
    p.add_argument("--dry-run", action="store_true", help="list the files (size, sha256) and commands only")
    p.set_defaults(handler=cmd_flash)


def cmd_flash(args: argparse.Namespace) -> int:
    if not args.port:
        raise UsageError("--port: empty")
    if not args.dry_run:
        try:
            import mpremote  # noqa: F401
        except ImportError:
            raise UsageError("mpremote is not installed: .venv/bin/pip install mpremote") from None
    try:
        for line in flash(args.port, dry_run=args.dry_run):
            print(line, flush=True)
    except FlashError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    return 0
