from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv
from ui.widgets import BodyLabel

load_kv(__file__)


class PostingScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.posting()
        self.ids.title.text = v["title"]
        self.fill(self.ids.lines, tuple(v["lines"]), lambda: [BodyLabel(text=line) for line in v["lines"]])
        self.ids.qr.data = v["qr"]
        self.ids.scan.text = v["scan"]
        key = (v["register"], v["id"]) if v["can_register"] else ()
        self.fill(self.ids.actions, key, lambda: [self.button(v["register"], I.RegisterInterest(v["id"]))] if key else [])
