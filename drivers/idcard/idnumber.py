"""ID-number rules (IDCARD.md §10): GB 11643-1999 check digit (ISO 7064 MOD 11-2)."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_CITIZEN = re.compile(r"[0-9]{17}[0-9X]")
_FOREIGN_2017 = re.compile(r"[A-Z]{3}[0-9]{12}")
HMT_PREFIXES = ("810000", "820000", "830000")


def check_char(first17: str) -> str:
    """The 18th character for 17 ASCII digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def is_valid_citizen_number(number: str) -> bool:
    """17 digits + check character, check digit valid (resident card)."""
    return bool(_CITIZEN.fullmatch(number)) and check_char(number[:17]) == number[17]


def id_number_problem(number: str, card_type: str, flag: str = "") -> str | None:
    """Why `number` is not acceptable for the card type, or None if it is."""
    if card_type == "foreign_permanent" and flag == "I":
        return None if _FOREIGN_2017.fullmatch(number) else "foreign 2017 number must be 3 letters + 12 digits"
    if not is_valid_citizen_number(number):
        return "ID number fails the GB 11643 format or check digit"
    if card_type == "hmt_residence" and not number.startswith(HMT_PREFIXES):
        return "HK/Macau/Taiwan permit number must start with 810000, 820000 or 830000"
    if card_type == "foreign_permanent" and not number.startswith("9"):
        return "foreign 2023 number must start with 9"
    return None
