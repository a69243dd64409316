"""The message catalogue: every user-facing string, Simplified Chinese first, English second.

Catalogues are TOML files in kiosk/messages/ (`zh_CN.toml`, `en.toml`) with flat
dotted keys.  `Catalogue.text(key, **values)` formats with str.format; a missing
key is a bug (KeyError), caught by the test that both catalogues have the same keys.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

MESSAGES = Path(__file__).parent / "messages"
LANGUAGES = ("zh_CN", "en")


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


class Catalogue:
    def __init__(self, lang: str, messages: dict[str, str]) -> None:
        self.lang = lang
        self.messages = messages

    def text(self, key: str, **values: object) -> str:
        template = self.messages[key]
        return template.format(**values) if values else template

    def has(self, key: str) -> bool:
        return key in self.messages


@cache
def catalogue(lang: str = "zh_CN") -> Catalogue:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    with open(MESSAGES / f"{lang}.toml", "rb") as fh:
        return Catalogue(lang, _flatten(tomllib.load(fh)))
