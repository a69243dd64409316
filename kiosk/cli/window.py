"""The demo's window: the touchscreen plus a side panel that places and lifts sample cards.

Reader events arrive on the reader thread and reach the session through
`StationApp.post` (Clock.schedule_once), never directly.
"""

from __future__ import annotations

import os
import sys


def run_window(station, *, fullscreen: bool = False) -> int:  # noqa: ANN001 - kiosk.cli.demo.DemoStation
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("SDL_VIDEODRIVER"):
        print("note: no DISPLAY: the window would be invisible. Run inside a desktop session, or "
              "`xvfb-run -a estation demo`, or try `estation demo --visit` (headless).", file=sys.stderr)
    import ui.kivy_env

    ui.kivy_env.prepare(fullscreen=fullscreen, size=(1280 + 260, 800))
    from ui import fonts

    fonts.register()
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout

    from ui.app import StationApp
    from ui.voice import Voice
    from ui.widgets import BigButton, BodyLabel

    def side_panel() -> BoxLayout:
        panel = BoxLayout(orientation="vertical", size_hint_x=None, width=260, padding=6, spacing=6)
        panel.add_widget(BodyLabel(text="演示：放置身份证（按键 1-8，0 拿走）"))
        for i, card in enumerate(station.cards[:8], start=1):
            btn = BigButton(text=f"{i}  {card['name']}", style="secondary", min_height=60)
            btn.bind(on_release=lambda _b, c=card: station.sim.place(c))
            panel.add_widget(btn)
        lift = BigButton(text="0  拿走身份证", min_height=60)
        lift.bind(on_release=lambda _b: station.sim.remove())
        panel.add_widget(lift)
        return panel

    voice = Voice(station.data_dir / "voice", station.lang)
    app = StationApp(station.session, lang=station.lang, voice=voice, technician_pin="2468",
                     technician_status=station.status, side_panel=side_panel,
                     printer_status=station.devices.printer_status)
    station.on_intent = app.post
    from kivy.clock import Clock

    station.devices.on_device_change = lambda: Clock.schedule_once(lambda _dt: app.refresh(), 0)

    def on_key(_window, _key, _scancode, codepoint, _modifiers) -> bool:
        if codepoint and codepoint.isdigit():
            n = int(codepoint)
            if n == 0:
                station.sim.remove()
            elif n <= len(station.cards):
                station.sim.place(station.cards[n - 1])
            return True
        return False

    Window.bind(on_keyboard=on_key)
    app.run()
    return 0
