"""Base of every screen: its .kv is loaded once; `refresh` redraws from the presenter."""

from __future__ import annotations

from collections.abc import Callable
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

    def fill(self, container, key: object, build: Callable[[], list]) -> None:  # noqa: ANN001
        """Put `build()`'s widgets into `container` unless what they show (`key`) is there already.

        `refresh` runs on every session change, each countdown second too: a button rebuilt under
        a finger drops the tap that spans the rebuild, and 200 job buttons take ~0.8 s on llvmpipe."""
        built: dict[int, object] = self.__dict__.setdefault("_built", {})
        if id(container) in built and built[id(container)] == key:
            return
        built[id(container)] = key
        container.clear_widgets()
        for widget in build():
            container.add_widget(widget)
