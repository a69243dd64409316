"""Fonts: the Simplified Chinese face of Noto Sans CJK, registered before any widget.

Debian's NotoSansCJK-Regular.ttc opens at face 0, the Japanese one (KIVY-PI.md):
shared hanzi would get Japanese glyph forms (骨, 直).  We extract the face whose
name table says "Noto Sans CJK SC" into an OTF once (cached) and register it as
Kivy's default font, so no label can fall back to Roboto (no CJK glyphs).
"""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SYSTEM_TTC_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
FAMILY = "Noto Sans CJK SC"
FONT_NAME = "NotoSansSC"


class FontError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("ESTATION_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "estation" / "fonts"


def extract_face(ttc: Path, family: str, out: Path) -> Path:
    """Write the face of `ttc` whose family name is `family` to `out` (once)."""
    if out.exists():
        return out
    from fontTools.ttLib import TTCollection

    if not ttc.exists():
        raise FontError(f"{ttc} is missing: apt-get install fonts-noto-cjk")
    for font in TTCollection(str(ttc), lazy=True).fonts:
        if font["name"].getDebugName(1) == family:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            font.save(str(tmp))
            os.replace(tmp, out)
            return out
    raise FontError(f"{ttc} has no face named {family!r}")


def family_of(path: Path) -> str:
    from fontTools.ttLib import TTFont

    return TTFont(str(path), lazy=True)["name"].getDebugName(1)


def register() -> Path:
    """Extract (if needed) and register the SC face as Kivy's default font; returns the OTF path."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    regular = extract_face(SYSTEM_TTC, FAMILY, cache_dir() / "NotoSansCJKsc-Regular.otf")
    bold = regular
    if SYSTEM_TTC_BOLD.exists():
        bold = extract_face(SYSTEM_TTC_BOLD, FAMILY, cache_dir() / "NotoSansCJKsc-Bold.otf")
    for name in (FONT_NAME, DEFAULT_FONT):
        LabelBase.register(name, str(regular), fn_bold=str(bold))
    return regular
