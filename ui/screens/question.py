from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class QuestionScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.question()
        self.ids.prompt.text = v["prompt"]
        self.fill(self.ids.choices, (v["fact"], tuple(v["choices"])),
                  lambda: [self.button(label, I.Answer(v["fact"], cid)) for cid, label in v["choices"]])
