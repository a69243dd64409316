"""`estation receipt verify TOKEN --device-key HEX`: check a receipt token offline.

Prints the token's claims as JSON when the signature verifies with the device's
public key (hex, as `estation-central devices` and provisioning show it);
otherwise one `error:` line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from kiosk.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("receipt", help="receipt tokens")
    sub = p.add_subparsers(dest="receipt_command", required=True, parser_class=type(p))
    v = sub.add_parser("verify", help="verify a receipt token with the device's public key")
    v.add_argument("token", help="the token from the receipt QR (ES1:...)")
    v.add_argument("--device-key", required=True, help="the device's Ed25519 public key, 64 hex characters")
    v.set_defaults(handler=verify)


def verify(args: argparse.Namespace) -> int:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from kiosk.receipts import verify_token

    try:
        raw = bytes.fromhex(args.device_key)
        if len(raw) != 32:
            raise ValueError
        key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise UsageError("--device-key must be 64 hex characters (an Ed25519 public key)") from None

    def check(sig: bytes, message: bytes) -> bool:
        try:
            key.verify(sig, message)
            return True
        except InvalidSignature:
            return False

    claims = verify_token(args.token, check)
    sys.stdout.write(json.dumps(claims, ensure_ascii=False) + "\n")
    return 0
