"""`estation run`: the kiosk itself (estation-ui.service), with the devices of its config.

Refuses to start unprovisioned (no device key, no pinned central keys): records
could not be sealed.  Device ports may be "sim" (the built-in simulators) for a
bench kiosk without hardware.  Under systemd it sends READY=1 after the first frame
and WATCHDOG=1 from the Kivy clock, so a stuck UI loop gets the service restarted.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kiosk.errors import UsageError

log = logging.getLogger("estation.run")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run the kiosk (devices and language from the config)")
    p.add_argument("--config", help="config file (default $ESTATION_CONFIG or /etc/estation/estation.toml)")
    p.add_argument("--technician-pin-file", default="/etc/estation/technician.pin",
                   help="file holding the technician PIN (no file: the technician screen stays locked)")
    p.set_defaults(handler=run)


def _simulated_ports(config, data_dir: Path) -> tuple[list, str, str | None]:  # noqa: ANN001
    """Start simulators for the ports configured as "sim"; returns (simulators, reader, printer)."""
    sims: list = []
    reader_port = config.devices.idcard.port
    printer_port = config.devices.printer.port or None
    if config.devices.idcard.simulated:
        from drivers.idcard.sim import SimulatedReader, load_cards
        from kiosk.cli.demo import SAMPLE_CARDS

        sims.append(SimulatedReader(load_cards(SAMPLE_CARDS), link_dir=str(data_dir)).start())
        reader_port = sims[-1].port
    if config.devices.printer.simulated:
        from drivers.printer.sim import SimulatedPrinter

        (data_dir / "receipts").mkdir(parents=True, exist_ok=True)
        sims.append(SimulatedPrinter(out_dir=str(data_dir / "receipts"), link_dir=str(data_dir)).start())
        printer_port = sims[-1].port
    return sims, reader_port, printer_port


def run(args: argparse.Namespace) -> int:
    from kiosk.cli.peripherals import StationDevices
    from kiosk.cli.station import build_session
    from kiosk.config import load_config
    from kiosk.logs import setup_logging
    from sync.enrollment import load_enrollment
    from sync.feeds import policy_pack_dir
    from sync.identity import load_identity
    from sync.outbox import Outbox

    config = load_config(args.config)
    setup_logging(config.logging.level, config.logging.file)
    data_dir = config.station.data_dir
    sync_dir = data_dir / "sync"
    if not (sync_dir / "enrollment.json").exists():
        raise UsageError(f"this kiosk is not provisioned ({sync_dir}/enrollment.json missing): "
                         "run `estation provision --central URL --token T` first")
    identity = load_identity(sync_dir / "device.key")
    outbox = Outbox(sync_dir, identity, load_enrollment(sync_dir))
    session = build_session(city=config.station.city, station_id=config.station.id, sink=outbox, signer=identity,
                            jobs_index=data_dir / "jobs.sqlite", lang=config.station.language,
                            policy_dir=policy_pack_dir(sync_dir))
    sims, reader_port, printer_port = _simulated_ports(config, data_dir)
    # The udev name even when it is not there yet: the transport reopens it by name, so a board that
    # enumerates late (or is replugged) still gets its heartbeats; until then it counts as absent.
    devices = StationDevices(session=session, sync_dir=sync_dir, reader_port=reader_port, printer_port=printer_port,
                             board_port="/dev/estation-ioboard", lang=config.station.language,
                             baudrate=config.devices.idcard.baudrate,
                             poll_interval=config.devices.idcard.poll_interval_ms / 1000)
    pin_file = Path(args.technician_pin_file)
    pin = pin_file.read_text().strip() if pin_file.is_file() else ""
    try:
        devices.start()
        return _run_ui(config, session, devices, data_dir, pin)
    finally:
        devices.stop()
        for sim in sims:
            sim.stop()
        outbox.close()


def loop_liveness(clock, stale_after: float = 10.0, every: float = 1.0):  # noqa: ANN001, ANN201 - Kivy's Clock
    """A check, callable from any thread, that the Kivy loop still runs: a callback on the loop
    marks the time, the check sees whether that mark is recent.  Not frames: an idle attract
    screen draws nothing for minutes, and the IO board would cut the power of a healthy kiosk."""
    mark = [clock.time()]
    event = clock.schedule_interval(lambda _dt: mark.__setitem__(0, clock.time()), every)

    def healthy() -> bool:
        return clock.time() - mark[0] < stale_after

    healthy.stop = event.cancel  # type: ignore[attr-defined]
    return healthy


def _run_ui(config, session, devices, data_dir: Path, pin: str) -> int:  # noqa: ANN001
    import ui.kivy_env

    ui.kivy_env.prepare(fullscreen=config.ui.fullscreen, rotation=config.ui.rotation)
    from ui import fonts

    fonts.register()
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.cli import sdnotify
    from ui import theme
    from ui.app import StationApp
    from ui.voice import Voice

    voice = Voice(data_dir / "voice", config.station.language) if config.ui.voice else None
    app = StationApp(session, lang=config.station.language, voice=voice, technician_pin=pin,
                     technician_status=lambda: {**devices.status(), "设备": config.station.id},
                     printer_status=devices.printer_status if devices.printer else None)  # None: QR only
    if config.ui.elder_mode:
        app.default_text_scale = app.text_scale = theme.LARGE_SCALE
    devices.on_intent = app.post
    devices.on_device_change = lambda: Clock.schedule_once(lambda _dt: app.refresh(), 0)

    def on_first_flip(*_: object) -> None:
        Window.unbind(on_flip=on_first_flip)
        sdnotify.notify_ready(f"{config.station.id} showing the attract screen")

    Window.bind(on_flip=on_first_flip)
    interval = sdnotify.watchdog_interval()
    if interval:
        # Pinged from the Kivy clock: if the loop blocks, the pings stop and systemd restarts us.
        Clock.schedule_interval(lambda _dt: sdnotify.notify_watchdog(), interval)
    devices.healthy = loop_liveness(Clock)  # feeds the IO board's watchdog, same idea
    log.info("kiosk starting", extra={"station": config.station.id, "pack": config.station.city})
    app.run()
    sdnotify.notify_stopping()
    return 0


