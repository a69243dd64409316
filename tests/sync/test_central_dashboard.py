"""Fleet dashboard: operator token required (401 without, no data), server-rendered table of kiosk
states, filters, escaping; and a headless Debian Chromium (Playwright) that logs in, reads the table,
sees a late kiosk turn red and takes docs/screenshots/dashboard.png."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from conftest import start_central
from sync.central.service import token_hash
from sync.protocol.jsonprofile import canonical
from sync_helpers import Device

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"
RED = "rgb(198, 40, 40)"  # .st-late


@pytest.fixture
def central(tmp_path):
    running = start_central(f"sqlite:///{tmp_path}/central.db")
    yield running
    running.stop()


def kiosk(central, label: str) -> Device:
    token, _ = central.central.create_enroll_token(label=label)
    device = Device(central.url)
    assert device.enroll(token).status_code == 201
    return device


def beat(central, device: Device, *, age_s: float = 0, **overrides) -> None:
    """A real heartbeat over HTTP, sent `age_s` seconds ago as far as central's clock is concerned."""
    central.clock.shift = -age_s
    body = device.heartbeat_body(**{"peripherals": peripherals(), **overrides})
    r = device.send("POST", "/v1/heartbeats", canonical(body), timestamp=int(time.time() - age_s))
    central.clock.shift = 0
    assert r.status_code == 200, r.text


def peripherals(**changes) -> dict:
    return {"id_reader": "ok", "printer": "ok", "io_board": "ok", "tamper": "closed", **changes}


def build_fleet(central) -> dict[str, Device]:
    fleet = {name: kiosk(central, name) for name in (
        "朝阳 e 站 01", "海淀 e 站 02", "西城 e 站 03", "东城 e 站 04", "丰台 e 站 05", "石景山 e 站 06", "通州 e 站 07")}
    beat(central, fleet["朝阳 e 站 01"], peripherals=peripherals(printer="paper_out"))
    beat(central, fleet["海淀 e 站 02"], peripherals=peripherals(tamper="open", id_reader="fault"))
    beat(central, fleet["西城 e 站 03"], age_s=80)  # online now, late 20 s from now
    beat(central, fleet["东城 e 站 04"], age_s=400)  # offline
    beat(central, fleet["通州 e 站 07"], outbox={"depth": 80, "oldest_age_s": 5400, "quarantined": 1},
         feeds={"jobs": {"version": 4, "expires_at": "2025-01-01T00:00:00.000Z", "stale": True}},
         feed_refusals={"policy": {"error": "bad_content", "at": "2025-01-01T00:00:00.000Z"}})
    d7 = fleet["通州 e 站 07"]
    assert d7.post_records([d7.record(seq=1), d7.record(seq=2), d7.record(seq=5)]).status_code == 200
    headers = {"Authorization": "Bearer " + central.central.create_operator_token()}
    httpx.post(f"{central.url}/v1/devices/{fleet['石景山 e 站 06'].device_id}/revoke", headers=headers)
    return fleet


def test_no_token_no_data(central):
    fleet = build_fleet(central)
    for headers in ({}, {"Authorization": "Bearer eo_wrong"}, {"Cookie": "estation_operator=eo_wrong"}):
        r = httpx.get(central.url + "/dashboard", headers=headers)
        assert r.status_code == 401 and "<form" in r.text
        assert not any(d.device_id in r.text or label in r.text for label, d in fleet.items())
    r = httpx.post(central.url + "/dashboard/login", data={"token": "eo_wrong"})
    assert r.status_code == 401 and "token not accepted" in r.text
    r = httpx.post(central.url + "/dashboard/login", content=b"x" * 70000,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "eo_" not in r.text


def test_table_states_and_filters(central):
    fleet = build_fleet(central)
    token = central.central.create_operator_token()
    r = httpx.get(central.url + "/dashboard", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = r.text
    for label, device in fleet.items():
        assert label in page and device.device_id in page
    status = {label: _attr(page, d.device_id, "data-status") for label, d in fleet.items()}
    assert status == {"朝阳 e 站 01": "online", "海淀 e 站 02": "online", "西城 e 站 03": "online",
                      "东城 e 站 04": "offline", "丰台 e 站 05": "never_seen", "石景山 e 站 06": "revoked",
                      "通州 e 站 07": "online"}
    problems = {label: _attr(page, d.device_id, "data-problems") for label, d in fleet.items()}
    assert problems["朝阳 e 站 01"] == "paper_out" and problems["海淀 e 站 02"] == "tamper reader"
    assert problems["通州 e 站 07"] == "backlog quarantine gaps stale_feed feed_refused"
    late = httpx.get(central.url + "/dashboard?status=offline", headers={"Authorization": f"Bearer {token}"}).text
    assert fleet["东城 e 站 04"].device_id in late and fleet["朝阳 e 站 01"].device_id not in late
    paper = httpx.get(central.url + "/dashboard?problem=paper_out", headers={"Authorization": f"Bearer {token}"}).text
    assert fleet["朝阳 e 站 01"].device_id in paper and fleet["海淀 e 站 02"].device_id not in paper


def _log_in(central, token: str) -> httpx.Client:
    browser = httpx.Client(base_url=central.url)
    r = browser.post("/dashboard/login", content=f"token={token}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    return browser


def test_the_browser_keeps_a_session_id_never_the_token(central):
    token = central.central.create_operator_token()
    browser = _log_in(central, token)
    cookie = browser.cookies["estation_operator"]
    assert cookie.startswith("ds_") and token not in cookie
    assert browser.get("/dashboard").status_code == 200
    stolen = dict(browser.cookies)
    assert browser.post("/dashboard/logout").status_code == 303
    assert "estation_operator" not in browser.cookies
    replayed = httpx.get(central.url + "/dashboard", cookies=stolen)  # a copy of the cookie, after logout
    assert replayed.status_code == 401 and "session ended" in replayed.text
    browser.close()


def test_a_revoked_token_ends_its_sessions_and_expired_sessions_end(central):
    token, other = central.central.create_operator_token(), central.central.create_operator_token()
    browser, second = _log_in(central, token), _log_in(central, other)
    ids = dict(central.central.operator_tokens())
    assert len(ids) == 2 and all(len(i) == 12 for i in ids)
    mine = next(i for i in ids if token_hash(token).startswith(i))
    assert central.central.revoke_operator_token(mine)
    assert browser.get("/dashboard").status_code == 401
    assert httpx.get(central.url + "/dashboard", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert second.get("/dashboard").status_code == 200  # the other operator is untouched
    central.clock.shift += 12 * 3600 + 1
    assert second.get("/dashboard").status_code == 401  # a working day, then log in again
    assert not central.central.revoke_operator_token(mine) and not central.central.revoke_operator_token("")
    browser.close()
    second.close()


def test_logout_from_another_site_logs_no_one_out(central):
    token = central.central.create_operator_token()
    browser = _log_in(central, token)
    # Another site's auto-submitted form: the SameSite=Strict cookie does not come along.
    forged = httpx.post(central.url + "/dashboard/logout", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 303 and "set-cookie" not in forged.headers
    assert browser.get("/dashboard").status_code == 200
    browser.close()


def test_labels_are_escaped(central):
    device = kiosk(central, '<script>alert(1)</script>"&')
    beat(central, device, software_version="<img src=x onerror=alert(1)>")
    token = central.central.create_operator_token()
    page = httpx.get(central.url + "/dashboard", headers={"Authorization": f"Bearer {token}"}).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;" in page
    assert "<img src=x" not in page


def _attr(page: str, device_id: str, name: str) -> str:
    start = page.index(f'data-device="{device_id}"')
    row = page[page.rfind("<tr", 0, start):page.index(">", start)]
    return row.split(f'{name}="', 1)[1].split('"', 1)[0]


def test_browser_login_read_table_late_turns_red_screenshot(central):
    try:
        from playwright import sync_api
    except ModuleNotFoundError:  # the suite skips nothing silently
        pytest.fail("Playwright missing: pip install 'playwright>=1.50' (uses Debian's chromium, no download)")
    fleet = build_fleet(central)
    token = central.central.create_operator_token()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 640})
            first = page.goto(central.url + "/dashboard")
            assert first.status == 401 and page.locator("#fleet").count() == 0
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_selector("#fleet")
            assert page.url.endswith("/dashboard")
            rows = page.locator("#fleet tbody tr")
            seen = {rows.nth(i).get_attribute("data-device"): rows.nth(i).get_attribute("data-status")
                    for i in range(rows.count())}
            assert seen[fleet["西城 e 站 03"].device_id] == "online"
            assert seen[fleet["东城 e 站 04"].device_id] == "offline"
            paper = page.locator(f'tr[data-device="{fleet["朝阳 e 站 01"].device_id}"] td[data-col="printer"]')
            assert paper.inner_text() == "paper out"
            central.clock.shift = 20  # the 80 s old heartbeat is now 100 s old: > 1.5 × 60 s
            page.reload()
            row = page.locator(f'tr[data-device="{fleet["西城 e 站 03"].device_id}"]')
            assert row.get_attribute("data-status") == "late"
            badge = row.locator(".st")
            assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == RED
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            page.click("text=log out")
            page.wait_for_selector("#token")
            assert page.locator("#fleet").count() == 0
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_officer_checks_a_receipt_in_the_browser(central):
    """An officer logs in, scans a resident's receipt QR into the form, and reads the verdict."""
    from playwright import sync_api

    from kiosk.ports import RecordDraft
    from kiosk.receipts import make_receipt
    from sync.identity import DeviceIdentity
    from sync.protocol.keys import raw_public

    device = kiosk(central, "许昌 e 站 07")
    record = device.record(kind="unemployment_registration")
    s = record["signed"]
    signer = DeviceIdentity(device.key, raw_public(device.key), device.device_id)
    token = make_receipt(RecordDraft(s["record_id"], s["kind"], 1, s["created_at"], {}), seq=s["seq"],
                         pack="xuchang", signer=signer).token
    assert device.post_records([record]).status_code == 200
    operator_token = central.central.create_operator_token()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            assert page.goto(central.url + "/dashboard/receipt").status == 401  # no token, no check
            page.fill("#token", operator_token)
            page.click("button[type=submit]")
            page.wait_for_selector("#fleet")
            page.click("text=check a receipt")
            page.fill("#receipt-token", token)
            page.click("form button[type=submit]")
            verdict = page.locator("#verdict")
            assert verdict.get_attribute("data-valid") == "true" and verdict.get_attribute("data-stored") == "true"
            assert "许昌 e 站 07" in page.content() and s["record_id"] in page.content()
            page.screenshot(path=str(SCREENSHOT.parent / "central-receipt-check.png"), full_page=True)
            page.fill("#receipt-token", token[:-4] + "AAAA")
            page.click("form button[type=submit]")
            assert page.locator("#verdict").get_attribute("data-valid") == "false"
        finally:
            browser.close()


def test_receipt_page_escapes_what_it_is_given(central):
    headers = {"Authorization": "Bearer " + central.central.create_operator_token()}
    hostile = '"><script>alert(1)</script>'
    page = httpx.get(central.url + "/dashboard/receipt", params={"token": hostile}, headers=headers).text
    assert "<script>" not in page and "&lt;script&gt;" in page and 'data-valid="false"' in page


def test_feed_refusals_are_shown_and_bad_ones_never_cost_the_heartbeat(central):
    device, token = kiosk(central, "朝阳 e 站 09"), central.central.create_operator_token()
    headers = {"Authorization": f"Bearer {token}"}
    refused = {"policy": {"error": "rollback", "at": "2026-11-23T08:00:00.000Z"}}
    beat(central, device, feed_refusals=refused)
    assert httpx.get(f"{central.url}/v1/devices/{device.device_id}", headers=headers).json()[
        "last_heartbeat"]["feed_refusals"] == refused
    page = httpx.get(central.url + "/dashboard?problem=feed_refused", headers=headers).text
    assert _attr(page, device.device_id, "data-problems") == "feed_refused"
    assert 'data-refused="policy"' in page and "refused: rollback" in page
    assert "policy <span" in page  # a refused feed that was never adopted is still listed
    for bad in ({"policy": {"error": "<b>x</b>", "at": "2026-11-23T08:00:00.000Z"}},
                {"policy": {"error": "rollback", "at": "yesterday"}},
                {"policy": {"error": "rollback", "at": "2026-11-23T08:00:00.000Z", "detail": "/home/x"}},
                {f"f{i}": {"error": "expired", "at": "2026-11-23T08:00:00.000Z"} for i in range(17)},
                ["policy"], "rollback"):
        beat(central, device, feed_refusals=bad)  # 200: the beat counts, as sent; the bad extra is not shown
        assert httpx.get(f"{central.url}/v1/devices/{device.device_id}",
                         headers=headers).json()["last_heartbeat"]["feed_refusals"] == bad
    page = httpx.get(central.url + "/dashboard", headers=headers).text
    assert _attr(page, device.device_id, "data-problems") == "" and "<b>x" not in page


def test_metrics_count_the_dashboards_problems_with_bounded_labels(central):
    fleet = build_fleet(central)
    gone = kiosk(central, "门头沟 e 站 08")
    beat(central, gone, peripherals=peripherals(printer="paper_out"))
    httpx.post(f"{central.url}/v1/devices/{gone.device_id}/revoke",  # revoked: its last beat no longer counts
               headers={"Authorization": "Bearer " + central.central.create_operator_token()})
    text = httpx.get(central.url + "/metrics").text
    counts = {line.split('"')[1]: int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith("estation_devices_with_problem{")}
    assert counts == {"paper_out": 1, "tamper": 1, "reader": 1, "backlog": 1, "quarantine": 1, "gaps": 1,
                      "stale_feed": 1, "feed_refused": 1}
    assert not any(d.device_id in text or label in text for label, d in fleet.items())
