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
            self.set(io_board="ok")
        elif isinstance(event, BoardDisconnected):
            self.set(io_board="fault", tamper="unknown")
        elif isinstance(event, TamperLatched):
            log.warning("enclosure opened (tamper latch %s)", event.latch_id)
            self.set(tamper="open")
        elif isinstance(event, TamperChanged):
            self.set(tamper=event.state)

    def printer_state(self, state: str) -> None:
        self.set(printer=state)
