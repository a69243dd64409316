"""The in-window parts of bench_ui (run in a subprocess by `bench.bench_ui worker <part>`).

Not a bench of its own (no `bench_` prefix): `python -m bench` only runs bench_ui, which
starts Xvfb and calls `flows` and `soak` here in fresh interpreters.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from pathlib import Path

from bench.bench_ui import PACE_S, SOAK_VISITS, SteppedClock, bench_session, pct
from kiosk import intents as I

CARDS = json.loads((Path(__file__).parents[1] / "drivers/idcard/sample_cards.json").read_text("utf-8"))
REGISTRATION = {"employed": "no", "receiving_pension": "no", "in_school": "no"}
DIFFICULTY = {**REGISTRATION, "female_base_age": "female_base_age.staff", "graduate_year": "graduate.earlier_or_not"}


class Driver:
    """A StationApp in the shared window, driven by real taps."""

    def __init__(self, session) -> None:  # noqa: ANN001
        from kivy.base import EventLoop

        from ui import fonts

        fonts.register()
        EventLoop.ensure_window()
        from ui.app import StationApp

        self.session = session
        self.app = StationApp(session)
        self.app._run_prepare()
        self.pump(3)
        self.tap_ms: list[float] = []

    def pump(self, frames: int = 1) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def close(self) -> None:
        from kivy.app import App
        from kivy.core.window import Window

        self.app.dispatch("on_stop")
        Window.remove_widget(self.app.root)
        App._running_app = None
        self.pump(2)

    def button(self, text: str):
        from ui.widgets import BigButton

        found = [w for w in self.app.root.walk() if isinstance(w, BigButton) and w.text == text and w.opacity > 0
                 and not w.disabled and w.get_root_window() is not None]
        assert found, (text, self.app.station_root.ids.sm.current)
        return found[0]

    def tap(self, text: str) -> None:
        from kivy.tests.common import UnitTestTouch

        self.pump(2)  # the screen lays itself out before the resident aims
        widget = self.button(text)
        started = time.perf_counter()
        touch = UnitTestTouch(*widget.to_window(*widget.center))
        touch.touch_down()
        touch.touch_up()
        self.pump(1)  # the next screen's first frame
        self.tap_ms.append((time.perf_counter() - started) * 1000)


def visit(pack: str, card_index: int, program: str, persona: dict) -> dict:
    from kiosk.policy import ID_CARD_FACTS

    d = Driver(bench_session(pack))
    t = d.app.presenter.t
    before = len(d.tap_ms)
    d.session.handle(I.CardPlaced(dict(CARDS[card_index])))
    taps = 0
    for text in (t("button.continue"), t("button.agree")):
        d.tap(text)
        taps += 1
    while (q := d.session.question) is not None:
        ids = [c.id for c in q.choices]
        d.tap(t(f"choice.{persona.get(q.fact, 'yes' if 'yes' in ids else ids[-1])}"))
        taps += 1
    d.tap(f"{t('button.apply')}：{t(f'program.{program}')}")
    d.tap(t("button.confirm"))
    taps += 2
    assert d.session.receipt is not None and d.app.station_root.ids.sm.current == "receipt"
    ui_s = sum(d.tap_ms[before:]) / 1000
    every = len(d.session.pack.facts() - ID_CARD_FACTS)
    d.close()
    baseline_taps = 2 + every + 2
    return {"taps": taps, "seconds": round((taps + 1) * PACE_S + ui_s, 1), "questions": taps - 4,
            "baseline_taps": baseline_taps, "baseline_seconds": round((baseline_taps + 1) * PACE_S + ui_s, 1),
            "ui_ms": d.tap_ms}


def jobs_visit(postings: list[dict]) -> dict:
    from kiosk.policy import ID_CARD_FACTS

    d = Driver(bench_session("xuchang", job_search=lambda q, on: [p for p in postings if q.query in p["title"]]))
    t = d.app.presenter.t
    d.tap(t("app.jobs_without_card"))
    d.tap("保洁")
    first = d.session.postings[0]
    row = [b.text for b in d.app.root.walk() if getattr(b, "action", None) == I.ShowPosting(first["id"])][0]
    d.tap(row)
    assert d.app.station_root.ids.sm.current == "posting"
    assert d.app.station_root.ids.sm.current_screen.ids.qr.texture is not None
    every = len(d.session.pack.facts() - ID_CARD_FACTS)
    d.close()
    baseline_taps = 2 + every + 3  # identify first: continue, agree, every question, then search, word, row
    return {"taps": 3, "seconds": round(3 * PACE_S + sum(d.tap_ms) / 1000, 1), "baseline_taps": baseline_taps,
            "baseline_seconds": round((baseline_taps + 1) * PACE_S + sum(d.tap_ms) / 1000, 1), "ui_ms": d.tap_ms}


def latency(capped: bool, rounds: int) -> list[float]:
    """Last byte of the reader's reply -> first frame flipped with the card screen, in ms."""
    from drivers.idcard.events import CardRead
    from drivers.idcard.sim import SimulatedReader
    from drivers.idcard.transport import CardReader
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.cli.station import intent_for_reader_event

    d = Driver(bench_session("xuchang"))
    capped_fps = Clock._max_fps
    Clock._max_fps = capped_fps if capped else 0.0
    mark = {"t0": None, "shown": None}

    def on_event(event: object) -> None:  # the reader's thread
        if isinstance(event, CardRead):
            mark["t0"] = sim.last_reply_done
        intent = intent_for_reader_event(event)
        if intent is not None:
            d.app.post(intent)

    def on_flip(*_: object) -> None:
        if mark["shown"] is None and d.app.station_root.ids.sm.current == "card":
            mark["shown"] = time.perf_counter()

    Window.bind(on_flip=on_flip)
    sim = SimulatedReader(CARDS).start()
    reader = CardReader(sim.port, on_event).start()
    out = []
    try:
        for i in range(rounds + 2):
            mark.update(t0=None, shown=None)
            sim.place(CARDS[i % 5])
            until(d, lambda: mark["shown"] is not None)
            if i >= 2:  # the first reads warm the driver and the screens
                out.append((mark["shown"] - mark["t0"]) * 1000)
            sim.remove()
            until(d, lambda: d.session.visit is None)
    finally:
        Window.unbind(on_flip=on_flip)
        reader.stop()
        sim.stop()
        Clock._max_fps = capped_fps
        d.close()
    return out


def until(d: Driver, predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        d.pump(1)


def scroll(rows: int) -> dict:
    from kivy.base import EventLoop
    from kivy.clock import Clock

    from kiosk.jobs.samplegen import generate

    postings = generate(rows)
    d = Driver(bench_session("xuchang", job_search=lambda q, on: list(postings)))
    d.app.send(I.SearchJobs())
    started = time.perf_counter()
    d.app.send(I.Search(""))
    search_ms = (time.perf_counter() - started) * 1000
    refresh = []
    for _ in range(5):  # what every countdown second costs on this screen
        started = time.perf_counter()
        d.app.refresh()
        d.pump(1)
        refresh.append((time.perf_counter() - started) * 1000)
    capped, Clock._max_fps = Clock._max_fps, 0.0
    sv = d.app.station_root.ids.sm.current_screen.ids.scroll
    d.pump(5)
    frames = []
    for i in range(160):  # to the bottom in 80 frames and back up
        sv.scroll_y = abs(i - 80) / 80
        started = time.perf_counter()
        EventLoop.idle()
        frames.append((time.perf_counter() - started) * 1000)
    Clock._max_fps = capped
    widgets = sum(1 for _ in d.app.root.walk())
    d.close()
    return {"p50": pct(frames, 0.5), "p95": pct(frames, 0.95), "max": round(max(frames), 2),
            "search_to_list_ms": round(search_ms, 1), "refresh_ms_median": round(statistics.median(refresh), 1),
            "widgets": widgets}


def flows() -> dict:
    from kiosk.jobs.samplegen import generate

    visits = {"registration": visit("xuchang", 1, "unemployment_registration", REGISTRATION),
              "difficulty": visit("wenzhou", 0, "employment_difficulty", DIFFICULTY),
              "jobs": jobs_visit(generate(320))}
    taps_ms = [ms for v in visits.values() for ms in v.pop("ui_ms")]
    lat_capped, lat_free = latency(True, rounds=12), latency(False, rounds=6)
    big, small = scroll(200), scroll(20)
    return {
        "visits": visits, "ui_ms_per_tap_p50": pct(taps_ms, 0.5),
        "latency": {"card_to_screen_ms_p50": pct(lat_capped, 0.5), "card_to_screen_ms_p95": pct(lat_capped, 0.95),
                    "card_to_screen_ms_max": round(max(lat_capped), 2),
                    "card_to_screen_ms_p50_uncapped": pct(lat_free, 0.5),
                    "card_to_screen_ms_p95_uncapped": pct(lat_free, 0.95)},
        "scroll": {"scroll_frame_ms_p50": big["p50"], "scroll_frame_ms_p95": big["p95"],
                   "scroll_frame_ms_max": big["max"], "jobs_200_search_to_list_ms": big["search_to_list_ms"],
                   "jobs_200_refresh_ms": big["refresh_ms_median"], "jobs_200_widgets_in_tree": big["widgets"]},
        "baseline_scroll": small,
    }


# --- soak ----------------------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def live_counts() -> dict:
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    gc.collect()
    objs = gc.get_objects()
    return {"textures": sum(isinstance(o, Texture) for o in objs), "widgets": sum(isinstance(o, Widget) for o in objs)}


def soak() -> dict:
    from kivy.cache import Cache

    from kiosk.jobs.samplegen import generate

    postings = generate(60)
    clock = SteppedClock()
    d = Driver(bench_session("xuchang", clock=clock,
                             job_search=lambda q, on: [p for p in postings if q.query in p["title"]][:20]))
    s, send = d.session, d.app.send
    from kivy.clock import Clock

    Clock._max_fps = 0.0  # no waiting for the 30 fps cap: every pumped frame is drawn at once
    warn = s.config.timeouts
    checkpoints, started = [], time.perf_counter()
    warm_rss = warm_counts = None
    warm_at = min(500, SOAK_VISITS // 10)  # caches, fonts and pools fill during the first visits
    for n in range(SOAK_VISITS):
        kind = n % 20  # 6 registrations, 4 job searches, 4 feedback, 3 start-overs, 3 timeouts in 20
        if kind < 6 or kind >= 17:
            send(I.CardPlaced(dict(CARDS[1 + n % 4])))
            send(I.Continue())
            send(I.Consent(True))
            while (q := s.question) is not None:
                ids = [c.id for c in q.choices]
                send(I.Answer(q.fact, REGISTRATION.get(q.fact, "yes" if "yes" in ids else ids[-1])))
                if kind >= 17:
                    break
            if kind >= 17:
                send(I.Cancel())  # start over half-way
            elif s.applicable_programs():
                send(I.Apply(s.applicable_programs()[0]))
                send(I.Confirm("13800138000" if n % 2 else None))
                send(I.Continue() if n % 4 < 2 else I.CardRemoved())
            else:
                send(I.Cancel())
        elif kind < 10:
            send(I.SearchJobs())
            send(I.Search(["保洁", "保安", "司机", "厨师"][n % 4]))
            if s.postings:
                send(I.ShowPosting(s.postings[0]["id"]))
            send(I.Back())
            send(I.Cancel())
        elif kind < 14:
            send(I.GiveFeedback())
            send(I.Submit(str(1 + n % 5)))
        else:  # walks away on the consent screen: warning, then the wipe
            send(I.CardPlaced(dict(CARDS[n % 5])))
            send(I.Continue())
            clock.offset += warn[s.state][0] + 1
            send(I.Tick())
            clock.offset += warn[s.state][1]
            send(I.Tick())
        assert s.visit is None, (n, s.state)
        d.pump(1)
        if n + 1 == warm_at:
            warm_rss, warm_counts = rss_mb(), live_counts()
        if (n + 1) % 1000 == 0:
            checkpoints.append([n + 1, round(rss_mb(), 1)])
    end_counts, end_rss = live_counts(), rss_mb()
    cached = len(getattr(Cache, "_objects", {}).get("kv.texture", {}))
    seconds = time.perf_counter() - started
    d.close()
    return {"soak_visits": SOAK_VISITS, "soak_warmup_visits": warm_at, "soak_seconds": round(seconds, 1),
            "soak_rss_mb_after_warmup": round(warm_rss, 1), "soak_rss_mb_end": round(end_rss, 1),
            "soak_rss_growth_mb": round(end_rss - warm_rss, 2),
            "soak_textures_after_warmup": warm_counts["textures"], "soak_textures_end": end_counts["textures"],
            "soak_widgets_after_warmup": warm_counts["widgets"], "soak_widgets_end": end_counts["widgets"],
            "soak_kv_texture_cache_entries": cached, "soak_rss_mb_checkpoints": checkpoints}
