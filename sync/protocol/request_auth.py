"""Request authentication (SYNC.md §4): a fixed RFC 9421-like profile over four headers.

Pure: the caller passes the clock reading and decides about nonces and devices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol.b64u import b64u_decode, b64u_encode

DEVICE = "Estation-Device"
TIMESTAMP = "Estation-Timestamp"
NONCE = "Estation-Nonce"
SIGNATURE = "Estation-Signature"
MAX_SKEW_S = 300
NONCE_TTL_S = 600

DEVICE_ID = re.compile(r"d_[0-9a-f]{32}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signing_string(method: str, target: str, device_id: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """S: the lines that the device signs; `target` is path+query as on the request line."""
    return "\n".join(("estation-request-v1", method.upper(), target, device_id, timestamp, nonce,
                      hashlib.sha256(body).hexdigest())).encode("utf-8")


def sign_request(key: Ed25519PrivateKey, device_id: str, method: str, target: str, body: bytes,
                 *, timestamp: int, nonce: bytes) -> dict[str, str]:
    """The four headers for one request."""
    ts, nonce_text = str(timestamp), b64u_encode(nonce)
    sig = key.sign(signing_string(method, target, device_id, ts, nonce_text, body))
    return {DEVICE: device_id, TIMESTAMP: ts, NONCE: nonce_text, SIGNATURE: b64u_encode(sig)}


@dataclass(frozen=True)
class AuthHeaders:
    device_id: str
    timestamp: str
    nonce: str
    signature: bytes

    @property
    def unix_time(self) -> int:
        return int(self.timestamp)


def parse_auth_headers(headers: Mapping[str, str]) -> AuthHeaders | None:
    """The headers, well-formed, or None (→ 401 unauthenticated)."""
    device, ts = headers.get(DEVICE), headers.get(TIMESTAMP)
    nonce, sig = headers.get(NONCE), headers.get(SIGNATURE)
    if device is None or ts is None or nonce is None or sig is None:
        return None
    if not DEVICE_ID.fullmatch(device) or not _TIMESTAMP.fullmatch(ts):
        return None
    try:
        if len(b64u_decode(nonce)) != 16:
            return None
        signature = b64u_decode(sig)
    except ValueError:
        return None
    if len(signature) != 64:
        return None
    return AuthHeaders(device, ts, nonce, signature)
