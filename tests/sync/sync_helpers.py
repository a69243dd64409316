"""Test-side device: crafts (and mis-crafts) SYNC.md requests with the real protocol code."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.jsonprofile import canonical
from sync.protocol.keys import device_id_of, raw_public
from sync.protocol.records import build_record
from sync.protocol.request_auth import sign_request
from sync.protocol.timefmt import format_unix


def uuid7(n: int | None = None) -> str:
    """A UUIDv7 (random unless `n` pins the tail)."""
    ms = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big") if n is None else n
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


class Device:
    def __init__(self, base_url: str, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()
        self.public = raw_public(self.key)
        self.device_id = device_id_of(self.public)
        self.http = httpx.Client(base_url=base_url, timeout=30, trust_env=False)
        self.record_public: X25519PublicKey | None = None
        self.receipt_public: bytes | None = None
        self.seq = 0

    def enroll_body(self, token: str, **overrides: Any) -> dict[str, Any]:
        signed = {"token": token, "device_key": b64u_encode(self.public), "hardware_id": "hw-1",
                  "software_version": "0.1.0", **overrides}
        return sig.sign_object(self.key, sig.ENROLL, signed)

    def enroll(self, token: str) -> httpx.Response:
        r = self.http.post("/v1/enroll", json=self.enroll_body(token))
        if r.status_code in (200, 201):
            body = r.json()
            self.record_public = X25519PublicKey.from_public_bytes(b64u_decode(body["record_key"]["public"]))
            self.receipt_public = b64u_decode(body["receipt_key"]["public"])
        return r

    def record(self, *, seq: int | None = None, record_id: str | None = None, payload: dict | None = None,
               kind: str = "feedback", device_id: str | None = None) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        assert self.record_public is not None
        return build_record(device_key=self.key, device_id=device_id or self.device_id,
                            record_public=self.record_public, record_id=record_id or uuid7(), kind=kind,
                            schema_version=1, created_at=format_unix(time.time()), seq=seq,
                            plaintext=payload if payload is not None else {"rating": 5, "text": "好"})

    def send(self, method: str, path: str, body: bytes = b"", *, content_type: str | None = "application/json",
             timestamp: int | None = None, nonce: bytes | None = None, headers: dict | None = None,
             sign_body: bytes | None = None) -> httpx.Response:
        h = sign_request(self.key, self.device_id, method, path, body if sign_body is None else sign_body,
                         timestamp=int(time.time()) if timestamp is None else timestamp,
                         nonce=nonce or os.urandom(16))
        if content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        return self.http.request(method, path, content=body, headers=h)

    def post_records(self, records: list[Any]) -> httpx.Response:
        return self.send("POST", "/v1/records", canonical({"records": records}))

    def heartbeat_body(self, **overrides: Any) -> dict[str, Any]:
        body = {"device_id": self.device_id, "sent_at": format_unix(time.time()), "software_version": "0.1.0",
                "feeds": {"jobs": {"version": 3, "expires_at": None, "stale": False}},
                "outbox": {"depth": 0, "oldest_age_s": 0, "quarantined": 0},
                "peripherals": {"id_reader": "ok", "printer": "paper_low", "io_board": "ok", "tamper": "closed"},
                "disk_free_bytes": 10**9, "uptime_s": 100}
        body.update(overrides)
        return body
