"""Provisioning (SYNC.md §3, kiosk side): device key, POST /v1/enroll, pin central's keys."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import httpx

from kiosk.errors import EstationError, UsageError
from sync.client import CentralClient
from sync.enrollment import Enrollment, save_enrollment
from sync.heartbeat import SOFTWARE_VERSION
from sync.identity import load_or_create_identity
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.keys import key_id
from sync.protocol.timefmt import parse_time

KEY_FILE = "device.key"


class ProvisionFailed(EstationError, RuntimeError):
    message_id = "error.sync.provision"


def _key(answer: dict[str, Any], name: str) -> str:
    k = answer.get(name)
    try:
        raw = b64u_decode(k["public"])
        if len(raw) != 32 or k["key_id"] != key_id(raw):
            raise ValueError
    except (TypeError, KeyError, ValueError):
        raise ProvisionFailed(f"central's answer has no valid {name}") from None
    return k["public"]


def provision(*, sync_dir: Path, central_url: str, token: str, central_pub_hex: str | None = None,
              hardware_id: str | None = None, transport: httpx.BaseTransport | None = None) -> Enrollment:
    if central_pub_hex is not None and (len(central_pub_hex) != 64 or
                                        any(c not in "0123456789abcdef" for c in central_pub_hex)):
        raise UsageError("--central-pub: expected 64 lowercase hex characters (estation-central keys: receipt)")
    client = CentralClient(central_url, transport=transport)
    identity, _ = load_or_create_identity(sync_dir / KEY_FILE)
    hardware = (hardware_id or platform.node() or "unknown")[:128]
    proof = sig.sign_object(identity.key, sig.ENROLL, {
        "token": token, "device_key": b64u_encode(identity.public), "hardware_id": hardware,
        "software_version": SOFTWARE_VERSION})
    try:
        answer = client.request("POST", "/v1/enroll", proof, signed=False)
    except httpx.HTTPError as exc:
        raise ProvisionFailed(f"cannot reach central at {client.base_url}: {type(exc).__name__}") from None
    finally:
        client.close()
    if answer.status not in (200, 201) or not isinstance(answer.body, dict):
        raise ProvisionFailed(f"central refused enrollment: {answer.status} {answer.error or ''}".strip(),
                              hint="check the token (one use, 24 h by default) and the URL")
    body = answer.body
    if body.get("device_id") != identity.device_id:
        raise ProvisionFailed("central answered for another device_id")
    receipt_key = _key(body, "receipt_key")
    if central_pub_hex is not None and b64u_decode(receipt_key).hex() != central_pub_hex:
        raise ProvisionFailed("central's receipt key differs from --central-pub: not the expected central",
                              hint="compare with `estation-central keys` on the central host")
    limits = body.get("limits") if isinstance(body.get("limits"), dict) else {}
    try:
        offset = parse_time(body.get("server_time")).timestamp() - client.now()
    except ValueError:
        offset = 0.0
    enrollment = Enrollment(
        central_url=client.base_url, device_id=identity.device_id, label=str(body.get("label", "")),
        receipt_key=receipt_key, record_key=_key(body, "record_key"),
        record_key_id=body["record_key"]["key_id"], feed_key=_key(body, "feed_key"),
        heartbeat_interval_s=int(body.get("heartbeat_interval_s") or 60),
        max_body_bytes=int(limits.get("max_body_bytes", 4194304)), max_batch=int(limits.get("max_batch", 500)),
        clock_offset_s=offset if abs(offset) > 2 else 0.0)
    save_enrollment(sync_dir, enrollment)
    return enrollment
