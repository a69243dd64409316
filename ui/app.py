"""StationApp: the Kivy application around one Session.

Intents from taps go straight to `send`; intents from device threads go through
`post`, which hops onto the Kivy loop with `Clock.schedule_once` (Kivy is not
thread-safe).  After every change of session state the current screen is
redrawn from the presenter and, on a new screen, its main line is spoken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import intents as I
from kiosk.session import Session
from ui import theme
import ui.widgets  # noqa: F401  (defining the classes registers them with the kv Factory)
from ui.presenter import Presenter
from ui.voice import Voice

Builder.load_file(str(Path(__file__).with_name("app.kv")))

TECH_TAPS = 5  # taps on the title within TECH_WINDOW seconds open the technician PIN pad
TECH_WINDOW = 3.0
TECH_IDLE = 120.0  # session-clock seconds after opening / the last PIN entry before the overlay closes itself
# After a new screen appears, touches are ignored this long: the second touch of a double tap
# (or of an unsteady hand) would otherwise press whatever the new screen has in the same place,
# e.g. "同意" where "继续" was, giving consent to a text never seen.
TAP_GUARD_S = 0.4


class Root(BoxLayout):
    def on_touch_down(self, touch) -> bool:  # noqa: ANN001
        app = App.get_running_app()
        if not isinstance(app, StationApp):
            return super().on_touch_down(touch)
        if not app.accepts_touch():
            return True  # swallowed: it belongs to the screen that has just gone
        app.send(I.Touched())  # scrolling and reading count as being there, not only buttons
        return super().on_touch_down(touch)


class StationApp(App):
    text_scale = NumericProperty(1.0)
    default_text_scale = NumericProperty(1.0)  # the config's elder mode sets 1.4
    muted = BooleanProperty(False)
    technician_unlocked = BooleanProperty(False)
    use_kivy_settings = False

    def __init__(self, session: Session, *, lang: str = "zh_CN", voice: Voice | None = None,
                 technician_pin: str = "", technician_status: Callable[[], dict] | None = None,
                 side_panel: Callable[[], object] | None = None, printer_status: Callable[[], str] | None = None,
                 monotonic: Callable[[], float] = time.monotonic, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = "e-Station"
        self.session = session
        self.presenter = Presenter(session, lang)
        self.voice = voice
        self.technician_pin = technician_pin
        self._technician_status = technician_status or (lambda: {})
        self._side_panel = side_panel
        self.printer_status = printer_status  # None: no printer, QR-only receipts
        self.technician_open = False
        self._technician_since = 0.0
        self._title_taps: list[float] = []
        self._monotonic = monotonic  # touch timing (tap guard, technician gesture); tests replay it
        self._last_screen = ""
        self._screen_shown_at = float("-inf")  # when the current screen (or question) appeared
        self._shown: tuple = ()
        self._had_visit = False
        self.first_frame_at: float | None = None
        self._tick_event = None
        session.listeners.append(lambda _s: self.refresh())

    # --- Kivy hooks -----------------------------------------------------------------------------
    def open_settings(self, *_: object) -> bool:  # F1 must not open Kivy's settings on a kiosk
        return False

    def build(self) -> Root:
        Window.clearcolor = theme.BACKGROUND
        root = Root()
        self.station_root = root
        sm: ScreenManager = root.ids.sm
        sm.transition = NoTransition()
        from ui.screens import SCREENS

        for screen_class in SCREENS:
            sm.add_widget(screen_class())
        header = root.ids.header
        header.on_back = self.back
        header.on_start_over = self.start_over
        header.on_title_tap = self.title_tapped
        if not self._side_panel:
            return root
        row = BoxLayout()  # the demo's card deck to the right of the station
        row.add_widget(root)
        row.add_widget(self._side_panel())
        return row

    def on_start(self) -> None:
        self._tick_event = Clock.schedule_interval(lambda _dt: self.send(I.Tick()), 1.0)
        Window.bind(on_flip=self._first_flip)
        self.refresh()

    def _first_flip(self, *_: object) -> None:
        Window.unbind(on_flip=self._first_flip)
        self.first_frame_at = time.perf_counter()

    def on_stop(self) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()

    def accepts_touch(self) -> bool:
        return self._monotonic() - self._screen_shown_at >= TAP_GUARD_S

    # --- intents ------------------------------------------------------------------------------
    def send(self, intent: object) -> None:
        if isinstance(intent, I.Tick) and self.technician_open \
                and self.session.clock.monotonic() - self._technician_since >= TECH_IDLE:
            self.close_technician()  # never left open (or unlocked) for the next resident
        self.session.handle(intent)  # listeners redraw; a touch that only ends the countdown counts too

    def post(self, intent: object) -> None:
        """Thread-safe: deliver an intent from a device thread on the Kivy loop."""
        Clock.schedule_once(lambda _dt: self.send(intent), 0)

    def back(self) -> None:
        if self.technician_open:
            self.close_technician()
        else:
            self.send(I.Back())

    def start_over(self) -> None:
        self.technician_open = self.technician_unlocked = False
        self.send(I.Cancel())

    def close_technician(self) -> None:
        self.technician_open = self.technician_unlocked = False
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.root is None:
            return
        p = self.presenter
        root = self.station_root
        sm = root.ids.sm
        name = "technician" if self.technician_open else p.screen()
        sm.get_screen(name).refresh(p)
        sm.current = name
        if self._had_visit and not self.session.has_visit:
            self._scrub(sm, name)
        self._had_visit = self.session.has_visit
        h, header = p.header(), root.ids.header
        header.title, header.back_text, header.start_over_text = h["title"], h["back"], h["start_over"]
        header.show_nav = h["show_nav"] or self.technician_open
        header.countdown = h["countdown"]
        footer = root.ids
        footer.notice.text = h["error"] or h["notice"]
        footer.large_text.text = p.t("button.large_text")
        footer.mute.text = p.t("button.unmute") if self.muted else p.t("button.mute")
        shown = (name, getattr(self.session.question, "fact", None))  # the next question is a new screen too
        if shown != self._shown:
            self._shown = shown
            self._screen_shown_at = self._monotonic()
        if name != self._last_screen:
            if name == "attract" and self._last_screen:
                self._reset_preferences()  # the next person starts from the station's defaults
            self._last_screen = name
            self.speak(name)

    def _reset_preferences(self) -> None:
        self.text_scale = self.default_text_scale
        self.muted = False
        if self.voice:
            self.voice.muted = False
        footer = self.station_root.ids
        footer.mute.text = self.presenter.t("button.mute")

    def _scrub(self, sm: ScreenManager, shown: str) -> None:
        """After a wipe, redraw the hidden screens from the empty session and clear their pads, so no
        resident's name, answers, receipt QR or typed number stays in a widget until the next visit."""
        for screen in sm.screens:
            if screen.name not in (shown, "technician"):
                screen.refresh(self.presenter)
            pad = screen.ids.get("pad")
            if pad is not None:
                pad.value = ""

    def speak(self, screen: str) -> None:
        if self.voice is None or self.muted:
            return
        p = self.presenter
        line = {"attract": lambda: p.attract()["place_card"], "question": lambda: p.question()["prompt"],
                "consent": lambda: p.consent()["title"], "card": lambda: p.card()["spoken"],
                "results": lambda: p.results()["title"], "receipt": lambda: p.receipt()["scan"]}.get(screen)
        if line:
            self.voice.say(line())

    def toggle_large_text(self) -> None:
        self.text_scale = 1.0 if self.text_scale > 1 else theme.LARGE_SCALE
        self.refresh()

    def toggle_mute(self) -> None:
        self.muted = not self.muted
        if self.voice:
            self.voice.muted = self.muted
        self.refresh()

    # --- technician -------------------------------------------------------------------------------
    def title_tapped(self) -> None:
        now = self._monotonic()
        self._title_taps = [t for t in self._title_taps if now - t < TECH_WINDOW] + [now]
        if len(self._title_taps) >= TECH_TAPS and self.technician_pin:
            self._title_taps.clear()
            self.technician_open = True
            self._technician_since = self.session.clock.monotonic()
            self.refresh()

    def technician_pin_entered(self, pin: str) -> None:
        self.technician_unlocked = bool(self.technician_pin) and pin == self.technician_pin
        self._technician_since = self.session.clock.monotonic()
        self.refresh()

    def technician_status(self) -> dict:
        return self._technician_status()
