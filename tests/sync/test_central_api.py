"""Central service over real HTTP (uvicorn on 127.0.0.1), on SQLite and on a real PostgreSQL:
enrollment (§3), request auth (§4), record ingest rules (§5), heartbeats and fleet (§6, §8)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.jsonprofile import canonical
from sync.central.service import token_hash
from sync.protocol.keys import device_id_of, raw_public
from sync.protocol.records import build_record, receipt_problem
from sync_helpers import Device, uuid7


def enrolled(central, **token_args) -> Device:
    token, _ = central.central.create_enroll_token(**token_args)
    device = Device(central.url)
    assert device.enroll(token).status_code == 201
    return device


def operator_headers(central) -> dict[str, str]:
    return {"Authorization": "Bearer " + central.central.create_operator_token()}


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) >= {"error", "detail"}
    return body["error"]


# ------------------------------------------------------------------ keys, enrollment

def test_keys_endpoint(central):
    body = httpx.get(central.url + "/v1/keys").json()
    assert set(body) == {"receipt_key", "record_key", "feed_key"}
    assert all(set(k) == {"key_id", "public"} for k in body.values())


def test_enrollment_rules(central):
    token, _ = central.central.create_enroll_token(uses=1, label="site A")
    device = Device(central.url)
    first = device.enroll(token)
    assert first.status_code == 201
    answer = first.json()
    assert answer["device_id"] == device.device_id and answer["label"] == "site A"
    assert answer["limits"] == {"max_body_bytes": 4194304, "max_batch": 500, "max_payload_bytes": 65536}
    assert set(answer) == {"device_id", "label", "receipt_key", "record_key", "feed_key", "heartbeat_interval_s",
                           "limits", "server_time"}
    again = device.enroll(token)  # lost-response retry: same answer, no use consumed
    assert again.status_code == 200 and again.json()["device_id"] == device.device_id
    assert error_of(Device(central.url).enroll(token)) == "invalid_token"  # the one use is gone
    other_token, _ = central.central.create_enroll_token()
    r = device.enroll(other_token)
    assert r.status_code == 409 and error_of(r) == "already_enrolled"
    assert error_of(Device(central.url).enroll("et_" + "A" * 32)) == "invalid_token"


def test_enrollment_failure_order(central):
    token, _ = central.central.create_enroll_token(uses=10)
    device = Device(central.url)
    post = lambda body: device.http.post("/v1/enroll", json=body)  # noqa: E731
    r = post({"signed": {"token": token}, "sig": "x"})
    assert (r.status_code, error_of(r)) == (400, "invalid_request")
    small = device.enroll_body(token, device_key=b64u_encode(bytes(32)))
    assert (post(small).status_code, error_of(post(small))) == (400, "invalid_key")
    short = device.enroll_body(token, device_key=b64u_encode(bytes(31)))
    assert error_of(post(short)) == "invalid_key"
    forged = device.enroll_body(token)
    forged["signed"]["hardware_id"] = "other"
    r = post(forged)
    assert (r.status_code, error_of(r)) == (401, "bad_signature")
    cross = {"signed": forged["signed"], "sig": b64u_encode(device.key.sign(
        sig.signing_input(sig.RECORD, forged["signed"])))}
    assert error_of(post(cross)) == "bad_signature"  # a signature from another domain does not count
    r = device.http.post("/v1/enroll", content=b'{"a":1,"a":2}', headers={"Content-Type": "application/json"})
    assert (r.status_code, error_of(r)) == (400, "malformed_body")
    assert device.enroll(token).status_code == 201
    headers = operator_headers(central)
    assert device.http.post(f"/v1/devices/{device.device_id}/revoke", headers=headers).status_code == 200
    r = device.enroll(token)
    assert (r.status_code, error_of(r)) == (403, "device_revoked")


def test_expired_token(central):
    token, _ = central.central.create_enroll_token(ttl_s=60)
    central.clock.shift = 61
    assert error_of(Device(central.url).enroll(token)) == "invalid_token"


# ------------------------------------------------------------------ records

def test_record_accepted_replayed_and_conflicting(central):
    device = enrolled(central)
    record = device.record()
    first = device.post_records([record])
    assert first.status_code == 200
    result = first.json()["results"][0]
    assert result["status"] == 201 and result["record_id"] == record["signed"]["record_id"]
    receipt_public = Ed25519PublicKey.from_public_bytes(device.receipt_public)
    assert receipt_problem(result["receipt"], record, receipt_public) is None
    replay = device.post_records([record])
    again = replay.json()["results"][0]
    assert again["status"] == 200
    assert canonical(again["receipt"]) == canonical(result["receipt"])  # byte-identical receipt
    start = replay.content.index(b'"receipt":') + len(b'"receipt":')
    assert replay.content[start:start + len(canonical(result["receipt"]))] == canonical(result["receipt"])
    changed = device.record(seq=1, record_id=record["signed"]["record_id"], payload={"rating": 1})
    seq_clash = device.record(seq=1)
    r = device.post_records([changed, seq_clash]).json()["results"]
    assert [(x["status"], x["error"]) for x in r] == [(409, "conflict"), (409, "seq_conflict")]
    assert central.central.repo.count_records() == 1


def test_batch_sees_earlier_records_and_keeps_order(central):
    device = enrolled(central)
    a, b = device.record(), device.record()
    answer = device.post_records([a, b, a, "junk"])
    assert answer.content == canonical(answer.json())  # the answer is assembled from texts: still C(x)
    results = answer.json()["results"]
    assert [x["status"] for x in results] == [201, 201, 200, 400]
    assert [x["index"] for x in results] == [0, 1, 2, 3]
    assert results[0]["receipt"] == results[2]["receipt"]
    assert results[3] == {"index": 3, "record_id": None, "status": 400, "error": "invalid_record"}


def test_racing_uploads_of_one_batch_store_it_once(central):
    """Two connections send the same batch at once (a kiosk retrying while its first try is still in
    flight): one bulk insert wins, the other hits the unique keys, retries, and answers 200 with the
    winner's receipts."""
    from concurrent.futures import ThreadPoolExecutor

    device = enrolled(central)
    for _ in range(5):
        batch = [device.record() for _ in range(40)]
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: device.post_records(batch).json()["results"], range(2)))
        for first, second in zip(*answers):  # each record: stored by exactly one, replayed by the other
            assert sorted((first["status"], second["status"])) == [200, 201]
            assert canonical(first["receipt"]) == canonical(second["receipt"])
    assert central.central.repo.count_records() == 200


def test_record_rules_in_order(central):
    device = enrolled(central)
    other = enrolled(central)
    bad_sig = device.record()
    bad_sig["sig"] = b64u_encode(bytes(64))
    foreign = other.record()  # signed by another device, claims that device
    claims_other = device.record(device_id=other.device_id)
    big = device.record(payload={"t": "x" * 70000})
    wrong_rk = build_record(device_key=device.key, device_id=device.device_id,
                            record_public=X25519PrivateKey.generate().public_key(), record_id=uuid7(),
                            kind="feedback", schema_version=1, created_at="2025-01-01T00:00:00.000Z", seq=90,
                            plaintext={"a": 1})
    moved = device.record(seq=91)  # payload sealed for another record_id: does not open
    donor = device.record(seq=92)
    moved["signed"]["payload"] = donor["signed"]["payload"]
    moved = sig.sign_object(device.key, sig.RECORD, moved["signed"])
    not_json = device.record(seq=93)
    extra = device.record(seq=94)
    extra["signed"]["extra"] = 1
    results = device.post_records([bad_sig, foreign, claims_other, big, wrong_rk, moved, not_json, extra]).json()
    got = [(x["status"], x.get("error")) for x in results["results"]]
    assert got[:6] == [(422, "bad_signature"), (403, "device_mismatch"), (403, "device_mismatch"),
                       (413, "record_too_large"), (422, "unknown_record_key"), (422, "bad_payload")]
    assert got[6] == (201, None) and got[7] == (400, "invalid_record")
    assert central.central.repo.count_records() == 1


def test_seq_conflict_wins_over_bad_payload(central):
    device = enrolled(central)
    device.post_records([device.record(seq=5)])
    moved = device.record(seq=5)
    moved["signed"]["payload"] = device.record(seq=6)["signed"]["payload"]
    moved = sig.sign_object(device.key, sig.RECORD, moved["signed"])
    assert device.post_records([moved]).json()["results"][0]["error"] == "seq_conflict"


# ------------------------------------------------------------------ request errors (§4, §9)

def test_request_errors(central):
    device = enrolled(central)
    body = canonical({"records": [device.record()]})
    r = device.send("POST", "/v1/records", b"x" * (4 * 1024 * 1024 + 1))
    assert (r.status_code, error_of(r)) == (413, "body_too_large")
    r = device.http.post("/v1/records", content=body, headers={"Content-Type": "application/json"})
    assert (r.status_code, error_of(r)) == (401, "unauthenticated")
    r = device.send("POST", "/v1/records", body, timestamp=int(time.time()) - 301)
    assert (r.status_code, error_of(r)) == (401, "clock_skew") and "server_time" in r.json()
    r = Device(central.url).send("POST", "/v1/records", body)
    assert (r.status_code, error_of(r)) == (401, "unknown_device")
    r = device.send("POST", "/v1/records", body, sign_body=b"{}")
    assert (r.status_code, error_of(r)) == (401, "bad_signature")
    r = device.send("POST", "/v1/records", body, content_type="text/plain")
    assert (r.status_code, error_of(r)) == (415, "unsupported_media_type")
    assert device.send("POST", "/v1/records", body, content_type="application/json; charset=utf-8"
                       ).status_code == 200
    r = device.send("POST", "/v1/records", b'{"records":[1.5]}')
    assert (r.status_code, error_of(r)) == (400, "malformed_body")
    for bad in (b"{}", b'{"records":[]}', b'{"records":{}}', b'{"records":[1],"x":1}', b"[]"):
        r = device.send("POST", "/v1/records", bad)
        assert (r.status_code, error_of(r)) == (400, "invalid_request"), bad
    r = device.send("POST", "/v1/records", canonical({"records": [1] * 501}))
    assert (r.status_code, error_of(r)) == (413, "batch_too_large")


def test_replayed_nonce_and_revocation(central):
    device = enrolled(central)
    body = canonical({"records": [device.record()]})
    nonce, ts = bytes(range(16)), int(time.time())
    assert device.send("POST", "/v1/records", body, nonce=nonce, timestamp=ts).status_code == 200
    r = device.send("POST", "/v1/records", body, nonce=nonce, timestamp=ts)
    assert (r.status_code, error_of(r)) == (401, "replayed_nonce")
    device.http.post(f"/v1/devices/{device.device_id}/revoke", headers=operator_headers(central))
    r = device.post_records([device.record()])
    assert (r.status_code, error_of(r)) == (403, "device_revoked")


def test_central_clock_is_what_counts(central):
    device = enrolled(central)
    central.clock.shift = 1000  # the kiosk's clock is 1000 s behind central's
    r = device.post_records([device.record()])
    assert error_of(r) == "clock_skew"
    skew = r.json()["server_time"]
    assert device.send("POST", "/v1/records", canonical({"records": [device.record()]}),
                       timestamp=int(time.time() + 1000)).status_code == 200, skew


# ------------------------------------------------------------------ heartbeats, fleet, operator

def test_heartbeat_and_fleet_status(central):
    device = enrolled(central)
    headers = operator_headers(central)
    view = lambda: device.http.get(f"/v1/devices/{device.device_id}", headers=headers).json()  # noqa: E731
    assert view()["status"] == "never_seen"
    body = device.heartbeat_body(extra_key="ignored")
    r = device.send("POST", "/v1/heartbeats", canonical(body))
    assert r.status_code == 200 and set(r.json()) == {"server_time", "heartbeat_interval_s", "feeds"}
    d = view()
    assert d["status"] == "online" and d["last_heartbeat"]["peripherals"]["printer"] == "paper_low"
    assert d["last_heartbeat"] == body  # as sent (§8), the unknown key too: ignored, not dropped
    central.clock.shift = 91
    assert view()["status"] == "late"
    central.clock.shift = 301
    assert view()["status"] == "offline"
    central.clock.shift = 0
    bad = device.heartbeat_body(outbox={"depth": -1, "oldest_age_s": 0, "quarantined": 0})
    assert error_of(device.send("POST", "/v1/heartbeats", canonical(bad))) == "invalid_request"
    other = device.heartbeat_body(device_id="d_" + "0" * 32)
    r = device.send("POST", "/v1/heartbeats", canonical(other))
    assert (r.status_code, error_of(r)) == (403, "device_mismatch")


def test_device_view_counts_missing_seq(central):
    device = enrolled(central)
    device.post_records([device.record(seq=1), device.record(seq=2), device.record(seq=5)])
    headers = operator_headers(central)
    d = device.http.get(f"/v1/devices/{device.device_id}", headers=headers).json()
    assert d["records"] == {"count": 3, "max_seq": 5, "missing": 2}
    assert set(d) == {"device_id", "label", "status", "enrolled_at", "revoked_at", "last_seen_at",
                      "last_heartbeat", "records"}
    listing = device.http.get("/v1/devices", headers=headers).json()["devices"]
    assert [x["device_id"] for x in listing] == [device.device_id]


def test_operator_endpoints(central):
    device = enrolled(central)
    http = device.http
    for method, path in (("GET", "/v1/devices"), ("GET", f"/v1/devices/{device.device_id}"),
                         ("POST", f"/v1/devices/{device.device_id}/revoke"), ("POST", "/v1/enroll-tokens")):
        r = http.request(method, path, headers={"Authorization": "Bearer eo_nope"})
        assert (r.status_code, error_of(r)) == (401, "operator_auth_required")
    headers = operator_headers(central)
    assert error_of(http.get("/v1/devices/d_" + "0" * 32, headers=headers)) == "not_found"
    assert http.post("/v1/devices/nope/revoke", headers=headers).status_code == 404
    first = http.post(f"/v1/devices/{device.device_id}/revoke", json={"reason": "stolen"}, headers=headers)
    second = http.post(f"/v1/devices/{device.device_id}/revoke", headers=headers)
    assert first.json()["status"] == second.json()["status"] == "revoked"
    assert first.json()["revoked_at"] == second.json()["revoked_at"]  # idempotent
    r = http.post("/v1/enroll-tokens", json={"uses": 2, "ttl_s": 600, "label": "pilot"}, headers=headers)
    assert r.status_code == 201 and set(r.json()) == {"token", "expires_at", "uses"}
    token = r.json()["token"]
    assert token.startswith("et_") and len(token) == 35
    assert Device(central.url).enroll(token).status_code == 201
    assert http.post("/v1/enroll-tokens", json={"ttl_s": 59}, headers=headers).status_code == 400


def test_health_metrics_and_unknown_routes(central):
    device = enrolled(central)
    device.post_records([device.record()])
    assert httpx.get(central.url + "/healthz").json() == {"status": "ok"}
    text = httpx.get(central.url + "/metrics").text
    assert "estation_records_total 1" in text
    assert 'estation_devices{status="never_seen"} 1' in text and 'estation_devices{status="offline"} 0' in text
    r = httpx.get(central.url + "/v1/nothing")
    assert (r.status_code, error_of(r)) == (404, "not_found")
    r = httpx.delete(central.url + "/v1/records")
    assert r.status_code == 405 and error_of(r) == "method_not_allowed"


# ------------------------------------------------------------------ feeds (§7, central side)

def test_feed_publish_fetch_etag_and_rotation(central):
    device = enrolled(central)
    headers = operator_headers(central)
    r = device.http.put("/v1/feeds/jobs", json={"content": {"jobs": ["保洁"]}, "expires_in_s": 3600},
                        headers=headers)
    assert r.status_code == 201 and r.json()["signed"]["version"] == 1
    got = device.send("GET", "/v1/feeds/jobs", content_type=None)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    snapshot = got.json()
    feed_public = Ed25519PublicKey.from_public_bytes(raw_public(central.central.keyring.keys.feed))
    assert sig.verify_object(feed_public, sig.FEED, snapshot) and snapshot["signed"]["content"] == {"jobs": ["保洁"]}
    assert device.send("GET", "/v1/feeds/jobs", content_type=None, headers={"If-None-Match": '"1"'}).status_code == 304
    assert error_of(device.send("GET", "/v1/feeds/policy", content_type=None)) == "unknown_feed"
    assert error_of(device.send("GET", "/v1/feeds/BAD", content_type=None)) == "unknown_feed"
    assert device.http.put("/v1/feeds/jobs", json={"content": {}, "expires_in_s": 59},
                           headers=headers).status_code == 400
    central.clock.shift = 1801  # half the lifetime gone: central re-signs as a new version
    later = device.send("GET", "/v1/feeds/jobs", content_type=None, timestamp=int(time.time() + 1801))
    assert later.json()["signed"]["version"] == 2
    from sync.central.feeds import rotate_feed_key
    link = rotate_feed_key(central.central)
    rotations = device.http.get("/v1/feed-keys").json()["rotations"]
    assert rotations == [link]
    old_public = feed_public
    new_public = Ed25519PublicKey.from_public_bytes(b64u_decode(link["signed"]["new_key"]))
    data = sig.signing_input(sig.FEED_KEY, link["signed"])
    old_public.verify(b64u_decode(link["sig"]), data)
    new_public.verify(b64u_decode(link["sig_new"]), data)


# ------------------------------------------------------------------ receipt tokens (kiosk/receipts.py)

def _receipt_token(device, record, *, signer_key=None) -> str:
    from kiosk.ports import RecordDraft
    from kiosk.receipts import make_receipt
    from sync.identity import DeviceIdentity

    key = signer_key or device.key  # a forger names our kiosk but signs with its own key
    signer = DeviceIdentity(key, raw_public(key), device.device_id)
    s = record["signed"]
    draft = RecordDraft(s["record_id"], s["kind"], 1, s["created_at"], {})
    return make_receipt(draft, seq=s["seq"], pack="xuchang", signer=signer).token


def test_central_checks_a_residents_receipt_token(central):
    device = enrolled(central)
    record = device.record(kind="jobseeker_registration")
    token = _receipt_token(device, record)
    ops = operator_headers(central)

    def check(value, headers=ops):
        return device.http.post("/v1/receipt-tokens/check", json={"token": value}, headers=headers)

    assert check(token, headers={}).status_code == 401
    before = check(token).json()
    assert before["valid"] and before["record"] == {"stored": False}  # kiosk not synced yet: still genuine
    assert before["claims"]["r"] == record["signed"]["record_id"] and before["claims"]["p"] == "xuchang"
    assert device.post_records([record]).status_code == 200
    after = check(token).json()
    assert after["valid"] and after["record"]["stored"] and after["record"]["matches"]
    assert after["device"] == {"device_id": device.device_id, "label": "", "revoked": False}

    forged = _receipt_token(device, record, signer_key=Ed25519PrivateKey.generate())
    assert check(forged).json()["reason"] == "bad_signature"
    stranger = Device(central.url)
    stranger.record_public = device.record_public
    assert check(_receipt_token(stranger, stranger.record())).json()["reason"] == "unknown_device"
    damaged = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert check(damaged).json()["valid"] is False
    for junk in ("", "ES1:", "hello", "ES1:" + "9" * 600):
        answer = check(junk)
        assert answer.status_code == 200 and answer.json()["reason"] == "not_a_token"
    assert check(123).status_code == 400

    # revoked (stolen?) kiosk: what it filed before still checks out, anything else does not
    other = device.record(kind="feedback")
    minted = _receipt_token(device, other)
    assert device.http.post(f"/v1/devices/{device.device_id}/revoke", headers=ops).status_code == 200
    kept = check(token).json()
    assert kept["valid"] and kept["device"]["revoked"] is True
    assert check(minted).json()["reason"] == "device_revoked"


# ------------------------------------------------------------------ concurrency and stored text (review)

def test_a_one_use_token_enrols_one_device_however_many_race_for_it(central):
    """Many kiosks start enrolling with one token at the same instant (a barrier), 5 rounds."""
    repo, now = central.central.repo, time.time()
    for round_ in range(5):
        token, _ = central.central.create_enroll_token(uses=1)
        keys = [raw_public(Ed25519PrivateKey.generate()) for _ in range(16)]
        start = threading.Barrier(len(keys))

        def enroll(public: bytes) -> str:
            start.wait()
            return repo.enroll(device_id=device_id_of(public), public_key=public, token_hash=token_hash(token),
                               hardware_id="hw", software_version="0.1.0", now=now, now_text="t")[0]
        with ThreadPoolExecutor(len(keys)) as pool:
            outcomes = sorted(pool.map(enroll, keys))
        assert outcomes == ["created"] + ["invalid_token"] * 15, (round_, outcomes)
    assert len(repo.devices()) == 5


def test_nul_characters_are_a_400_on_both_engines_never_a_500(central):
    """PostgreSQL cannot store NUL in text; SQLite could, but both answer alike."""
    headers = operator_headers(central)
    token, _ = central.central.create_enroll_token()
    body = Device(central.url).enroll_body(token, hardware_id="pi\u00005")
    assert error_of(r := httpx.post(central.url + "/v1/enroll", json=body)) == "invalid_request", r.text
    assert httpx.post(central.url + "/v1/enroll-tokens", json={"label": "x\u0000"},
                      headers=headers).status_code == 400
    enrolled_device = enrolled(central)
    r = httpx.post(f"{central.url}/v1/devices/{enrolled_device.device_id}/revoke", json={"reason": "a\u0000"},
                   headers=headers)
    assert r.status_code == 400 and error_of(r) == "invalid_request"
    for path in ("/v1/devices/a%00b", "/v1/devices/a%00b/revoke"):
        method = "POST" if path.endswith("revoke") else "GET"
        r = httpx.request(method, central.url + path, headers=headers)
        assert r.status_code in (400, 404) and error_of(r) in ("invalid_request", "not_found"), r.text
    assert len(central.central.repo.devices()) == 1  # nothing half-stored


def test_racing_rotations_never_fork_the_feed_key_chain(central):
    from sync.central.feeds import FeedKeyRotated, rotate_feed_key

    start = threading.Barrier(6)

    def rotate(_: int) -> str:
        start.wait()
        try:
            return rotate_feed_key(central.central)["signed"]["new_key_id"]
        except FeedKeyRotated:
            return "lost"
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(rotate, range(6)))
    links = [json.loads(t) for t in central.central.repo.rotations()]
    assert len(links) == 6 - outcomes.count("lost") >= 1  # one link per winner, nothing from the losers
    assert all(b["signed"]["old_key_id"] == a["signed"]["new_key_id"] for a, b in zip(links, links[1:]))
    active = [k for k in central.central.repo.central_keys() if k[1] == "feed" and not k[3]]
    assert len(active) == 1 and active[0][0] == links[-1]["signed"]["new_key_id"]


def test_racing_fetches_past_the_resign_point_publish_one_new_version(central):
    from sync.central.feeds import current_snapshot, publish

    publish(central.central, "jobs", {"jobs": []}, 100)
    central.clock.shift = 41  # 41 % of the lifetime gone: re-signed before half of it is
    start = threading.Barrier(8)

    def fetch(_: int) -> int:
        start.wait()
        return current_snapshot(central.central, "jobs")[0]
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(fetch, range(8))) == {2}
    assert central.central.repo.latest_feed(name="jobs")[0] == 2


@pytest.mark.parametrize("header, matches", [
    ('"1"', True), ('W/"1"', True), ('"0", "1"', True), ('"0",W/"1"', True), ("*", True),
    ('"2"', False), ('"0", "2"', False), ("1", False), ("", False)])
def test_if_none_match_takes_lists_and_weak_tags(central, header, matches):
    from sync.central.feeds import publish

    publish(central.central, "jobs", {"jobs": []}, 3600)
    device = enrolled(central)
    r = device.send("GET", "/v1/feeds/jobs", content_type=None, headers={"If-None-Match": header})
    assert r.status_code == (304 if matches else 200) and r.headers["etag"] == '"1"'


def test_every_request_over_the_size_limit_is_413_even_where_no_body_is_read(central):
    big = b"x" * (64 * 1024 + 1)
    for method, path in (("GET", "/v1/keys"), ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/v1/devices"),
                         ("GET", "/v1/feed-keys"), ("POST", "/v1/heartbeats"), ("GET", "/dashboard")):
        r = httpx.request(method, central.url + path, content=big)  # a body on a GET: allowed, if odd
        assert r.status_code == 413 and error_of(r) == "body_too_large", (method, path, r.status_code)
    assert httpx.request("GET", central.url + "/v1/keys", content=b"x" * 65536).status_code == 200  # at the limit


def test_an_enroll_token_needs_no_body(central):
    """§8: every field of POST /v1/enroll-tokens is optional, so an empty body is the defaults."""
    r = httpx.post(central.url + "/v1/enroll-tokens", headers=operator_headers(central))
    assert r.status_code == 201 and r.json()["uses"] == 1 and r.json()["token"].startswith("et_")


@pytest.mark.parametrize("db_url", [pytest.param("pg", marks=pytest.mark.pg)], indirect=True)
def test_storage_down_is_503_with_retry_after_then_service_comes_back(central, db_url, pg_url):
    """A real outage: the central's database stops taking connections (its sessions are killed)."""
    import psycopg

    name = db_url.rsplit("/", 1)[1]
    device = enrolled(central)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        r = httpx.get(central.url + "/healthz")
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and error_of(r) == "unavailable"
        r = device.post_records([device.record()])
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and error_of(r) == "unavailable"
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    assert httpx.get(central.url + "/healthz").json() == {"status": "ok"}
    assert device.post_records([device.record()]).status_code == 200


def test_records_fast_path_keeps_the_check_order_and_the_published_route(central):
    """POST /v1/records is answered outside FastAPI (sync/central/api/fast_records.py): same §9 order,
    same error bodies, a streamed body over 4 MiB stopped while it arrives, still in the OpenAPI."""
    device = enrolled(central)
    body = canonical({"records": [device.record()]})
    r = httpx.post(central.url + "/v1/records", content=body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 401 and error_of(r) == "unauthenticated"  # auth before content type
    r = device.send("POST", "/v1/records", body, content_type="text/plain")
    assert r.status_code == 415 and error_of(r) == "unsupported_media_type"
    r = device.send("POST", "/v1/records", b'{"records": [1, 2,]}')
    assert r.status_code == 400 and error_of(r) == "malformed_body"
    r = device.send("POST", "/v1/records", b'{"records": []}')
    assert r.status_code == 400 and error_of(r) == "invalid_request"

    def chunks():
        for _ in range(5):
            yield b" " * (1024 * 1024)  # no Content-Length: counted as it comes
    r = httpx.post(central.url + "/v1/records", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and error_of(r) == "body_too_large"
    assert "post" in httpx.get(central.url + "/openapi.json").json()["paths"]["/v1/records"]
