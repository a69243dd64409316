from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)



class FeedbackScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.feedback()
        self.ids.title.text = v["title"]
        # Stars drawn as numbers 1-5 with a growing count of ★ (emoji faces are not in the CJK font).
        self.fill(self.ids.faces, tuple(v["faces"]),
                  lambda: [self.button("★" * int(n) + f"\n{n}", I.Submit(n), "secondary") for n in v["faces"]])
