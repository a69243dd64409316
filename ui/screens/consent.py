from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class ConsentScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.consent()
        self.ids.title.text = v["title"]
        self.ids.body.text = v["body"]
        self.ids.agree.text, self.ids.agree.action = v["agree"], I.Consent(True)
        self.ids.disagree.text, self.ids.disagree.action = v["disagree"], I.Consent(False)
