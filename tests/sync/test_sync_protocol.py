"""sync.protocol against SYNC.md §1, §4, §5 and the §11 test vector, byte for byte."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

import sync_vector as V
from kiosk.ids import uuid7 as make_uuid7
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.jsonprofile import ProfileViolation, canonical, parse_profile
from sync.protocol.keys import device_id_of, ed25519_key_problem, key_id, raw_public
from sync.protocol.records import (KINDS, build_receipt, build_record, checked_record, receipt_problem, receipt_text,
                                   record_hash, record_info, record_shape_problem, record_signing_input, RecordTooLarge)
from sync.protocol.request_auth import parse_auth_headers, sign_request
from sync.protocol.sealing import open_payload, payload_info
from sync.protocol.timefmt import parse_time

DEVICE = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(V.DEVICE_SEED))
RECEIPT = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(V.RECEIPT_SEED))
RECORD_KEY = X25519PrivateKey.from_private_bytes(bytes.fromhex(V.RECORD_PRIVATE))


def vector_record() -> dict:
    return {"signed": dict(V.SIGNED), "sig": V.RECORD_SIG}


# ------------------------------------------------------------------ §11 vector

def test_vector_keys_and_ids():
    assert raw_public(DEVICE).hex() == V.DEVICE_PUB
    assert device_id_of(raw_public(DEVICE)) == V.DEVICE_ID
    assert key_id(raw_public(RECORD_KEY)) == V.RK
    assert raw_public(RECORD_KEY).hex().startswith("de9edb7d") and raw_public(RECORD_KEY).hex().endswith("882b4f")
    assert key_id(raw_public(RECEIPT)) == V.RECEIPT_KEY_ID


def test_vector_record_signature_and_hash():
    assert sig.signing_input(sig.RECORD, V.SIGNED) == V.SIGNING_INPUT
    assert sig.sign_object(DEVICE, sig.RECORD, V.SIGNED) == vector_record()
    assert record_hash(vector_record()) == V.RECORD_H
    assert record_shape_problem(vector_record()) is None
    assert sig.verify_object(DEVICE.public_key(), sig.RECORD, vector_record())


def test_vector_payload_opens_only_with_its_info():
    payload = b64u_decode(V.SIGNED["payload"])
    assert open_payload(payload, RECORD_KEY, record_info(V.SIGNED)) == V.PLAINTEXT
    moved = payload_info(V.DEVICE_ID, "01943e2a-5c00-7000-8000-000000000002", "feedback", 1)
    with pytest.raises(ValueError):
        open_payload(payload, RECORD_KEY, moved)
    with pytest.raises(ValueError):
        open_payload(payload, X25519PrivateKey.generate(), record_info(V.SIGNED))


def test_vector_receipt():
    receipt = build_receipt(RECEIPT, vector_record(), V.RECEIVED_AT)
    assert receipt["sig"] == V.RECEIPT_SIG
    assert receipt["signed"] == {"record_id": V.SIGNED["record_id"], "device_id": V.DEVICE_ID, "seq": 1,
                                 "record_sha256": V.RECORD_H, "received_at": V.RECEIVED_AT,
                                 "key_id": V.RECEIPT_KEY_ID}
    assert receipt_problem(receipt, vector_record(), RECEIPT.public_key()) is None


def test_vector_request_signature():
    headers = sign_request(DEVICE, V.DEVICE_ID, "GET", "/v1/feeds/jobs", b"", timestamp=1735689600,
                           nonce=bytes(16))
    assert headers == {"Estation-Device": V.DEVICE_ID, "Estation-Timestamp": "1735689600",
                       "Estation-Nonce": "AAAAAAAAAAAAAAAAAAAAAA", "Estation-Signature": V.REQUEST_SIG}
    assert parse_auth_headers(headers) is not None


# ------------------------------------------------------------------ receipts refused by the kiosk

@pytest.mark.parametrize("field, value", [("seq", 2), ("record_sha256", "0" * 64), ("device_id", "d_" + "0" * 32),
                                          ("key_id", "0" * 16), ("received_at", "2025-13-01T00:00:00.000Z")])
def test_receipt_with_a_wrong_field_is_refused(field, value):
    receipt = build_receipt(RECEIPT, vector_record(), V.RECEIVED_AT)
    receipt["signed"][field] = value
    assert receipt_problem(receipt, vector_record(), RECEIPT.public_key()) is not None


def test_receipt_signed_by_another_key_or_domain_is_refused():
    other = build_receipt(Ed25519PrivateKey.generate(), vector_record(), V.RECEIVED_AT)
    assert receipt_problem(other, vector_record(), RECEIPT.public_key()) is not None
    cross = sig.sign_object(RECEIPT, sig.FEED, build_receipt(RECEIPT, vector_record(), V.RECEIVED_AT)["signed"])
    assert receipt_problem(cross, vector_record(), RECEIPT.public_key()) == \
        "receipt signature does not verify with the pinned key"


# ------------------------------------------------------------------ b64u

@given(st.binary(max_size=80))
def test_b64u_round_trip(data):
    text = b64u_encode(data)
    assert "=" not in text and b64u_decode(text) == data


@pytest.mark.parametrize("text", ["AA==", "AA=", "A", "AB", "AAA B", "AA\n", "A+/A", "AAF", "AB==", " AA"])
def test_b64u_rejects_non_canonical(text):
    with pytest.raises(ValueError):
        b64u_decode(text)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ \n", max_size=12))
def test_b64u_decodes_only_what_it_encodes(text):
    try:
        data = b64u_decode(text)
    except ValueError:
        return
    assert b64u_encode(data) == text


def _b64u_reference(text: str) -> bytes:
    """The decoder's contract written the slow, obvious way."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u_encode(data) != text:
        raise ValueError
    return data


@given(st.one_of(st.text(alphabet="Aw-_+/=\n é", max_size=8), st.text(max_size=16),
                 st.binary(max_size=20).map(b64u_encode)))
def test_b64u_decode_agrees_with_the_reference(text):
    try:
        expected = _b64u_reference(text)
    except ValueError:
        with pytest.raises(ValueError):
            b64u_decode(text)
    else:
        assert b64u_decode(text) == expected


# ------------------------------------------------------------------ JSON profile and C(x)

@pytest.mark.parametrize("raw", [
    b'\xef\xbb\xbf{}', b'{"a":1,"a":2}', '{"é":1}'.encode(), b'{"a":1.0}', b'{"a":1e3}', b'{"a":NaN}',
    b'{"a":Infinity}', b'{"a":9007199254740992}', b'{"a":-9007199254740992}', b'{"a":"\\ud800"}',
    b'\xff', b'{"a":', b"[" * 33 + b"]" * 33, b"[" * 100000, b"", b"{'a':1}",
])
def test_profile_rejects(raw):
    with pytest.raises(ProfileViolation):
        parse_profile(raw)


def test_profile_accepts_limits():
    assert parse_profile(b'{"a":9007199254740991,"b":-9007199254740991}')["a"] == 2**53 - 1
    assert parse_profile(b"[" * 32 + b"]" * 32) is not None
    assert parse_profile('{"t":"保洁 \\ud83d\\ude00"}'.encode()) == {"t": "保洁 😀"}


profile_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)),
                                                              inner, max_size=4),
    max_leaves=20,
).filter(lambda v: not any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(v, ensure_ascii=False)))


@given(profile_values)
def test_canonical_round_trips_and_is_stable(value):
    raw = canonical(value)
    assert parse_profile(raw) == value
    assert canonical(parse_profile(raw)) == raw


def _reference_profile(raw: bytes):
    """The profile spelled out slowly: every object, every string, every depth checked."""
    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys) or not all(k.isascii() for k in keys):
            raise ValueError("key")
        return dict(items)

    def walk(value, depth):
        if isinstance(value, str):
            value.encode("utf-8")
        elif isinstance(value, (list, dict)):
            if depth > 32:
                raise ValueError("depth")
            for child in (value.values() if isinstance(value, dict) else value):
                walk(child, depth + 1)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
            raise ValueError("int")

    if raw.startswith(b"\xef\xbb\xbf"):
        raise ValueError("bom")
    value = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs,
                       parse_float=lambda t: (_ for _ in ()).throw(ValueError("float")),
                       parse_constant=lambda t: (_ for _ in ()).throw(ValueError("constant")))
    walk(value, 1)
    return value


json_fragments = st.sampled_from(['{', '}', '[', ']', ',', ':', '"a"', '"b"', '"é"', '"\\ud800"', '"\\udc00x"',
                                  '"\\ud83d\\ude00"', '"\\\\ud800"', '1', '-9007199254740992', '1.5', 'true',
                                  'null', '"\\u00e9"', ' '])


@given(st.lists(json_fragments, max_size=40) | st.builds(lambda n, inner: "[" * n + inner + "]" * n,
                                                        st.integers(25, 40), json_fragments))
def test_profile_parser_agrees_with_the_slow_reference(parts):
    raw = ("".join(parts) if isinstance(parts, list) else parts).encode("utf-8")
    try:
        expected = ("ok", _reference_profile(raw))
    except (ValueError, RecursionError, UnicodeEncodeError):
        expected = ("refused", None)
    try:
        got = ("ok", parse_profile(raw))
    except ProfileViolation:
        got = ("refused", None)
    assert got == expected


def test_canonical_matches_jcs_examples():
    assert canonical({"b": 1, "a": [True, None, "é\u2028"], "c": {"z": -0, "y": "\n"}}) == \
        '{"a":[true,null,"é\u2028"],"b":1,"c":{"y":"\\n","z":0}}'.encode()


# ------------------------------------------------------------------ keys and records

SMALL_ORDER = ["00" * 32, "01" + "00" * 31, "ec" + "ff" * 30 + "7f",
               "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
               "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"]


@pytest.mark.parametrize("hex_key", SMALL_ORDER + [h[:-2] + format(int(h[-2:], 16) | 0x80, "02x") for h in SMALL_ORDER]
                         + ["ee" + "ff" * 30 + "7f", "ff" * 32, "00" * 31])
def test_small_order_and_non_canonical_keys_refused(hex_key):
    assert ed25519_key_problem(bytes.fromhex(hex_key)) is not None


def test_real_keys_accepted():
    assert ed25519_key_problem(bytes.fromhex(V.DEVICE_PUB)) is None
    assert ed25519_key_problem(raw_public(Ed25519PrivateKey.generate())) is None


def test_built_record_round_trips():
    record = build_record(device_key=DEVICE, device_id=V.DEVICE_ID, record_public=RECORD_KEY.public_key(),
                          record_id="01943e2a-5c00-7000-8000-0000000000aa", kind="job_interest", schema_version=3,
                          created_at="2025-01-01T00:00:00.000Z", seq=7, plaintext={"job": "保洁"})
    assert record_shape_problem(record) is None
    assert sig.verify_object(DEVICE.public_key(), sig.RECORD, record)
    assert open_payload(b64u_decode(record["signed"]["payload"]), RECORD_KEY, record_info(record["signed"])) == \
        {"job": "保洁"}


@pytest.mark.parametrize("field, value", [
    ("v", 2), ("v", True), ("record_id", "01943E2A-5C00-7000-8000-000000000001"),
    ("record_id", "01943e2a-5c00-4000-8000-000000000001"), ("kind", "other"), ("schema_version", 0),
    ("schema_version", 65536), ("device_id", "d_XYZ"), ("created_at", "2025-01-01T00:00:00Z"), ("seq", 0),
    ("seq", "1"), ("rk", "F35E5616160A30BF"), ("suite", "X25519-SHA256-AES256GCM"), ("payload", "AAAA"),
    ("payload", "A="),
])
def test_record_shape_problems(field, value):
    record = vector_record()
    record["signed"][field] = value
    assert record_shape_problem(record) is not None


def test_record_shape_extra_or_missing_and_large_payload():
    record = vector_record()
    record["signed"]["extra"] = 1
    assert record_shape_problem(record) is not None
    assert record_shape_problem({"signed": V.SIGNED}) is not None
    assert record_shape_problem({"signed": V.SIGNED, "sig": "AA"}) is not None
    record = vector_record()
    record["signed"]["payload"] = b64u_encode(bytes(65537))
    with pytest.raises(RecordTooLarge):
        record_shape_problem(record)
    record["signed"]["payload"] = b64u_encode(bytes(65536))
    assert record_shape_problem(record) is None


@pytest.mark.parametrize("text", ["2025-02-29T00:00:00.000Z", "2025-01-01T24:00:00.000Z", "2025-01-01T00:00:60.000Z",
                                  "2025-01-01 00:00:00.000Z", "2025-01-01T00:00:00.000+00:00"])
def test_time_is_strict(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_time_refuses_non_ascii_digits():
    with pytest.raises(ValueError):
        parse_time("２０２５-01-01T00:00:00.000Z")
    with pytest.raises(ValueError):
        parse_time("0000-01-01T00:00:00.000Z")


@given(st.from_regex(r"[0-9]{4}-[0-3][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9]\.[0-9]{3}Z", fullmatch=True))
def test_time_parser_agrees_with_strptime(text):
    import datetime as dt
    try:
        expected = dt.datetime.strptime(text[:-1] + "000", "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        expected = None
    if expected is None or expected.second == 60 or expected.year == 0:
        with pytest.raises(ValueError):
            parse_time(text)
    else:
        assert parse_time(text) == expected


def test_sig_bytes_are_standard_base64url():
    assert base64.urlsafe_b64decode(V.RECORD_SIG + "==") == b64u_decode(V.RECORD_SIG)


@given(st.binary(max_size=40), st.integers(0, 63))
def test_b64u_refuses_every_other_last_character(data, digit):
    text = b64u_encode(data)
    if not text:
        return
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = text[:-1] + alphabet[digit]
    if other == text:
        assert b64u_decode(other) == data
    else:
        try:
            decoded = b64u_decode(other)
        except ValueError:
            return
        assert decoded != data and b64u_encode(decoded) == other


@given(profile_values.filter(lambda v: isinstance(v, dict)))
def test_signed_text_is_the_canonical_signed_object(value):
    key = Ed25519PrivateKey.generate()
    for domain in sig.DOMAINS:
        assert sig.sign_to_text(key, domain, value).encode("utf-8") == canonical(sig.sign_object(key, domain, value))
    assert receipt_text(RECEIPT, vector_record(), V.RECEIVED_AT, record_sha256=V.RECORD_H,
                        receipt_key_id=key_id(raw_public(RECEIPT))).encode("utf-8") == \
        canonical(build_receipt(RECEIPT, vector_record(), V.RECEIVED_AT))


# ------------------------------------------------------------------ C(x) written out by hand at ingest

_DEVICE_KEY, _RECORD_KEY, _RECEIPT_KEY = Ed25519PrivateKey.generate(), X25519PrivateKey.generate(), \
    Ed25519PrivateKey.generate()
_times = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z")


@given(kind=st.sampled_from(sorted(KINDS)), schema_version=st.integers(1, 65535), seq=st.integers(1, 2**53 - 1),
       created_at=_times, received_at=_times, ms=st.integers(0, 2**48 - 1), rand=st.binary(min_size=10, max_size=10),
       plaintext=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text(max_size=20), max_size=3))
def test_hand_written_record_and_receipt_texts_equal_canonical(kind, schema_version, seq, created_at, received_at,
                                                                ms, rand, plaintext):
    """Ingest writes C(signed) and C(receipt body) out directly (sync/protocol/records.py); for every
    record that passes rule 1 they must be exactly the bytes canonical() gives."""
    record = build_record(device_key=_DEVICE_KEY, device_id=device_id_of(raw_public(_DEVICE_KEY)),
                          record_public=_RECORD_KEY.public_key(), record_id=make_uuid7(ms, rand), kind=kind,
                          schema_version=schema_version, created_at=created_at, seq=seq, plaintext=plaintext)
    checked_record(record)  # the premise: rule 1 passed
    assert record_signing_input(record["signed"]) == sig.signing_input(sig.RECORD, record["signed"])
    text = receipt_text(_RECEIPT_KEY, record, received_at, record_sha256=record_hash(record),
                        receipt_key_id=key_id(raw_public(_RECEIPT_KEY)))
    assert text.encode("utf-8") == canonical(build_receipt(_RECEIPT_KEY, record, received_at))
