"""The 256-byte UTF-16LE text block of the three card kinds (IDCARD.md §8, §12.1 step 5-6).

Layouts are data: (field, byte offset, byte length).  Reserved areas are not
listed, so they are never decoded and cannot cause an error.  `decode_text_block`
returns the contract fields of §12.2 (without photo/fingerprint lengths);
`encode_text_block` is its inverse, used by the simulator and round-trip tests.
"""

from __future__ import annotations

import datetime as dt

from .codes import ETHNICITY_BY_CODE, ETHNICITY_CODE_FOR, SEX_BY_CODE, SEX_CODE_FOR
from .errors import ProtocolError
from .idnumber import id_number_problem

TEXT_LEN = 256
FLAG_OFFSET = 248
LONG_TERM = "长期"

Layout = tuple[tuple[str, int, int], ...]

LAYOUTS: dict[str, Layout] = {
    # flag U+0020 / U+0000
    "resident": (
        ("name", 0, 30), ("sex", 30, 2), ("ethnicity", 32, 4), ("birth_date", 36, 16),
        ("address", 52, 70), ("id_number", 122, 36), ("issuer", 158, 30),
        ("valid_from", 188, 16), ("valid_until", 204, 16),
    ),
    "J": (
        ("name", 0, 30), ("sex", 30, 2), ("birth_date", 36, 16), ("address", 52, 70),
        ("id_number", 122, 36), ("issuer", 158, 30), ("valid_from", 188, 16),
        ("valid_until", 204, 16), ("pass_number", 220, 18), ("issue_count", 238, 4),
    ),
    "I": (
        ("english_name", 0, 120), ("sex", 120, 2), ("id_number", 122, 30),
        ("nationality", 152, 6), ("chinese_name", 158, 30), ("valid_from", 188, 16),
        ("valid_until", 204, 16), ("birth_date", 220, 16), ("card_version", 236, 4),
        ("authority_code", 240, 8),
    ),
    # The English name is split: 35 chars at 52, then 11 more at 220 (joined before trimming).
    "Y": (
        ("chinese_name", 0, 30), ("sex", 30, 2), ("renewal_count", 32, 4),
        ("birth_date", 36, 16), ("english_name", 52, 70), ("id_number", 122, 36),
        ("valid_from", 188, 16), ("valid_until", 204, 16), ("english_name_tail", 220, 22),
        ("nationality", 242, 6),
    ),
}
CARD_TYPE_BY_FLAG = {" ": "resident", "\x00": "resident", "J": "hmt_residence", "I": "foreign_permanent",
                     "Y": "foreign_permanent"}
_DIGITS = frozenset("0123456789")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _text(raw: bytes, field: str) -> str:
    try:
        return raw.decode("utf-16-le").strip(" \x00")
    except UnicodeDecodeError:
        raise ProtocolError(f"{field}: not valid UTF-16LE") from None


def _ascii_of(value: str, allowed: frozenset[str]) -> bool:
    return bool(value) and all(c in allowed for c in value)


def _date(value: str, field: str) -> str:
    if len(value) != 8 or not _ascii_of(value, _DIGITS):
        # Never the value itself: these reasons reach logs and the screen (§15), and a date of
        # birth or a pass number is personal data even when it is malformed.
        raise ProtocolError(f"{field}: expected 8 digits YYYYMMDD, got {len(value)} characters")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:])).isoformat()
    except ValueError:
        raise ProtocolError(f"{field}: 8 digits but not a real date") from None


def _non_empty(fields: dict[str, str], key: str) -> str:
    if not fields[key]:
        raise ProtocolError(f"{key}: empty")
    return fields[key]


def card_flag(text: bytes) -> str:
    """The type flag character at offset 248 (§12.1 step 5)."""
    if len(text) != TEXT_LEN:
        raise ProtocolError(f"text block is {len(text)} bytes, expected {TEXT_LEN}")
    try:
        flag = text[FLAG_OFFSET:FLAG_OFFSET + 2].decode("utf-16-le")
    except UnicodeDecodeError:
        raise ProtocolError("card type flag: not valid UTF-16LE") from None
    if flag not in CARD_TYPE_BY_FLAG:
        raise ProtocolError(f"unknown card type flag {flag!r}")
    return flag


def decode_text_block(text: bytes) -> dict:
    """Contract fields (§12.2) of one text block; ProtocolError on any rule broken."""
    flag = card_flag(text)
    card_type = CARD_TYPE_BY_FLAG[flag]
    layout = LAYOUTS["resident" if card_type == "resident" else flag]
    raw = {name: text[off:off + size] for name, off, size in layout}
    if flag == "Y":  # decoded as one field: a surrogate pair may straddle the two parts
        raw["english_name"] += raw.pop("english_name_tail")
    f = {name: _text(value, name) for name, value in raw.items()}

    sex = f["sex"]
    if sex not in SEX_BY_CODE:
        raise ProtocolError(f"sex: code {sex!r} is not one of 0 1 2 9")
    valid_until = None if f["valid_until"] == LONG_TERM else _date(f["valid_until"], "valid_until")
    problem = id_number_problem(f["id_number"], card_type, flag)
    if problem:
        raise ProtocolError(f"id_number: {problem}")
    card = {
        "card_type": card_type,
        "sex": SEX_BY_CODE[sex],
        "sex_code": sex,  # extra keys (§12.2 allows them): the raw national codes for records
        "ethnicity": None,
        "ethnicity_code": None,
        "birth_date": _date(f["birth_date"], "birth_date"),
        "address": None,
        "id_number": f["id_number"],
        "valid_from": _date(f["valid_from"], "valid_from"),
        "valid_until": valid_until,
    }
    if card_type == "foreign_permanent":
        english = _non_empty(f, "english_name")
        nationality = f["nationality"]
        ok = _ascii_of(nationality, _UPPER) or (flag == "Y" and _ascii_of(nationality, _DIGITS))
        if len(nationality) != 3 or not ok:
            raise ProtocolError(f"nationality: {nationality!r} is not a 3-character code")
        card.update(name=f["chinese_name"] or english, english_name=english, nationality=nationality,
                    issuer=f["authority_code"] if flag == "I" else "")
        return card
    card.update(name=_non_empty(f, "name"), address=_non_empty(f, "address"), issuer=_non_empty(f, "issuer"))
    if card_type == "resident":
        code = f["ethnicity"]
        if len(code) != 2 or code not in ETHNICITY_BY_CODE:
            raise ProtocolError(f"ethnicity: a {len(code)}-character code not in GB 3304")
        card["ethnicity"] = ETHNICITY_BY_CODE[code]
        card["ethnicity_code"] = code
    else:
        if not _ascii_of(f["pass_number"], _DIGITS | _UPPER):
            raise ProtocolError("pass_number: must be A-Z/0-9 and non-empty")
        count = f["issue_count"]
        if not (1 <= len(count) <= 2 and _ascii_of(count, _DIGITS)):
            raise ProtocolError(f"issue_count: {count!r} must be 1 or 2 digits")
        card.update(pass_number=f["pass_number"], issue_count=int(count))
    return card


# --- encoding (simulator, tests) -------------------------------------------------------------

def _put(block: bytearray, offset: int, size: int, value: str, field: str) -> None:
    data = value.encode("utf-16-le", errors="surrogatepass")
    if len(data) > size:
        raise ProtocolError(f"{field}: {value!r} does not fit in {size // 2} characters")
    block[offset:offset + size] = data + " ".encode("utf-16-le") * ((size - len(data)) // 2)


def _yyyymmdd(value: str | None) -> str:
    return LONG_TERM if value is None else value.replace("-", "")


def card_text_fields(card: dict) -> tuple[str, dict[str, str]]:
    """Flag and raw field strings of a contract-shaped card dict (inverse of decode)."""
    kind = card["card_type"]
    common = {
        "sex": card.get("sex_code") or SEX_CODE_FOR[card["sex"]],
        "birth_date": _yyyymmdd(card["birth_date"]),
        "id_number": card["id_number"],
        "valid_from": _yyyymmdd(card["valid_from"]),
        "valid_until": _yyyymmdd(card.get("valid_until")),
    }
    if kind == "resident":
        return card.get("flag", " "), {**common, "name": card["name"], "address": card["address"],
                                       "issuer": card["issuer"],
                                       "ethnicity": ETHNICITY_CODE_FOR.get(card["ethnicity"], card["ethnicity"])}
    if kind == "hmt_residence":
        return "J", {**common, "name": card["name"], "address": card["address"], "issuer": card["issuer"],
                     "pass_number": card["pass_number"], "issue_count": f"{card['issue_count']:02d}"}
    if kind != "foreign_permanent":
        raise ProtocolError(f"card_type: unknown {kind!r}")
    english = card["english_name"]
    chinese = card.get("chinese_name", "" if card["name"] == english else card["name"])
    fields = {**common, "english_name": english, "chinese_name": chinese, "nationality": card["nationality"]}
    if len(card["id_number"]) == 18:
        fields.update(renewal_count=card.get("renewal_count", "00"),
                      english_name=english[:35], english_name_tail=english[35:])
        return "Y", fields
    fields.update(card_version=card.get("card_version", "01"), authority_code=card.get("issuer", ""))
    return "I", fields


def encode_text_block(card: dict) -> bytes:
    """256-byte text block for a contract-shaped card dict."""
    flag, fields = card_text_fields(card)
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, offset, size in LAYOUTS["resident" if flag in " \x00" else flag]:
        _put(block, offset, size, fields.get(name, ""), name)
    _put(block, FLAG_OFFSET, 2, flag, "flag")
    return bytes(block)
