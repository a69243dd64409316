"""`estation provision`: one command from a fresh Raspberry Pi OS to an enrolled kiosk.

    estation provision --central URL --token T [--central-pub HEX] [--config FILE]
                       [--root DIR] [--dry-run] [--no-install] [--data-dir DIR]

1. install (unless --no-install): service user, /etc/estation/estation.toml, systemd
   units (enabled), udev rules, data dirs (kiosk/cli/install.py; idempotent);
2. the device key (made if absent, mode 0600) and enrollment with the one-time token,
   pinning central's receipt and feed keys (SYNC.md §3; a rerun with the same token
   gets the same answer and uses nothing up);
3. `estation doctor` on the live system, whose verdict is the exit status.

`--dry-run` prints every change and touches nothing; `--root DIR` provisions into a
system image or a sandbox standing for "/".
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def default_data_dir() -> Path:
    return Path(os.environ.get("ESTATION_DATA_DIR") or "var")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("provision", help="install and enroll this kiosk with the central service",
                              description="Install the station, create the device key and enroll it with a "
                                          "one-time token, then run doctor.")
    p.add_argument("--central", required=True, metavar="URL", help="https://central.example (http only on loopback)")
    p.add_argument("--token", required=True, metavar="T", help="enrollment token from `estation-central token create`")
    p.add_argument("--central-pub", metavar="HEX", help="expected receipt key (`estation-central keys`), pinned")
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="config to install (default: keep the installed one)")
    p.add_argument("--root", type=Path, default=None, metavar="DIR",
                   help="install into this system root (default /); implies the data dir under it")
    p.add_argument("--no-install", action="store_true", help="only enroll (the system part is done already)")
    p.add_argument("--dry-run", action="store_true", help="print every change, make none")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="enroll a kiosk data dir here only (implies --no-install; default $ESTATION_DATA_DIR or ./var)")
    p.add_argument("--hardware-id", default=None, help="default: the host name")
    p.set_defaults(handler=cmd_provision)


def _sync_dir(args: argparse.Namespace) -> Path:
    if args.no_install:
        return (args.data_dir or default_data_dir()) / "sync"
    from kiosk.cli.install import DATA_DIR

    root = args.root or Path("/")
    return root / DATA_DIR.relative_to("/") / "sync"


def _give_to_service_user(sync_dir: Path, user: str | None = None, group: str | None = None) -> None:
    """Provisioning runs as root; the sync service runs as the service user and must read its key.
    Never through a link: the service user owns this tree and could point one at /etc/shadow."""
    import grp
    import pwd

    from kiosk.cli.install import DEFAULT_USER

    uid, gid = pwd.getpwnam(user or DEFAULT_USER).pw_uid, grp.getgrnam(group or DEFAULT_USER).gr_gid
    for path in (sync_dir, *sync_dir.rglob("*")):
        os.chown(path, uid, gid, follow_symlinks=False)


def cmd_provision(args: argparse.Namespace) -> int:
    from kiosk.errors import UsageError
    from sync.provision import provision

    # A data dir of its own is a development or bench kiosk: never install into the system for it.
    args.no_install = args.no_install or args.data_dir is not None

    if not args.no_install:
        from kiosk.cli.install import install_station

        config_text = None
        if args.config is not None:
            try:
                config_text = args.config.read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"--config: cannot read {args.config}: {exc.strerror or exc}") from None
        for line in install_station(args.root or Path("/"), config_text, args.dry_run):
            print(line)
    sync_dir = _sync_dir(args)
    if args.dry_run:
        print(f"would: create the device key {sync_dir / 'device.key'} (0600) if absent and enroll it "
              f"with {args.central}")
        return 0
    enrollment = provision(sync_dir=sync_dir, central_url=args.central, token=args.token,
                           central_pub_hex=args.central_pub, hardware_id=args.hardware_id)
    print(f"enrolled {enrollment.device_id} at {enrollment.central_url}"
          + (f" ({enrollment.label})" if enrollment.label else ""))
    live = args.root is None or args.root.resolve() == Path("/")
    if not args.no_install and live and os.geteuid() == 0:
        _give_to_service_user(sync_dir)
    if args.no_install or not live:
        print("doctor: not run (not the live system); run `estation doctor` on the kiosk")
        return 0
    from kiosk.cli.doctor import run as doctor

    return doctor(argparse.Namespace(config=None, probe_timeout=1.0, ioboard=None, central_timeout=3.0))
