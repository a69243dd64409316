"""Receipt tokens, their QR codes, record schemas, ids and the message catalogue."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from kiosk import intents as I
from kiosk.i18n import catalogue
from kiosk.ids import uuid7, uuid7_time_ms
from kiosk.policy import load_pack, pack_names
from kiosk.questions import askable_facts, question_for
from kiosk.receipts import TokenError, b45decode, b45encode, b64u, b64u_decode, parse_token, qr_png, verify_token
from kiosk.records import KINDS, SCHEMAS, schema_problems
from session_harness import Ed25519Signer, card, make_session


def verifier(public: bytes):
    key = Ed25519PublicKey.from_public_bytes(public)

    def verify(sig: bytes, msg: bytes) -> bool:
        try:
            key.verify(sig, msg)
            return True
        except InvalidSignature:
            return False

    return verify


def filed_receipt(clock_at: dt.datetime | None = None):
    signer = Ed25519Signer()
    s, clock, sink = make_session("xuchang", signer=signer)
    if clock_at is not None:
        clock.wall = clock_at
    for intent in (I.CardPlaced(card(1)), I.Continue(), I.Consent(True)):
        s.handle(intent)
    while s.question:
        q = s.question
        s.handle(I.Answer(q.fact, {"employed": "no", "receiving_pension": "no", "in_school": "no"}.get(q.fact, "yes")))
    s.handle(I.Apply("unemployment_registration"))
    s.handle(I.Confirm(None))
    return s.receipt, signer, sink.drafts[0]


def test_receipt_token_verifies_with_the_device_key_and_carries_no_personal_data():
    receipt, signer, draft = filed_receipt()
    claims = verify_token(receipt.token, verifier(signer.public))
    assert claims == {"v": 1, "r": draft.record_id, "k": "unemployment_registration", "p": "xuchang",
                      "d": "2026-11-23", "i": signer.device_id, "s": 1}
    assert draft.payload["applicant"]["id_number"] not in receipt.token
    assert len(receipt.token) < 200 and re.fullmatch(r"[0-9A-Z $%*+\-./:]+", receipt.token)  # QR alphanumeric mode


def test_a_tampered_or_foreign_token_is_refused():
    receipt, signer, _ = filed_receipt()
    other = Ed25519Signer(bytes(32))
    with pytest.raises(TokenError, match="does not verify"):
        verify_token(receipt.token, verifier(other.public))
    raw = bytearray(b45decode(receipt.token[4:]))
    raw[-65 - 8] ^= 1  # flip a bit of the seq claim
    with pytest.raises(TokenError, match="does not verify"):
        verify_token("ES1:" + b45encode(bytes(raw)), verifier(signer.public))
    for bad in ("", "ES1", "ES2:" + receipt.token[4:], receipt.token + "=", receipt.token[:-1], "ES1:" + "0" * 30):
        with pytest.raises(TokenError):
            parse_token(bad)


@given(st.one_of(st.text(max_size=300), st.binary(max_size=160).map(lambda b: "ES1:" + b45encode(b))))
def test_parse_token_raises_only_token_error(text):
    try:
        parse_token(text)
    except TokenError:
        pass


def test_receipt_qr_decodes_to_the_token():
    receipt, *_ = filed_receipt()
    image = Image.open(io.BytesIO(qr_png(receipt.token)))
    (found,) = decode(image, symbols=[ZBarSymbol.QRCODE])
    assert found.data.decode() == receipt.token


@given(st.binary(max_size=200))
def test_b45_round_trip(data):
    assert b45decode(b45encode(data)) == data


def test_b45_rfc9285_examples():
    assert b45encode(b"AB") == "BB8" and b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45decode("QED8WEX0") == b"ietf!"
    with pytest.raises(ValueError):
        b45decode("GGW")  # 65535 < value: out of range


@given(st.binary(max_size=64))
def test_b64u_round_trip_and_strictness(data):
    text = b64u(data)
    assert b64u_decode(text) == data and "=" not in text
    if text:
        with pytest.raises(ValueError):
            b64u_decode(text + "=")


# --- records --------------------------------------------------------------------------------------

def test_every_kind_has_a_versioned_schema():
    assert sorted(p.name for p in SCHEMAS.glob("*.v1.json")) == sorted([f"{k}.v1.json" for k in KINDS] + ["common.v1.json"])


def test_schema_rejects_bad_payloads_and_names_the_path():
    _, _, draft = filed_receipt()
    payload = dict(draft.payload)
    assert schema_problems(draft.kind, payload) == []
    assert any(p.startswith("consent") for p in schema_problems(draft.kind, {**payload, "consent": {}}))
    assert any("extra" in p or "Additional" in p for p in schema_problems(draft.kind, {**payload, "extra": 1}))
    assert schema_problems("no_such_kind", payload) == ["unknown record kind 'no_such_kind'"]


@given(st.integers(0, (1 << 48) - 1), st.binary(min_size=10, max_size=10))
def test_uuid7_layout(ms, rand):
    rid = uuid7(ms, rand)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rid)
    assert uuid7_time_ms(rid) == ms


def test_uuid7_sorts_by_time():
    ids = [uuid7(ms, bytes(10)) for ms in (1, 2, 1000, 1 << 40)]
    assert ids == sorted(ids)


# --- the message catalogue ------------------------------------------------------------------------

def test_both_catalogues_have_the_same_keys():
    assert set(catalogue("zh_CN").messages) == set(catalogue("en").messages)


def test_every_question_choice_program_and_kind_has_text():
    zh = catalogue("zh_CN")
    for fact in askable_facts():
        q = question_for(fact)
        assert zh.has(q.prompt_key), q.prompt_key
        for choice in q.choices:
            assert zh.has(choice.label_key), choice.label_key
    for name in pack_names():
        for program in load_pack(name).programs:
            assert zh.has(f"program.{program.id}"), program.id
    for kind in KINDS:
        assert zh.has(f"kind.{kind}")


def test_every_notice_the_session_sets_is_in_the_catalogue():
    source = (SCHEMAS.parent / "session.py").read_text("utf-8")
    keys = set(re.findall(r'"((?:card|consent|timeout|feedback|jobs|apply)\.[a-z_]+)"', source))
    assert keys and all(catalogue("zh_CN").has(k) for k in keys), keys


# --- the CLI, as a clerk would run it --------------------------------------------------------------

def _cli(*argv):
    import subprocess
    import sys

    from session_harness import ROOT
    return subprocess.run([sys.executable, "-m", "kiosk", "receipt", "verify", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_cli_verifies_a_real_receipt():
    import json

    receipt, signer, draft = filed_receipt()
    result = _cli(receipt.token, "--device-key", signer.public.hex())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["r"] == draft.record_id


@pytest.mark.parametrize("case", ["wrong_key", "garbage", "short_key"])
def test_cli_refuses_with_one_error_line(case):
    receipt, signer, _ = filed_receipt()
    argv = {"wrong_key": (receipt.token, "--device-key", Ed25519Signer(bytes(32)).public.hex()),
            "garbage": ("ES1:###", "--device-key", signer.public.hex()),
            "short_key": (receipt.token, "--device-key", "abcd")}[case]
    result = _cli(*argv)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


def test_dates_are_the_kiosks_local_dates_not_utc():
    """The kiosk is open all night: at 07:30 in Xinyu it is still 23:30 the day before in UTC.  A woman
    turning 40 that morning is 40 (the "4050" rule), and her receipt carries that morning's date."""
    s, clock, _ = make_session("xinyu")
    clock.wall = dt.datetime(2025, 6, 8, 23, 30, tzinfo=dt.timezone.utc)
    for intent in (I.CardPlaced(card(2)), I.Continue(), I.Consent(True)):  # born 1985-06-09, Xinyu
        s.handle(intent)
    assert s.evaluation.on == dt.date(2025, 6, 9)  # her 40th birthday, not the eve of it
    clock.wall = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.timezone.utc)  # 04:00 on the 24th at the kiosk
    receipt, signer, _ = filed_receipt(clock_at=clock.wall)
    assert receipt.date == "2026-11-24" and verify_token(receipt.token, verifier(signer.public))["d"] == "2026-11-24"


def test_tokens_carry_pack_names_with_digits_and_underscores():
    from kiosk.receipts import claims_for, decode_claims, encode_claims
    from kiosk.ports import RecordDraft

    draft = RecordDraft(record_id=uuid7(1_700_000_000_000, bytes(10)), kind="feedback", schema_version=1,
                        created_at="2026-11-23T01:02:03.000Z", payload={})
    claims = claims_for(draft, seq=3, pack="shenzhen_2", device_id="d_" + "ab" * 16)
    assert decode_claims(encode_claims(claims)) == claims
