from __future__ import annotations

from kiosk import intents as I
from ui.screens.base import KioskScreen, load_kv

load_kv(__file__)


class ApplyScreen(KioskScreen):
    def refresh(self, p) -> None:  # noqa: ANN001
        v = p.apply()
        self.ids.title.text = f"{v['title']}：{v['program']}"
        pad = self.ids.pad
        pad.prompt, pad.confirm_text, pad.delete_text = v["phone_prompt"], v["confirm"], p.t("button.delete")
        pad.on_confirm = lambda value: self.send(I.Confirm(value or None))

    def on_pre_enter(self, *_: object) -> None:
        self.ids.pad.value = ""  # never show the previous resident's number
