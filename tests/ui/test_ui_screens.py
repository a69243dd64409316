"""Every screen under Xvfb: reached through the session, checked against the 适老化 minimums,
screenshotted into docs/screenshots/ for the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from kivy.metrics import dp

from kiosk import intents as I
from kiosk.session import State
from session_harness import card
from ui import theme
from ui.widgets import BigButton

ELIGIBLE = {"employed": "no", "receiving_pension": "no", "in_school": "no"}
POSTINGS = [{"id": "JOB-1", "title": "保洁员", "employer": "许昌宏达物业", "district_code": "411002",
             "address": "许昌市魏都区人民路1号", "salary_min": 2500, "salary_max": 3200, "hours": "8:00-17:00",
             "requirements": "18-55岁，身体健康", "contact": "王先生 0374-55551234", "url": ""}]


def answer_all(st) -> int:
    taps = 0
    while st.session.question is not None:
        q = st.session.question
        st.tap_text(st.app.presenter.t(f"choice.{ELIGIBLE.get(q.fact, 'yes')}"))
        taps += 1
    return taps


def drive(st, target: str) -> None:
    t = st.app.presenter.t
    steps = {
        "attract": [],
        "card": [I.CardPlaced(card(1))],
        "consent": [I.CardPlaced(card(1)), I.Continue()],
        "question": [I.CardPlaced(card(1)), I.Continue(), I.Consent(True)],
    }
    if target in steps:
        for intent in steps[target]:
            st.send(intent)
        return
    for intent in steps["question"]:
        st.send(intent)
    answer_all(st)
    more = {
        "results": [], "apply": [I.Apply("unemployment_registration")],
        "receipt": [I.Apply("unemployment_registration"), I.Confirm(None)],
        "jobs": [I.SearchJobs(), I.Search("保洁")], "posting": [I.SearchJobs(), I.Search("保洁"), I.ShowPosting("JOB-1")],
        "service": [I.RequestCallback()], "status_report": [I.ReportStatus()],
        "feedback": [I.Apply("unemployment_registration"), I.Confirm(None), I.GiveFeedback()],
    }[target]
    for intent in more:
        st.send(intent)
    assert t  # presenter available


SCREENS = ["attract", "card", "consent", "question", "results", "apply", "receipt", "jobs", "posting", "service",
           "status_report", "feedback"]


def check_minimums(st) -> None:
    from kivy.uix.label import Label

    for w in st.visible_widgets():
        if isinstance(w, Label) and w.text and w.opacity > 0 and w.width > 0:
            assert w.font_size >= dp(theme.MIN_BODY_DP) - 0.01, (w.text, w.font_size)
    for b in st.buttons():
        assert b.width >= theme.MIN_TARGET_PX and b.height >= theme.MIN_TARGET_PX, (b.text, b.size)
        assert theme.contrast(b.color, b.background_color) >= theme.MIN_CONTRAST, b.text


@pytest.mark.parametrize("name", SCREENS)
def test_every_screen_renders_within_the_minimums(station, name):
    st = station(job_search=lambda q, on: [p for p in POSTINGS if q.query in p["title"] or not q.query])
    drive(st, name)
    assert st.screen.name == name
    check_minimums(st)
    if name != "attract":
        texts = [b.text for b in st.buttons()]
        assert st.app.presenter.t("button.back") in texts and st.app.presenter.t("button.start_over") in texts
    st.screenshot(name)


def test_theme_pairs_reach_the_contrast_minimum():
    for name, (fg, bg) in theme.PAIRS.items():
        assert theme.contrast(fg, bg) >= theme.MIN_CONTRAST, name


def test_labels_render_in_the_simplified_chinese_face(station, kivy_window):
    from kivy.uix.label import Label

    from ui.fonts import FAMILY, family_of

    _, font_path = kivy_window
    st = station()
    labels = [w for w in st.visible_widgets() if isinstance(w, Label) and w.text]
    assert labels
    used = set()
    for label in labels:
        label.texture_update()
        used.add(label._label.options["font_name_r"])
    assert str(font_path) in used  # regular text; bold labels use the bold SC extract
    for path in used:
        assert family_of(Path(path)) == FAMILY, path


def test_sc_and_jp_faces_draw_bone_differently(kivy_window, tmp_path):
    """骨 has different forms in SC and JP: proves the face we render is not face 0."""
    from kivy.core.text import Label as CoreLabel

    from ui.fonts import SYSTEM_TTC, extract_face

    _, sc_path = kivy_window
    jp_path = extract_face(SYSTEM_TTC, "Noto Sans CJK JP", tmp_path / "jp.otf")
    pixels = []
    for path in (sc_path, jp_path):
        core = CoreLabel(text="骨", font_size=96, font_name=str(path))
        core.refresh()
        pixels.append(core.texture.pixels)
    assert pixels[0] != pixels[1]


def test_no_free_text_input_anywhere(station):
    from kivy.uix.textinput import TextInput

    st = station()
    for sm_screen in st.app.root.ids.sm.screens:
        assert not [w for w in sm_screen.walk() if isinstance(w, TextInput)], sm_screen.name


def test_taps_walk_a_registration_to_a_receipt(station):
    st = station()
    t = st.app.presenter.t
    st.send(I.CardPlaced(card(1)))
    taps = 0
    st.tap_text(t("button.continue")); taps += 1
    st.tap_text(t("button.agree")); taps += 1
    taps += answer_all(st)
    st.tap_text(f"{t('button.apply')}：{t('program.unemployment_registration')}"); taps += 1
    st.tap_text(t("button.confirm")); taps += 1
    assert st.session.state is State.RECEIPT and len(st.sink.drafts) == 1
    assert taps <= 12, taps
    assert st.screen.ids.qr.texture is not None


def test_phone_number_on_the_numeric_pad(station):
    st = station()
    drive(st, "apply")
    for digit in "13800138000":
        st.tap_text(digit)
    assert st.screen.ids.pad.value == "13800138000"
    st.tap_text(st.app.presenter.t("button.delete"))
    st.tap_text("9")
    st.tap_text(st.app.presenter.t("button.confirm"))
    assert st.sink.drafts[-1].payload["applicant"]["phone"] == "13800138009"


def test_large_text_mode_reaches_30_dp(station):
    from kivy.uix.label import Label

    st = station()
    drive(st, "consent")
    st.tap_text(st.app.presenter.t("button.large_text"))
    body = st.screen.ids.body
    assert body.font_size >= dp(theme.MIN_LARGE_DP)
    st.screenshot("consent-large")
    assert all(w.font_size >= dp(theme.MIN_LARGE_DP) for w in st.visible_widgets()
               if isinstance(w, Label) and w.text and w is not st.app.root.ids.notice)


def into_countdown(st, target: str, state: State) -> tuple[float, float]:
    """Drive to `target` and let it sit untouched into the warning; (warn, wipe) of its state."""
    drive(st, target)
    warn, wipe = st.session.config.timeouts[state]
    st.clock.advance(warn + 1)
    st.send(I.Tick())
    return warn, wipe


def test_countdown_is_shown_before_the_wipe(station):
    st = station()
    warn, wipe = into_countdown(st, "question", State.QUESTIONS)
    title = st.app.root.ids.header.ids.title.text
    assert str(int(wipe - warn - 1)) in title and title != st.app.presenter.t("app.title")
    st.screenshot("countdown")
    st.clock.advance(wipe)
    st.send(I.Tick())
    assert st.screen.name == "attract" and st.session.visit is None


def test_start_over_and_back_buttons(station):
    st = station()
    drive(st, "results")
    st.tap_text(st.app.presenter.t("button.back"))
    assert st.screen.name == "question"
    st.tap_text(st.app.presenter.t("button.start_over"))
    assert st.screen.name == "attract" and st.session.visit is None


def test_voice_prompts_and_mute(station):
    st = station()
    st.send(I.CardPlaced(card(1)))
    # Aloud, the card screen greets without the name: the WAV stays on disk and the room hears it.
    assert st.voice.spoken[-1] == st.app.presenter.card()["spoken"]
    assert st.session.greeting_name() not in "".join(st.voice.spoken)
    st.tap_text(st.app.presenter.t("button.mute"))
    st.send(I.Continue())
    assert st.voice.spoken[-1] != st.app.presenter.consent()["title"]
    path = st.voice.wav_for("请将身份证放在读卡区")
    assert path is not None and path.stat().st_size > 10_000


def test_a_voice_that_fails_logs_no_text(tmp_path, caplog):
    from ui.voice import Voice

    voice = Voice(tmp_path, lang="zh_CN")
    voice.espeak = "/bin/false"  # a renderer that fails
    with caplog.at_level("WARNING", logger="estation.ui.voice"):
        voice._render_and_play("王建国，您好")
    assert "voice prompt not rendered: CalledProcessError (exit 1)" in caplog.text
    assert "王建国" not in caplog.text and not list(tmp_path.glob("*.wav"))


def test_technician_screen_needs_the_pin(station):
    st = station()
    title = st.app.root.ids.header.ids.title
    for _ in range(5):
        st.tap(title)
    assert st.screen.name == "technician"
    for digit in "1111":
        st.tap_text(digit)
    st.tap_text(st.app.presenter.t("button.confirm"))
    assert not st.app.technician_unlocked
    st.screen.pad.value = ""
    for digit in "2468":
        st.tap_text(digit)
    st.tap_text(st.app.presenter.t("button.confirm"))
    assert st.app.technician_unlocked
    texts = [w.text for w in st.visible_widgets() if getattr(w, "text", "")]
    assert "读卡器: 正常" in texts
    st.screenshot("technician")
    st.tap_text(st.app.presenter.t("button.back"))
    assert st.screen.name == "attract" and not st.app.technician_unlocked


def test_online_registration_qr_shows_when_the_pack_has_one(station):
    import dataclasses

    from pyzbar.pyzbar import ZBarSymbol, decode
    from PIL import Image

    from ui.widgets import QRCode

    st = station()
    url = "https://example.invalid/xuchang/register"
    st.session.pack = dataclasses.replace(st.session.pack, extra={
        **st.session.pack.extra, "online_registration": {"url": url, "clause": "001 §3(1)"}})
    drive(st, "results")
    codes = [w for w in st.visible_widgets() if isinstance(w, QRCode) and w.data]
    assert [c.data for c in codes] == [url]
    path = st.screenshot("results-online-qr")  # on screen without scrolling, and a phone can read it
    assert [d.data.decode() for d in decode(Image.open(path), symbols=[ZBarSymbol.QRCODE])] == [url]


def test_no_registration_qr_without_an_address(station):
    from ui.widgets import QRCode

    st = station()
    drive(st, "results")
    assert not [w for w in st.visible_widgets() if isinstance(w, QRCode) and w.data]


def test_large_text_and_mute_do_not_carry_over_to_the_next_resident(station):
    st = station()
    drive(st, "consent")
    st.tap_text(st.app.presenter.t("button.large_text"))
    st.tap_text(st.app.presenter.t("button.mute"))
    assert st.app.text_scale > 1 and st.app.muted
    st.tap_text(st.app.presenter.t("button.start_over"))
    assert st.screen.name == "attract"
    assert st.app.text_scale == 1.0 and not st.app.muted and not st.voice.muted


def test_the_second_touch_of_a_double_tap_does_not_press_the_next_screens_button(station):
    """"继续" on the card screen sits where "不同意" and "同意" appear next: a double tap must not
    give (or refuse) consent to a text the resident never saw."""
    st = station()
    t = st.app.presenter.t
    st.send(I.CardPlaced(card(1)))
    go_on = next(b for b in st.buttons() if b.text == t("button.continue"))
    x, y = go_on.to_window(*go_on.center)
    for left_or_right in (go_on.x + go_on.width * 0.25, go_on.x + go_on.width * 0.75):
        st.tap(go_on)
        assert st.screen.name == "consent"
        st.tap_now_at(*go_on.to_window(left_or_right, go_on.center_y))  # the double tap's second touch
        assert st.screen.name == "consent" and not st.session.consented and st.session.visit is not None
        st.tap_text(t("button.back"))
        assert st.screen.name == "card"
        go_on = next(b for b in st.buttons() if b.text == t("button.continue"))
    st.tap_text(t("button.continue"))
    st.tap_text(t("button.agree"))  # at a resident's pace it works
    assert st.session.consented


def test_a_touch_between_buttons_answers_the_countdown(station):
    st = station()
    into_countdown(st, "results", State.RESULTS)
    assert st.session.warning_seconds is not None
    title = st.app.root.ids.header.ids.title
    st.tap(title.parent)  # no button there: reading, scrolling
    assert st.session.warning_seconds is None and st.screen.name == "results"


def test_a_countdown_second_does_not_rebuild_the_buttons_under_a_finger(station):
    st = station()
    drive(st, "question")
    before = [id(b) for b in st.buttons()]
    st.clock.advance(st.session.config.timeouts[State.QUESTIONS][0] + 1)
    for _ in range(3):
        st.clock.advance(1)
        st.send(I.Tick())
    assert st.session.warning_seconds is not None
    assert [id(b) for b in st.buttons()] == before


def test_receipt_line_follows_the_printer(station):
    from ui.presenter import Presenter

    st = station()
    drive(st, "receipt")
    p = Presenter(st.session, "zh_CN")
    assert p.receipt(None)["printing"] == ""  # a QR-only kiosk says nothing about paper
    assert p.receipt("ok")["printing"] == p.t("receipt.printing")
    assert p.receipt("paper_out")["printing"] == p.t("receipt.paper_out")
    assert p.receipt("absent")["printing"] == p.receipt("fault")["printing"] == p.t("receipt.printer_unavailable")


def test_english_screens_carry_no_hard_coded_chinese(station):
    from ui.presenter import Presenter

    st = station(job_search=lambda q, on: [{"id": "J1", "title": "Cleaner", "employer": "Acme", "district_code": "411002",
                                             "salary_min": 2500, "salary_max": 3200}])
    st.app.presenter = Presenter(st.session, "en")
    st.send(I.SearchJobs())
    st.send(I.Search("Cleaner"))
    texts = [b.text for b in st.buttons()]
    row = next(t for t in texts if t.startswith("Cleaner"))
    assert "yuan" in row and "元" not in row
    st.send(I.ShowPosting("J1"))
    assert any("yuan/month" in line for line in st.app.presenter.posting()["lines"])


def test_a_double_tap_does_not_answer_the_next_question_too(station):
    st = station()
    drive(st, "question")
    first = st.session.question.fact
    label = st.app.presenter.question()["choices"][0][1]
    choice = next(b for b in st.buttons() if b.text == label)
    x, y = choice.to_window(*choice.center)
    st.tap(choice)
    assert st.session.question is not None and st.session.question.fact != first  # the next one, same place
    st.tap_now_at(x, y)  # the double tap's second touch
    assert list(st.session.visit.answers) == [first]


def test_a_voice_cache_from_before_the_nameless_greeting_is_emptied_once(tmp_path):
    from ui.voice import CACHE_MARK, Voice

    old = tmp_path / "voice"
    old.mkdir()
    (old / "04d82a0ab2483a5ae91b6716.wav").write_bytes(b"RIFF a name")  # "张伟，您好", cached by an old build
    voice = Voice(old)
    assert not list(old.glob("*.wav")) and (old / CACHE_MARK).exists()
    kept = voice.wav_for("请将身份证放在读卡区")
    Voice(old)  # the next start keeps what the catalogue made
    assert kept is not None and kept.exists()
