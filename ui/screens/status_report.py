from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class StatusReportScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.status_report()
        self.ids.title.text = v["title"]
        self.fill(self.ids.choices, tuple(v["choices"]),
                  lambda: [self.button(label, I.Submit(cid)) for cid, label in v["choices"]])
