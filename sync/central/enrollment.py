"""POST /v1/enroll (SYNC.md §3): first failure wins, lost-response retries are answered again."""

from __future__ import annotations

from typing import Any

from sync.central.errors import ApiError
from sync.central.service import LIMITS, Central, token_hash
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode
from sync.protocol.keys import device_id_of, ed25519_key_problem, ed25519_public

ENROLL_FIELDS = frozenset({"token", "device_key", "hardware_id", "software_version"})


def _shape(body: Any) -> tuple[dict[str, Any], bytes]:
    if not sig.is_signed_shape(body) or set(body["signed"]) != ENROLL_FIELDS:
        raise ApiError(400, "invalid_request", "expected {signed: {token, device_key, hardware_id, "
                                               "software_version}, sig}")
    s = body["signed"]
    if not all(isinstance(s[k], str) for k in ENROLL_FIELDS):
        raise ApiError(400, "invalid_request", "every signed field is a string")
    if len(s["hardware_id"]) > 128 or len(s["software_version"]) > 64:
        raise ApiError(400, "invalid_request", "hardware_id ≤ 128, software_version ≤ 64 characters")
    try:
        key = b64u_decode(s["device_key"])
    except ValueError:
        raise ApiError(400, "invalid_request", "device_key is not b64u") from None
    return s, key


def enroll(central: Central, body: Any) -> tuple[int, dict[str, Any]]:
    s, key = _shape(body)
    problem = ed25519_key_problem(key)
    if problem:
        raise ApiError(400, "invalid_key", problem)
    if not sig.verify_object(ed25519_public(key), sig.ENROLL, body):
        raise ApiError(401, "bad_signature", "enroll proof does not verify with device_key")
    device_id = device_id_of(key)
    outcome, device = central.repo.enroll(device_id=device_id, public_key=key, token_hash=token_hash(s["token"]),
                                          hardware_id=s["hardware_id"], software_version=s["software_version"],
                                          now=central.now(), now_text=central.now_text())
    if outcome == "revoked":
        raise ApiError(403, "device_revoked", "this device key was revoked")
    if outcome == "other_token":
        raise ApiError(409, "already_enrolled", "this device key is enrolled with another token")
    if outcome == "invalid_token":
        raise ApiError(401, "invalid_token", "token unknown, expired or used up")
    assert device is not None
    answer = {"device_id": device_id, "label": device.label, **central.keyring.keys.wire(),
              "heartbeat_interval_s": central.settings.heartbeat_interval_s, "limits": dict(LIMITS),
              "server_time": central.now_text()}
    return (200 if outcome == "again" else 201), answer
