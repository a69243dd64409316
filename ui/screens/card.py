from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class CardScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.card()
        self.ids.greeting.text = v["greeting"]
        self.ids.go.text = v["continue"]
        self.ids.go.action = I.Continue()
