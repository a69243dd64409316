"""UI tests: a real X server (Xvfb, Mesa llvmpipe), the real font, one fresh app per test.

Kivy's Window is a process-wide singleton, so all UI tests share one window in
this pytest process; each test builds a new StationApp into it and tears it down.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "kiosk" / "session"))  # session_harness

# Kivy reads its settings at first import and opens its window as soon as a module asks
# for metrics; test modules do that when collected.  So the X server and the environment
# are set up here, when this conftest loads, before any test module is imported.
os.environ["SDL_AUDIODRIVER"] = "dummy"
if "ESTATION_CACHE" not in os.environ:
    os.environ["ESTATION_CACHE"] = tempfile.mkdtemp(prefix="estation-cache-")
    atexit.register(shutil.rmtree, os.environ["ESTATION_CACHE"], ignore_errors=True)
import ui.kivy_env  # noqa: E402
from ui.headless import start_xvfb  # noqa: E402

ui.kivy_env.prepare(size=(1280, 800))

ROOT = Path(__file__).parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"


_XVFB, os.environ["DISPLAY"] = start_xvfb()
atexit.register(lambda: (_XVFB.terminate(), _XVFB.wait(5)))
os.environ["SDL_VIDEODRIVER"] = "x11"


@pytest.fixture(scope="session")
def kivy_window():
    from ui import fonts

    font_path = fonts.register()
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    from kivy.core.window import Window

    assert tuple(Window.size) == (1280, 800), Window.size
    return Window, font_path


class Station:
    """A running StationApp around a test session, plus helpers to drive and inspect it."""

    def __init__(self, window, pack: str, *, touch_on_session_clock: bool = False, **session_kw) -> None:
        from session_harness import make_session

        from ui.app import StationApp
        from ui.voice import Voice

        self.window = window
        self.session, self.clock, self.sink = make_session(pack, **session_kw)
        self.voice = Voice(Path(os.environ["ESTATION_CACHE"]) / "voice")
        timing = {"monotonic": self.clock.monotonic} if touch_on_session_clock else {}
        self.app = StationApp(self.session, voice=self.voice, technician_pin="2468",
                              technician_status=lambda: {"读卡器": "正常", "待上传": 0}, **timing)
        self.app._run_prepare()
        self.pump()

    def pump(self, frames: int = 3) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    @property
    def screen(self):
        return self.app.root.ids.sm.current_screen

    def send(self, intent) -> None:
        self.app.send(intent)
        self.pump()

    def visible_widgets(self):
        """Widgets of the header, the footer and the current screen (not the hidden screens)."""
        root = self.app.root
        out = []
        for top in root.children:
            start = [self.screen] if top is root.ids.sm else [top]
            for widget in start:
                out.extend(widget.walk(restrict=True))
        return out

    def buttons(self):
        from ui.widgets import BigButton

        return [w for w in self.visible_widgets() if isinstance(w, BigButton) and w.opacity > 0 and not w.disabled]

    def tap(self, widget) -> None:
        """A resident's tap: not faster than TAP_GUARD_S after a screen appeared (that one is
        ignored on purpose; `tap_now` makes it)."""
        while not self.app.accepts_touch():
            time.sleep(0.02)
            self.pump(1)
        self.tap_now(widget)

    def tap_now(self, widget) -> None:
        self.tap_now_at(*widget.to_window(*widget.center))

    def tap_now_at(self, x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.pump()

    def tap_text(self, text: str) -> None:
        matches = [b for b in self.buttons() if b.text == text]
        assert matches, f"no button {text!r} among {[b.text for b in self.buttons()]}"
        self.tap(matches[0])

    def screenshot(self, name: str) -> Path:
        self.pump(4)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        made = Path(self.window.screenshot(name=str(SCREENSHOTS / f"{name}.png")))
        final = SCREENSHOTS / f"{name}.png"
        made.replace(final)  # Kivy appends a counter; keep a stable name for the README
        return final

    def close(self) -> None:
        from kivy.app import App

        self.app.dispatch("on_stop")  # also releases the kv `app` proxy cached on the first app
        self.window.remove_widget(self.app.root)
        App._running_app = None
        self.pump()


@pytest.fixture
def station(kivy_window):
    window, _ = kivy_window
    made = []

    def make(pack: str = "xuchang", **kw) -> Station:
        s = Station(window, pack, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
