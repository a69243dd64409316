"""Signed objects (SYNC.md §1): `{"signed": O, "sig": b64u(Ed25519(key, D || "\\n" || C(O)))}`.

Each use has its own domain D, so a signature made for one context never verifies in another.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.jsonprofile import canonical
from sync.protocol.keys import verify_ed25519

RECORD = "estation-record-v1"
RECEIPT = "estation-receipt-v1"
FEED = "estation-feed-v1"
FEED_KEY = "estation-feedkey-v1"
ENROLL = "estation-enroll-v1"
DOMAINS = (RECORD, RECEIPT, FEED, FEED_KEY, ENROLL)


def signing_input(domain: str, signed: dict[str, Any]) -> bytes:
    if domain not in DOMAINS:
        raise ValueError(f"unknown signature domain {domain!r}")
    return domain.encode("ascii") + b"\n" + canonical(signed)


def sign_object(key: Ed25519PrivateKey, domain: str, signed: dict[str, Any]) -> dict[str, Any]:
    return {"signed": signed, "sig": b64u_encode(key.sign(signing_input(domain, signed)))}


def signed_text(signature: str, signing: bytes) -> str:
    """C({"signed": O, "sig": signature}) from a signing input D‖"\n"‖C(O) already made: the keys
    sort "sig" < "signed" and b64u needs no escaping, so no second encoding of O is needed."""
    return '{"sig":"' + signature + '","signed":' + signing[signing.index(b"\n") + 1:].decode("utf-8") + "}"


def sign_to_text(key: Ed25519PrivateKey, domain: str, signed: dict[str, Any]) -> str:
    """C(sign_object(key, domain, signed)), encoding `signed` once."""
    signing = signing_input(domain, signed)
    return signed_text(b64u_encode(key.sign(signing)), signing)


def is_signed_shape(obj: Any) -> bool:
    """Exactly `{signed: object, sig: b64u of 64 bytes}`."""
    if not isinstance(obj, dict) or set(obj) != {"signed", "sig"} or not isinstance(obj["signed"], dict):
        return False
    try:
        return len(b64u_decode(obj["sig"])) == 64
    except ValueError:
        return False


def verify_object(public: Ed25519PublicKey, domain: str, obj: dict[str, Any]) -> bool:
    """True when `obj` (already shape-checked) carries a valid signature by `public` in `domain`."""
    return verify_ed25519(public, b64u_decode(obj["sig"]), signing_input(domain, obj["signed"]))
