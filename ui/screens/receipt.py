from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class ReceiptScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        from kivy.app import App

        status = App.get_running_app().printer_status
        v = p.receipt(status() if status else None)
        self.ids.title.text = f"{v['title']}：{v['kind']}"
        self.ids.qr.data = v["qr"]
        self.ids.scan.text = f"{v['scan']}　{v['printing']}".strip()
        self.ids.record.text = v["record"]
        self.ids.done.text, self.ids.done.action = v["done"], I.Continue()
        self.ids.feedback.text, self.ids.feedback.action = v["feedback"], I.GiveFeedback()
