"""Receipt tokens: what the resident takes away (QR on screen and paper) to prove a filing.

    ES1:<base45(claims || Ed25519(device key, "estation-receipt-token-v1\\n" || claims))>

claims (binary, big-endian): version 1 (1 byte) | record_id (16, the UUIDv7) |
kind (1, index in records.KINDS) | date (2, days since 2000-01-01) | device_id
(16, the hex of `d_<32 hex>`) | seq (4) | pack (1-byte length + ASCII name).
Base45 (RFC 9285) keeps the QR in alphanumeric mode: ~170 characters, a
version 7-8 code that thermal paper and old phone cameras still read.  No
personal data is in the token: a lost slip tells a finder nothing.

Signing goes through the `Signer` port; verification takes a `verify(sig, msg)`
callable so the core needs no crypto library.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.errors import UsageError
from kiosk.ports import RecordDraft, Signer, local_date
from kiosk.records import KINDS

PREFIX = "ES1:"
DOMAIN = b"estation-receipt-token-v1\n"
EPOCH = dt.date(2000, 1, 1)
SIG_LEN = 64
_B64U = re.compile(r"[A-Za-z0-9_-]*")
_B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {c: i for i, c in enumerate(_B45)}
_FIXED = struct.Struct(">B16sBH16sI")
_PACK = re.compile(rb"[a-z][a-z0-9_]{0,31}")  # a pack name as packs may spell it (kiosk/policy/pack.py)


class TokenError(UsageError):
    """A receipt token that is malformed or whose signature does not verify."""


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [_B45[n % 45], _B45[n // 45 % 45], _B45[n // 2025]]
    if len(data) % 2:
        out += [_B45[data[-1] % 45], _B45[data[-1] // 45]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    """RFC 9285 decoding; ValueError on any character or value outside the code."""
    try:
        values = [_B45_INDEX[c] for c in text]
    except KeyError:
        raise ValueError("not base45") from None
    if len(values) % 3 == 1:
        raise ValueError("base45 length")
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        n = sum(v * 45 ** k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise ValueError("base45 value out of range")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise ValueError("base45 value out of range")
            out.append(n)
    return bytes(out)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict: no padding, no other characters, no non-zero trailing bits."""
    if not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text:
        raise ValueError("non-canonical base64url")
    return data


@dataclass(frozen=True)
class Receipt:
    record_id: str
    kind: str
    seq: int
    date: str
    token: str | None  # None when the kiosk has no device key yet (demo without provisioning)


def _local_day(created_at: str) -> str:
    """The kiosk's local date of a record's UTC `created_at`: what the resident reads on paper."""
    return local_date(dt.datetime.fromisoformat(created_at)).isoformat()


def claims_for(draft: RecordDraft, *, seq: int, pack: str, device_id: str) -> dict:
    return {"v": 1, "r": draft.record_id, "k": draft.kind, "p": pack, "d": _local_day(draft.created_at),
            "i": device_id, "s": seq}


def encode_claims(claims: dict) -> bytes:
    pack = claims["p"].encode("ascii")
    if not pack or len(pack) > 32 or not claims["i"].startswith("d_"):
        raise ValueError("pack name or device id out of the token's range")
    days = (dt.date.fromisoformat(claims["d"]) - EPOCH).days
    return _FIXED.pack(claims["v"], uuid.UUID(claims["r"]).bytes, KINDS.index(claims["k"]), days,
                       bytes.fromhex(claims["i"][2:]), claims["s"]) + bytes([len(pack)]) + pack


def decode_claims(data: bytes) -> dict:
    if len(data) < _FIXED.size + 2:
        raise TokenError("receipt token is too short")
    version, rid, kind, days, device, seq = _FIXED.unpack_from(data)
    pack_len = data[_FIXED.size]
    pack = data[_FIXED.size + 1:]
    if version != 1 or kind >= len(KINDS) or len(pack) != pack_len or not _PACK.fullmatch(pack):
        raise TokenError("receipt token claims are malformed")
    record_id = str(uuid.UUID(bytes=rid))
    if uuid.UUID(record_id).version != 7:
        raise TokenError("receipt token record id is not a UUIDv7")
    return {"v": version, "r": record_id, "k": KINDS[kind], "p": pack.decode("ascii"),
            "d": (EPOCH + dt.timedelta(days=days)).isoformat(), "i": "d_" + device.hex(), "s": seq}


def make_token(claims: dict, signer: Signer) -> str:
    body = encode_claims(claims)
    return PREFIX + b45encode(body + signer.sign(DOMAIN + body))


def make_receipt(draft: RecordDraft, *, seq: int, pack: str, signer: Signer | None) -> Receipt:
    token = make_token(claims_for(draft, seq=seq, pack=pack, device_id=signer.device_id), signer) if signer else None
    return Receipt(record_id=draft.record_id, kind=draft.kind, seq=seq, date=_local_day(draft.created_at),
                   token=token)


def parse_token(token: str) -> tuple[dict, bytes, bytes]:
    """(claims, signed message, signature) of a well-formed token; TokenError otherwise."""
    token = token.strip()
    if not token.startswith(PREFIX):
        raise TokenError("not an e-Station receipt token (expected ES1:...)")
    try:
        raw = b45decode(token[len(PREFIX):])
    except ValueError:
        raise TokenError("receipt token is damaged (bad encoding)") from None
    body, sig = raw[:-SIG_LEN], raw[-SIG_LEN:]
    return decode_claims(body), DOMAIN + body, sig


def verify_token(token: str, verify: Callable[[bytes, bytes], bool]) -> dict:
    """Claims of a token whose signature `verify(sig, message)` accepts; TokenError otherwise."""
    claims, message, sig = parse_token(token)
    if not verify(sig, message):
        raise TokenError("receipt token signature does not verify with this device key")
    return claims


def receipt_lines(receipt: Receipt, kind_label: str, title: str, record_label: str) -> list[str]:
    """The text of a paper receipt (labels come from the message catalogue)."""
    return [title, kind_label, f"{record_label}: {receipt.record_id}", f"{receipt.date}  #{receipt.seq}"]


def qr_png(data: str, scale: int = 6) -> bytes:
    """The QR code as PNG bytes; error correction M (screen and thermal paper both read it)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make_qr(data, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
