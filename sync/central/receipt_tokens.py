"""Central's check of a receipt token (the `ES1:` QR on a resident's printed receipt, kiosk/receipts.py).

An officer scans the receipt a resident brings in; central answers whether the kiosk that printed it
is one of ours and really signed it, and whether the record it names has arrived.  A token carries
no personal data (record id, kind, pack, date, device id, seq), so neither does the answer.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.receipts import TokenError, parse_token
from sync.central.service import Central
from sync.protocol.keys import verify_ed25519

MAX_TOKEN_CHARS = 512  # a token is about 170 characters


def check_receipt_token(central: Central, token: str) -> dict[str, Any]:
    """{"valid": bool, "reason": ... | "claims", "device", "record"}; never raises for a bad token."""
    if len(token) > MAX_TOKEN_CHARS:
        return {"valid": False, "reason": "not_a_token", "detail": f"over {MAX_TOKEN_CHARS} characters"}
    try:
        claims, message, signature = parse_token(token)
    except TokenError as exc:
        return {"valid": False, "reason": "not_a_token", "detail": str(exc)}
    device = central.repo.device(device_id=claims["i"])
    if device is None:
        return {"valid": False, "reason": "unknown_device", "detail": "no kiosk of this central has that id"}
    if not verify_ed25519(central.device_key(device.device_id), signature, message):
        return {"valid": False, "reason": "bad_signature", "detail": "the kiosk's key did not sign this token"}
    record = _record_status(central, claims)
    if device.revoked_at is not None and not record.get("matches"):
        # A revoked kiosk's key may be in a thief's hands: only what it filed before is trusted.
        return {"valid": False, "reason": "device_revoked",
                "detail": f"kiosk revoked at {device.revoked_at} and no matching record arrived"}
    return {"valid": True, "claims": claims,
            "device": {"device_id": device.device_id, "label": device.label,
                       "revoked": device.revoked_at is not None},
            "record": record}


def _record_status(central: Central, claims: dict[str, Any]) -> dict[str, Any]:
    stored = central.repo.stored_record(record_id=claims["r"])
    if stored is None:
        # Not an error: the kiosk may still be offline with the record in its outbox.
        return {"stored": False}
    record, receipt = (json.loads(text) for text in stored)
    signed = record["signed"]
    matches = (signed["device_id"], signed["kind"], signed["seq"]) == (claims["i"], claims["k"], claims["s"])
    return {"stored": True, "matches": matches, "received_at": receipt["signed"]["received_at"]}
