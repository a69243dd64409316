"""Payload sealing (SYNC.md §5): HPKE base mode, single shot, bound to its record by `info`."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from sync.protocol.jsonprofile import ProfileViolation, canonical, parse_profile

DEFAULT_SUITE = "X25519-SHA256-CHACHA20POLY1305"
SUITES = {
    DEFAULT_SUITE: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305),
    "X25519-SHA256-AES128GCM": hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM),
}
MIN_PAYLOAD = 48  # enc (32) + tag (16)
MAX_PAYLOAD = 65536


def payload_info(device_id: str, record_id: str, kind: str, schema_version: int) -> bytes:
    return "\n".join(("estation-payload-v1", device_id, record_id, kind, str(schema_version))).encode("utf-8")


def seal_payload(plaintext: dict[str, Any], record_public: X25519PublicKey, info: bytes,
                 suite: str = DEFAULT_SUITE) -> bytes:
    """enc ‖ ciphertext ‖ tag of C(plaintext)."""
    return SUITES[suite].encrypt(canonical(plaintext), record_public, info=info)


def open_payload(payload: bytes, record_private: X25519PrivateKey, info: bytes,
                 suite: str = DEFAULT_SUITE) -> dict[str, Any]:
    """The plaintext object; raises ValueError when it does not open or is not a profile object."""
    try:
        plaintext = SUITES[suite].decrypt(payload, record_private, info=info)
    except Exception as exc:  # InvalidTag and friends: the payload does not open with this key/info
        raise ValueError("payload does not open") from exc
    try:
        value = parse_profile(plaintext)
    except ProfileViolation as exc:
        raise ValueError(f"payload is not profile JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value
