"""The station's devices besides the reader: receipt printer and IO board, and what the
heartbeat says about them (SYNC.md §6 `peripherals`, written to sync_dir/peripherals.json).

Composition-root code: it knows the drivers and the session, the core knows neither.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from kiosk.i18n import catalogue
from kiosk.receipts import receipt_lines

log = logging.getLogger("estation.station")


class ReceiptPrinting:
    """Session listener: print each new receipt once (the token in the QR, no personal data)."""

    def __init__(self, printer, lang: str = "zh_CN") -> None:  # noqa: ANN001 - kiosk.ports.Printer
        self.printer = printer
        self.cat = catalogue(lang)
        self._printed: str | None = None

    def __call__(self, session) -> None:  # noqa: ANN001 - kiosk.session.Session
        receipt = session.receipt
        if receipt is None or receipt.record_id == self._printed:
            return
        self._printed = receipt.record_id
        lines = receipt_lines(receipt, self.cat.text(f"kind.{receipt.kind}"), self.cat.text("app.title"),
                              self.cat.text("receipt.record_id"))
        self.printer.print_receipt(lines + [self.cat.text("receipt.scan")], receipt.token or receipt.record_id)


class PeripheralReport:
    """Keeps the device states and writes them where the heartbeat reads them (atomically)."""

    def __init__(self, sync_dir: Path) -> None:
        self.path = sync_dir / "peripherals.json"
        self.state = {"id_reader": "absent", "printer": "absent", "io_board": "absent", "tamper": "unknown"}
        self._board_seen = False  # a board never seen is absent (kiosks without one); one that went away, a fault
        self._lock = threading.Lock()

    def set(self, **states: str) -> None:
        with self._lock:
            if all(self.state.get(k) == v for k, v in states.items()):
                return
            self.state.update(states)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state), encoding="utf-8")
            os.replace(tmp, self.path)

    def io_board_event(self, event: object) -> None:
        from drivers.ioboard.events import BoardConnected, BoardDisconnected, TamperChanged, TamperLatched

        if isinstance(event, BoardConnected):
            self._board_seen = True
            self.set(io_board="ok")
        elif isinstance(event, BoardDisconnected):
            self.set(io_board="fault" if self._board_seen else "absent", tamper="unknown")
        elif isinstance(event, TamperLatched):
            log.warning("enclosure opened (tamper latch %s)", event.latch_id)
            self.set(tamper="open")
        elif isinstance(event, TamperChanged):
            self.set(tamper=event.state)

    def printer_state(self, state: str) -> None:
        self.set(printer=state)


class StationDevices:
    """The reader, the printer and the IO board of one station, wired to one session.

    Ports are paths (real devices or simulators' pty links).  Reader events become
    session intents through `on_intent` (the UI's thread-safe `post`); each new receipt
    is printed once; the IO board gets heartbeats while `healthy()` says the UI turns;
    device states go to sync_dir/peripherals.json for the heartbeat.
    """

    def __init__(self, *, session, sync_dir: Path, reader_port: str, printer_port: str | None,  # noqa: ANN001
                 board_port: str | None, lang: str = "zh_CN", baudrate: int = 115200,
                 poll_interval: float = 0.4) -> None:
        self.session = session
        self.reader_port, self.printer_port, self.board_port = reader_port, printer_port, board_port
        self.baudrate, self.poll_interval, self.lang = baudrate, poll_interval, lang
        self.report = PeripheralReport(sync_dir)
        self.on_intent = lambda intent: None
        self.on_device_change = lambda: None  # the UI redraws (e.g. the receipt screen says: paper out)
        self.healthy = lambda: True
        self._last_printer = "absent"
        self.reader_state = "starting"
        self.reader = self.printer = self.board = None
        self._stop = threading.Event()

    def start(self) -> StationDevices:
        from drivers.idcard.transport import CardReader

        self.reader = CardReader(self.reader_port, self._reader_event, baudrate=self.baudrate,
                                 poll_interval=self.poll_interval).start()
        if self.printer_port:
            from drivers.printer.transport import ReceiptPrinter

            self.printer = ReceiptPrinter(self.printer_port).start()
            self.session.listeners.append(ReceiptPrinting(self.printer, self.lang))
        if self.board_port:
            from drivers.ioboard.transport import SerialIoBoard

            self.board = SerialIoBoard(self.board_port, self.report.io_board_event).start()
        self._thread = threading.Thread(target=self._loop, name="station-devices", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for part in (self.reader, self.printer, self.board):
            if part is not None:
                part.stop()

    def printer_status(self) -> str:
        return self.printer.status() if self.printer else "absent"

    def _reader_event(self, event: object) -> None:
        from drivers.idcard.events import ReaderConnected, ReaderDisconnected, ReaderFault
        from kiosk.cli.station import intent_for_reader_event

        if isinstance(event, ReaderConnected):
            self.reader_state = "ok"
        elif isinstance(event, (ReaderDisconnected, ReaderFault)):
            self.reader_state = "fault"
            log.warning("ID-card reader: %s", event.reason)
        intent = intent_for_reader_event(event)
        if intent is not None:
            self.on_intent(intent)

    def _loop(self) -> None:
        """Once a second: feed the IO board's watchdog while the UI is healthy; report states."""
        while not self._stop.wait(1.0):
            if self.board is not None:
                if self.healthy():
                    self.board.heartbeat()
                self.board.set_status_led("ok" if self.reader_state == "ok" else "degraded")
            printer = self.printer_status()
            self.report.set(id_reader=self.reader_state if self.reader_state != "starting" else "absent",
                            printer=printer)
            if printer != self._last_printer:
                self._last_printer = printer
                self.on_device_change()

    def status(self) -> dict:
        return {"读卡器": self.reader_state, "打印机": self.printer_status(),
                "IO板": self.report.state["io_board"], "机箱": self.report.state["tamper"]}
