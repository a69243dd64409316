from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class ServiceScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.service()
        self.ids.title.text = v["title"]
        pad = self.ids.pad
        pad.prompt, pad.confirm_text, pad.delete_text = v["prompt"], v["confirm"], p.t("button.delete")
        pad.on_confirm = lambda value: self.send(I.Submit(value))

    def on_pre_enter(self, *_: object) -> None:
        self.ids.pad.value = ""
