from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class AttractScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.attract()
        self.ids.place_card.text = v["place_card"]
        self.ids.offers.text = v["offers"]
        self.ids.jobs.text = v["jobs"]
        self.ids.jobs.action = I.SearchJobs()
        self.ids.feedback.text = v["feedback"]
        self.ids.feedback.action = I.GiveFeedback()
