"""Base of every screen: its .kv is loaded once; `refresh` redraws from the presenter."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

from ui.widgets import BigButton

_loaded: set[str] = set()


def load_kv(module_file: str) -> None:
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in _loaded:
        Builder.load_file(path)
        _loaded.add(path)


class KioskScreen(Screen):
    def send(self, intent: object) -> None:
        App.get_running_app().send(intent)

    def refresh(self, presenter) -> None:  # noqa: ANN001 - ui.presenter.Presenter
        raise NotImplementedError

    def button(self, text: str, intent: object, style: str = "primary") -> BigButton:
        btn = BigButton(text=text, style=style)
        btn.action = intent
        btn.bind(on_release=lambda b: self.send(b.action))
        return btn

    def fill(self, container, widgets) -> None:  # noqa: ANN001
        container.clear_widgets()
        for widget in widgets:
            container.add_widget(widget)
