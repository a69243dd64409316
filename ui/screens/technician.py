"""Technician screen behind a PIN: device states, outbox depth, feed versions, last sync.

Not part of the resident's session: the app shows it over the flow and leaves
it on Back.  The status comes from an injected provider (wired in kiosk/cli).
"""

from __future__ import annotations

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from ui.screens.base import KioskScreen, load_kv
from ui.widgets import BodyLabel, NumericPad

load_kv(__file__)


class TechnicianScreen(KioskScreen):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pad = NumericPad(max_length=8)

    def refresh(self, p) -> None:  # noqa: ANN001
        app = App.get_running_app()
        self.pad.prompt, self.pad.confirm_text = p.t("technician.pin"), p.t("button.confirm")
        self.pad.delete_text = p.t("button.delete")
        self.pad.on_confirm = app.technician_pin_entered
        if not app.technician_unlocked:
            self.fill(self.ids.body, "pad", lambda: [self.pad])  # only the pad: nothing hidden lies over the header
            return
        status = tuple(app.technician_status().items())

        def build() -> list:
            lines = BoxLayout(orientation="vertical", size_hint_y=None)
            lines.bind(minimum_height=lines.setter("height"))
            for key, value in status:
                lines.add_widget(BodyLabel(text=f"{key}: {value}"))
            scroll = ScrollView()
            scroll.add_widget(lines)
            return [scroll]

        self.fill(self.ids.body, status, build)

    def on_pre_enter(self, *_: object) -> None:
        self.pad.value = ""
