"""Records and receipts (SYNC.md §5): exact shapes, building and checking.

Shape checks return a reason string (None = fine) so callers map them to their own codes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.keys import raw_public, key_id
from sync.protocol.request_auth import DEVICE_ID
from sync.protocol.sealing import MAX_PAYLOAD, MIN_PAYLOAD, SUITES, DEFAULT_SUITE, payload_info, seal_payload
from sync.protocol.timefmt import is_time

KINDS = frozenset({
    "unemployment_registration", "jobseeker_registration", "employment_difficulty_application",
    "public_welfare_job_application", "job_interest", "employment_status_report", "service_request",
    "feedback",
})
RECORD_FIELDS = frozenset({"v", "record_id", "kind", "schema_version", "device_id", "created_at", "seq", "rk",
                           "suite", "payload"})
_SIGNED_OBJECT = frozenset({"signed", "sig"})
RECEIPT_FIELDS = frozenset({"record_id", "device_id", "seq", "record_sha256", "received_at", "key_id"})
UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
KEY_ID = re.compile(r"[0-9a-f]{16}")
MAX_SEQ = 2**53 - 1


class RecordTooLarge(ValueError):
    """The payload is over 65,536 bytes (→ 413 record_too_large)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class RecordShapeError(ValueError):
    """Rule 1 fails (→ 400 invalid_record); the message is the reason."""


class RecordBytes(NamedTuple):
    """What rule 1 decoded on the way, so ingest does not decode it again (a tuple: built per
    record at ingest rates, where a frozen dataclass's __init__ showed)."""

    signature: bytes
    payload: bytes


def checked_record(record: Any) -> RecordBytes:
    """Rule 1: the decoded signature and payload of a record of exactly the record shape;
    raises RecordShapeError, or RecordTooLarge for a payload over 65,536 bytes."""
    if not isinstance(record, dict) or record.keys() != _SIGNED_OBJECT or not isinstance(record["signed"], dict):
        raise RecordShapeError("not a signed object {signed, sig}")
    try:
        signature = b64u_decode(record["sig"])
    except ValueError:
        signature = b""
    if len(signature) != 64:
        raise RecordShapeError("not a signed object {signed, sig}")
    s = record["signed"]
    problem = signed_fields_problem(s)
    if problem:
        raise RecordShapeError(problem)
    try:
        payload = b64u_decode(s["payload"])
    except ValueError:
        raise RecordShapeError("bad payload (not b64u)") from None
    if len(payload) > MAX_PAYLOAD:
        raise RecordTooLarge(f"payload is {len(payload)} bytes, over {MAX_PAYLOAD}")
    if len(payload) < MIN_PAYLOAD:
        raise RecordShapeError("bad payload (shorter than 48 bytes)")
    return RecordBytes(signature, payload)


def signed_fields_problem(s: dict[str, Any]) -> str | None:
    """Rule 1 for the fields of `signed` other than the payload's bytes; the reason, or None."""
    if s.keys() != RECORD_FIELDS:
        return "fields missing or extra"
    checks = (
        ("v", _is_int(s["v"]) and s["v"] == 1),
        ("record_id", isinstance(s["record_id"], str) and UUID7.fullmatch(s["record_id"]) is not None),
        ("kind", isinstance(s["kind"], str) and s["kind"] in KINDS),
        ("schema_version", _is_int(s["schema_version"]) and 1 <= s["schema_version"] <= 65535),
        ("device_id", isinstance(s["device_id"], str) and DEVICE_ID.fullmatch(s["device_id"]) is not None),
        ("created_at", is_time(s["created_at"])),
        ("seq", _is_int(s["seq"]) and 1 <= s["seq"] <= MAX_SEQ),
        ("rk", isinstance(s["rk"], str) and KEY_ID.fullmatch(s["rk"]) is not None),
        ("suite", isinstance(s["suite"], str) and s["suite"] in SUITES),
    )
    for name, ok in checks:
        if not ok:
            return f"bad {name}"
    return None


def record_shape_problem(record: Any) -> str | None:
    """Rule 1: None when `record` has exactly the record shape; raises RecordTooLarge for a big payload."""
    try:
        checked_record(record)
    except RecordShapeError as exc:
        return str(exc)
    return None


def record_hash(record: dict[str, Any]) -> str:
    """h = hex(SHA-256(signing input))."""
    return hashlib.sha256(sig.signing_input(sig.RECORD, record["signed"])).hexdigest()


def record_info(signed: dict[str, Any]) -> bytes:
    return payload_info(signed["device_id"], signed["record_id"], signed["kind"], signed["schema_version"])


def build_record(*, device_key: Ed25519PrivateKey, device_id: str, record_public: X25519PublicKey,
                 record_id: str, kind: str, schema_version: int, created_at: str, seq: int,
                 plaintext: dict[str, Any], suite: str = DEFAULT_SUITE) -> dict[str, Any]:
    """Seal and sign one record; the plaintext is not kept in the result."""
    info = payload_info(device_id, record_id, kind, schema_version)
    payload = seal_payload(plaintext, record_public, info, suite)
    signed = {"v": 1, "record_id": record_id, "kind": kind, "schema_version": schema_version,
              "device_id": device_id, "created_at": created_at, "seq": seq,
              "rk": key_id(raw_public(record_public)), "suite": suite, "payload": b64u_encode(payload)}
    return sig.sign_object(device_key, sig.RECORD, signed)


def build_receipt(receipt_key: Ed25519PrivateKey, record: dict[str, Any], received_at: str) -> dict[str, Any]:
    s = record["signed"]
    return sig.sign_object(receipt_key, sig.RECEIPT, {
        "record_id": s["record_id"], "device_id": s["device_id"], "seq": s["seq"], "record_sha256": record_hash(record),
        "received_at": received_at, "key_id": key_id(raw_public(receipt_key))})


def receipt_text(receipt_key: Ed25519PrivateKey, record: dict[str, Any], received_at: str, *,
                 record_sha256: str, receipt_key_id: str) -> str:
    """C(build_receipt(...)) for ingest, which already has the hash and key id and stores the text.

    For a record that passed rule 1 and a time text from central's clock, every value is ASCII that
    JSON writes without escapes (ids, hex, time text) or a small int, so C(receipt body) is written
    out directly in sorted key order, a fifth of json.dumps's cost at ingest rates; a property test
    holds it to `build_receipt`."""
    s = record["signed"]
    signing = (f'{sig.RECEIPT}\n{{"device_id":"{s["device_id"]}","key_id":"{receipt_key_id}",'
               f'"received_at":"{received_at}","record_id":"{s["record_id"]}",'
               f'"record_sha256":"{record_sha256}","seq":{s["seq"]}}}').encode("ascii")
    return sig.signed_text(b64u_encode(receipt_key.sign(signing)), signing)


def record_signing_input(s: dict[str, Any]) -> bytes:
    """signing_input(RECORD, s) for a `signed` that passed rule 1 (`checked_record`): its strings are
    ids, hex, b64u, time text or names from fixed sets, its numbers small ints, so C(s) is the ten
    fields in sorted key order, written out directly; a property test holds it to `signing_input`."""
    return (f'{sig.RECORD}\n{{"created_at":"{s["created_at"]}","device_id":"{s["device_id"]}",'
            f'"kind":"{s["kind"]}","payload":"{s["payload"]}","record_id":"{s["record_id"]}",'
            f'"rk":"{s["rk"]}","schema_version":{s["schema_version"]},"seq":{s["seq"]},'
            f'"suite":"{s["suite"]}","v":{s["v"]}}}').encode("ascii")


def receipt_problem(receipt: Any, record: dict[str, Any], receipt_public: Ed25519PublicKey) -> str | None:
    """The kiosk's check before deleting a record: None when the receipt is good for `record`."""
    if not sig.is_signed_shape(receipt) or set(receipt["signed"]) != RECEIPT_FIELDS:
        return "receipt has the wrong shape"
    r, s = receipt["signed"], record["signed"]
    expected = {"record_id": s["record_id"], "device_id": s["device_id"], "seq": s["seq"],
                "record_sha256": record_hash(record), "key_id": key_id(raw_public(receipt_public))}
    for name, value in expected.items():
        if r[name] != value or type(r[name]) is not type(value):
            return f"receipt {name} does not match"
    if not is_time(r["received_at"]):
        return "receipt received_at is not a time"
    if not sig.verify_object(receipt_public, sig.RECEIPT, receipt):
        return "receipt signature does not verify with the pinned key"
    return None
