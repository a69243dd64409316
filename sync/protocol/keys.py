"""Key handling (SYNC.md §1-2): raw 32-byte keys, key_id, device_id, small-order refusal."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

_P = 2**255 - 19
# Encodings of the small-order points (y-coordinate, little-endian, sign bit cleared):
# OpenSSL verifies signatures under them, so anyone could forge for such a "device".
_SMALL_ORDER = frozenset(bytes.fromhex(h) for h in (
    "00" * 32,
    "01" + "00" * 31,
    "ec" + "ff" * 30 + "7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
))


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey | X25519PrivateKey | X25519PublicKey) -> bytes:
    if isinstance(key, (Ed25519PrivateKey, X25519PrivateKey)):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def device_id_of(device_public: bytes) -> str:
    return "d_" + hashlib.sha256(device_public).hexdigest()[:32]


def ed25519_key_problem(public: bytes) -> str | None:
    """Why central must refuse this device key at enrollment, or None when acceptable."""
    if len(public) != 32:
        return "an Ed25519 public key is 32 bytes"
    cleared = public[:31] + bytes([public[31] & 0x7F])
    if int.from_bytes(cleared, "little") >= _P:
        return "non-canonical point encoding"
    if cleared in _SMALL_ORDER:
        return "small-order point"
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        return "not a point on the curve"
    return None


def ed25519_public(public: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public)


def verify_ed25519(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True
