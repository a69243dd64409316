"""Widgets reused by every screen; their look is in widgets.kv."""

from __future__ import annotations

import io
from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
KEY_HEIGHT_DP = 70


class BigButton(Button):
    """A touch target of at least 84 dp high; `style` primary (filled) or secondary."""

    style = StringProperty("primary")
    min_height = NumericProperty(dp(84))
    action = ObjectProperty(None, allownone=True)  # what on_release sends (an intent), for tests and monkey


class BodyLabel(Label):
    pass


class TitleLabel(Label):
    pass


class StatusLabel(Label):
    style = StringProperty("eligible")


class Header(BoxLayout):
    title = StringProperty("")
    show_nav = BooleanProperty(False)
    back_text = StringProperty("")
    start_over_text = StringProperty("")
    countdown = StringProperty("")
    on_back = ObjectProperty(None, allownone=True)
    on_start_over = ObjectProperty(None, allownone=True)
    on_title_tap = ObjectProperty(None, allownone=True)


class NumericPad(BoxLayout):
    """Digits only: the one keyboard on the resident's path (phone numbers)."""

    value = StringProperty("")
    max_length = NumericProperty(11)
    prompt = StringProperty("")
    confirm_text = StringProperty("")
    delete_text = StringProperty("")  # set with the other texts from the catalogue, in the visit's language
    on_confirm = ObjectProperty(None, allownone=True)

    def press(self, key: str) -> None:
        if key == "del":
            self.value = self.value[:-1]
        elif key.isdigit() and len(self.value) < self.max_length:
            self.value += key

    def confirm(self) -> None:
        if self.on_confirm:
            self.on_confirm(self.value)


class KeyGrid(GridLayout):
    pad = ObjectProperty(None)
    keys = ListProperty(["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0"])

    def on_kv_post(self, _base: object) -> None:
        for key in self.keys:
            btn = BigButton(text=key, style="secondary" if key == "del" else "primary")
            if key == "del":
                self.pad.bind(delete_text=btn.setter("text"))
                btn.text = self.pad.delete_text
            btn.min_height = dp(KEY_HEIGHT_DP)  # a 4-row pad must fit under the title at 800 px
            btn.bind(on_release=lambda _b, k=key: self.pad.press(k))
            self.add_widget(btn)


class QRCode(Image):
    """A QR code drawn from text (segno PNG -> texture); no texture cache, content changes."""

    data = StringProperty("")

    def on_data(self, _instance: object, text: str) -> None:
        from kivy.core.image import Image as CoreImage

        from kiosk.receipts import qr_png

        if not text:
            self.texture = None
            return
        image = CoreImage(io.BytesIO(qr_png(text, scale=8)), ext="png", nocache=True)
        self.texture = image.texture
        self.texture.mag_filter = "nearest"


class Tappable(ButtonBehavior, Label):
    pass
