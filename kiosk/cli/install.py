"""`estation install`: the system half of provisioning, as a pure plan and an apply.

`plan_install(root, config_text=...)` looks at a root directory (the live system is
"/"; tests and image builders pass a sandbox standing for it) and returns one
`Change` per idempotent action, each already marked `pending`, `done` (in place,
nothing to do) or `skipped` (cannot be done in this root, e.g. `useradd` outside
"/").  `apply(changes)` does the pending ones, in order, and returns report lines.
A second run finds everything `done` and says so; `--dry-run` prints the plan and
touches nothing.

What it installs (paths relative to the root):
  - the service user (`useradd --system`, live system only);
  - /etc/estation/estation.toml (root:USER 0640, validated before it is written);
  - hardware/systemd/*.service -> /etc/systemd/system/ (0644), enabled by the same
    symlinks `systemctl enable` makes (WantedBy= .wants/ links);
  - hardware/udev/*.rules -> /etc/udev/rules.d/ (0644);
  - the data directories (/var/lib/estation 0750, sync/ and kivy/ 0700, owned by USER).
On the live system it then runs `systemctl daemon-reload` and `udevadm control --reload`.

`estation provision` calls `install_station(root, config_text, dry_run)`.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kiosk.config import DEFAULT_CONFIG_PATH, parse_config
from kiosk.errors import ConfigError, EstationError, UsageError

REPO = Path(__file__).resolve().parents[2]
UNITS_SOURCE = REPO / "hardware" / "systemd"
RULES_SOURCE = REPO / "hardware" / "udev"
DEFAULT_USER = "estation"
DATA_DIR = PurePosixPath("/var/lib/estation")  # the units' WorkingDirectory and ReadWritePaths
UNIT_DIR = PurePosixPath("/etc/systemd/system")
RULES_DIR = PurePosixPath("/etc/udev/rules.d")
CONFIG_FILE = PurePosixPath(str(DEFAULT_CONFIG_PATH))
EXEC_BINARY = PurePosixPath("/opt/estation/venv/bin/estation")
USER_GROUPS = ("dialout",)  # device access (udev rules: GROUP="dialout"); the UI unit adds video etc.


class InstallError(EstationError, RuntimeError):
    message_id = "error.install"


@dataclass(frozen=True)
class Change:
    """One idempotent action.  `path` is the path on the target system (as if root were "/")."""

    kind: str  # user | dir | file | link | command
    path: PurePosixPath | None
    what: str  # human description of the action
    state: str = "pending"  # pending | done | skipped
    reason: str = ""  # why done/skipped, or what differs
    mode: int | None = None
    owner: str = "root"
    group: str = "root"
    content: bytes | None = None
    target: str = ""  # symlink target
    argv: tuple[str, ...] = ()  # command to run (user, command)
    root: Path = field(default=Path("/"), compare=False)

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    def real(self) -> Path:
        """Where this lands on the host running the install."""
        assert self.path is not None
        return self.root / self.path.relative_to("/")

    def describe(self) -> str:
        bits = [self.what]
        if self.mode is not None:
            bits.append(f"mode {self.mode:04o} {self.owner}:{self.group}")
        if self.reason:
            bits.append(f"({self.reason})")
        return " ".join(bits)


# ---------------------------------------------------------------- looking at the root


def _live(root: Path) -> bool:
    return root.resolve() == Path("/")


def _user_exists(root: Path, user: str) -> bool:
    if _live(root):
        try:
            pwd.getpwnam(user)
            return True
        except KeyError:
            return False
    try:
        lines = (root / "etc" / "passwd").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.split(":", 1)[0] == user for line in lines)


def _owner_ok(st: os.stat_result, owner: str, group: str, live: bool) -> bool:
    if not live:
        return True  # ownership is planned, applied on the live system only
    try:
        return st.st_uid == pwd.getpwnam(owner).pw_uid and st.st_gid == _gid(group)
    except KeyError:
        return False


def _gid(group: str) -> int:
    import grp

    return grp.getgrnam(group).gr_gid


def _dir_change(root: Path, path: PurePosixPath, mode: int, owner: str, group: str) -> Change:
    change = Change("dir", path, f"create directory {path}", mode=mode, owner=owner, group=group, root=root)
    real = change.real()
    try:
        st = real.lstat()
    except FileNotFoundError:
        return change
    if not stat.S_ISDIR(st.st_mode):
        raise InstallError(f"{real}: exists and is not a directory", hint="move it away and run again")
    if stat.S_IMODE(st.st_mode) != mode or not _owner_ok(st, owner, group, _live(root)):
        return _replace(change, what=f"fix mode/owner of {path}",
                        reason=f"now {stat.S_IMODE(st.st_mode):04o}")
    return _replace(change, state="done", reason="in place")


def _file_change(root: Path, path: PurePosixPath, content: bytes, mode: int, owner: str = "root",
                 group: str = "root", source: str = "") -> Change:
    label = f"write {path}" + (f" from {source}" if source else "")
    change = Change("file", path, label, mode=mode, owner=owner, group=group, content=content, root=root)
    real = change.real()
    try:
        st = real.lstat()
        current = real.read_bytes() if stat.S_ISREG(st.st_mode) else None
    except FileNotFoundError:
        return _replace(change, reason=f"new, {len(content)} bytes")
    if current != content:
        return _replace(change, what=f"replace {path}" + (f" from {source}" if source else ""),
                        reason="content differs; the old file is kept as .bak")
    if stat.S_IMODE(st.st_mode) != mode or not _owner_ok(st, owner, group, _live(root)):
        return _replace(change, what=f"fix mode/owner of {path}", reason=f"now {stat.S_IMODE(st.st_mode):04o}")
    return _replace(change, state="done", reason="identical")


def _link_change(root: Path, path: PurePosixPath, target: str, what: str) -> Change:
    change = Change("link", path, what, target=target, root=root)
    real = change.real()
    if real.is_symlink() and os.readlink(real) == target:
        return _replace(change, state="done", reason="enabled")
    if real.exists() or real.is_symlink():
        return _replace(change, reason=f"replaces {real.name} -> {os.readlink(real) if real.is_symlink() else 'a file'}")
    return change


def _replace(change: Change, **kw: Any) -> Change:
    from dataclasses import replace

    return replace(change, **kw)


def wanted_by(unit_text: str) -> list[str]:
    """The targets of `WantedBy=` in a unit's [Install] section."""
    targets, section = [], ""
    for line in unit_text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Install]" and line.startswith("WantedBy="):
            targets += line.split("=", 1)[1].split()
    return targets


# ---------------------------------------------------------------- the plan


def plan_install(root: Path, *, config_text: str | None, user: str = DEFAULT_USER,
                 units_source: Path = UNITS_SOURCE, rules_source: Path = RULES_SOURCE) -> list[Change]:
    """Every change `estation install` would make to `root`, each marked pending/done/skipped."""
    root = Path(root)
    live = _live(root)
    changes: list[Change] = []

    config_path = root / CONFIG_FILE.relative_to("/")
    if config_text is None and not config_path.exists():
        raise UsageError(f"no config at {CONFIG_FILE} yet: pass --config FILE "
                         "(start from hardware/config/estation.example.toml)")
    if config_text is not None:
        try:
            config = parse_config(config_text, base_dir=Path(str(CONFIG_FILE.parent)))
        except ConfigError as exc:
            raise UsageError(exc.reason, hint=exc.hint) from None
        data_dir = PurePosixPath(str(config.station.data_dir))
        if data_dir != DATA_DIR and DATA_DIR not in data_dir.parents:
            raise UsageError(f"config: station.data_dir must be {DATA_DIR} or below it "
                             f"(the units may write only there), got {data_dir}")

    useradd = ("useradd", "--system", "--user-group", "--home-dir", str(DATA_DIR), "--no-create-home",
               "--shell", "/usr/sbin/nologin", "--groups", ",".join(USER_GROUPS), user)
    user_change = Change("user", None, f"create service user {user}", argv=useradd, root=root)
    if _user_exists(root, user):
        user_change = _replace(user_change, state="done", reason="exists")
    elif not live:
        user_change = _replace(user_change, state="skipped", reason="root is not /: useradd runs on the live system")
    changes.append(user_change)

    changes.append(_dir_change(root, CONFIG_FILE.parent, 0o755, "root", "root"))
    if config_text is not None:
        changes.append(_file_change(root, CONFIG_FILE, config_text.encode("utf-8"), 0o640, "root", user))
    for path, mode in ((DATA_DIR, 0o750), (DATA_DIR / "sync", 0o700), (DATA_DIR / "kivy", 0o700)):
        changes.append(_dir_change(root, path, mode, user, user))

    units = sorted(units_source.glob("*.service"))
    if not units:
        raise InstallError(f"no units in {units_source}", hint="run from a complete e-Station tree")
    for unit in units:
        text = unit.read_text(encoding="utf-8").replace("User=estation", f"User={user}") \
            .replace("Group=estation", f"Group={user}")
        changes.append(_file_change(root, UNIT_DIR / unit.name, text.encode("utf-8"), 0o644,
                                    source=f"hardware/systemd/{unit.name}"))
        for target in wanted_by(text):
            changes.append(_link_change(root, UNIT_DIR / f"{target}.wants" / unit.name, str(UNIT_DIR / unit.name),
                                        f"enable {unit.name}: link {UNIT_DIR}/{target}.wants/{unit.name}"))
    for rules in sorted(rules_source.glob("*.rules")):
        changes.append(_file_change(root, RULES_DIR / rules.name, rules.read_bytes(), 0o644,
                                    source=f"hardware/udev/{rules.name}"))

    something = any(c.pending for c in changes)
    for argv, what in ((("systemctl", "daemon-reload"), "reload systemd units"),
                       (("udevadm", "control", "--reload"), "reload udev rules"),
                       # reload alone "does not apply any changes to already existing devices" (udevadm(8)):
                       # the reader, printer and board plugged in before the rules came get their names now
                       (("udevadm", "trigger", "--subsystem-match=tty", "--action=add"), "name the plugged-in devices")):
        command = Change("command", None, what, argv=argv, root=root)
        if not something:
            command = _replace(command, state="done", reason="nothing changed")
        elif not live:
            command = _replace(command, state="skipped", reason="root is not /")
        changes.append(command)
    return changes


# ---------------------------------------------------------------- applying


def _chown(path: Path, owner: str, group: str, live: bool) -> None:
    if live:
        os.chown(path, pwd.getpwnam(owner).pw_uid, _gid(group), follow_symlinks=False)


def _apply_one(change: Change) -> None:
    live = _live(change.root)
    if change.kind in ("user", "command"):
        done = subprocess.run(change.argv, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise InstallError(f"{' '.join(change.argv)} failed: {done.stderr.strip() or done.returncode}")
        return
    real = change.real()
    if real.is_symlink() and change.kind in ("dir", "file"):
        # chmod and the tmp file below would act on the link's target: a service user who owns the
        # parent could point it at any file and have root hand it over.
        raise InstallError(f"{real} is a symbolic link; expected a real {change.kind}, refusing to follow it")
    if change.kind == "dir":
        real.mkdir(parents=True, exist_ok=True)
        real.chmod(change.mode or 0o755)
        _chown(real, change.owner, change.group, live)
    elif change.kind == "file":
        assert change.content is not None
        real.parent.mkdir(parents=True, exist_ok=True)
        if real.is_file() and real.read_bytes() != change.content:
            shutil.copy2(real, real.with_name(real.name + ".bak"))
        tmp = real.with_name(f".{real.name}.estation-tmp")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()  # a crashed run's, or a planted link: the link goes, never its target
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, change.content)
            os.fchmod(fd, change.mode or 0o644)
            os.fsync(fd)
        finally:
            os.close(fd)
        _chown(tmp, change.owner, change.group, live)
        os.replace(tmp, real)
    elif change.kind == "link":
        real.parent.mkdir(parents=True, exist_ok=True)
        if real.is_symlink() or real.exists():
            real.unlink()
        os.symlink(change.target, real)
    else:
        raise InstallError(f"unknown change kind {change.kind}")


def apply(changes: Sequence[Change]) -> list[str]:
    """Do the pending changes in order; report lines.  Stops at the first failure (InstallError)."""
    lines = []
    for change in changes:
        if not change.pending:
            continue
        try:
            _apply_one(change)
        except OSError as exc:
            raise InstallError(f"{change.what}: {exc.strerror or exc}",
                               hint="run as root (sudo estation install)") from None
        lines.append(f"done: {change.describe()}")
    return lines


def report(changes: Sequence[Change], *, dry_run: bool) -> list[str]:
    """The plan as lines: every change with what will happen (or happened) to it."""
    prefix = {"pending": "would " if dry_run else "", "done": "ok: ", "skipped": "skip: "}
    lines = [prefix[c.state] + c.describe() for c in changes]
    pending = sum(c.pending for c in changes)
    lines.append(f"{pending} change(s) to make" if pending else "nothing to change: already installed")
    return lines


def install_station(root: Path, config_text: str | None, dry_run: bool = False, *,
                    user: str = DEFAULT_USER) -> list[str]:
    """Plan, then (unless dry_run) apply; report lines.  For `estation provision`."""
    root = Path(root)
    changes = plan_install(root, config_text=config_text, user=user)
    if dry_run:
        return report(changes, dry_run=True)
    if _live(root) and any(c.pending for c in changes) and os.geteuid() != 0:
        raise UsageError("installing to / needs root: sudo estation install ...")
    done = apply(changes)
    made = iter(done)
    lines = [next(made) if c.pending else ("ok: " if c.state == "done" else "skip: ") + c.describe()
             for c in changes]
    lines.append(f"{len(done)} change(s) made" if done else "nothing to change: already installed")
    if not (root / EXEC_BINARY.relative_to("/")).exists():
        lines.append(f"note: {EXEC_BINARY} is missing: the units start it (install the e-Station venv there)")
    return lines


# ---------------------------------------------------------------- CLI


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "install", help="install the service user, config, systemd units, udev rules and data dirs",
        description="Install e-Station into a system root (default /): service user, "
                    f"{CONFIG_FILE}, systemd units (enabled), udev rules, {DATA_DIR}. "
                    "Idempotent: a second run changes nothing.")
    p.add_argument("--root", type=Path, default=Path("/"), metavar="DIR",
                   help="system root to install into (default /; another directory stands for an image)")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help=f"config to install as {CONFIG_FILE} (default: keep the one there)")
    p.add_argument("--user", default=DEFAULT_USER, help=f"service user (default {DEFAULT_USER})")
    p.add_argument("--dry-run", action="store_true", help="print every change without making it")
    p.set_defaults(handler=cmd_install)


def cmd_install(args: argparse.Namespace) -> int:
    config_text = None
    if args.config is not None:
        try:
            config_text = args.config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--config {args.config}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not args.root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    for line in install_station(args.root, config_text, args.dry_run, user=args.user):
        print(line)
    return 0
