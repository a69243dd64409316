"""Colours and sizes of the elder-friendly (适老化) theme, with the contrast rule as code.

Sizes are in dp; the UI applies `dp()`.  Tests read these values and the live
widget tree and check them against the minimums below.
"""

from __future__ import annotations

# Minimums from ARCHITECTURE.md "UI rules" / GB/T 37668 and the MIIT 适老化 guidance.
MIN_BODY_DP = 18
MIN_LARGE_DP = 30
MIN_TARGET_PX = 60
MIN_CONTRAST = 4.5

BODY_DP = 22
TITLE_DP = 32
BUTTON_DP = 26
LARGE_SCALE = 1.4  # large-text mode: body 22 -> 30.8 dp (>= 30)
BUTTON_HEIGHT_DP = 84
HEADER_HEIGHT_DP = 88

# RGBA 0..1.  Dark text on light panels; white on the deep blue of the action buttons.
BACKGROUND = (0.97, 0.97, 0.95, 1)
TEXT = (0.10, 0.10, 0.12, 1)
MUTED_TEXT = (0.28, 0.28, 0.32, 1)
PRIMARY = (0.05, 0.28, 0.63, 1)
ON_PRIMARY = (1, 1, 1, 1)
SECONDARY = (0.86, 0.89, 0.94, 1)
ON_SECONDARY = (0.05, 0.18, 0.40, 1)
ELIGIBLE = (0.05, 0.42, 0.18, 1)
NOT_ELIGIBLE = (0.62, 0.10, 0.10, 1)
UNKNOWN = (0.45, 0.30, 0.00, 1)
WARNING_BG = (1.0, 0.93, 0.70, 1)
HEADER_BG = (0.05, 0.28, 0.63, 1)
ON_HEADER = (1, 1, 1, 1)

# (text colour, background) pairs the UI actually uses: all must reach MIN_CONTRAST.
PAIRS = {
    "body": (TEXT, BACKGROUND), "muted": (MUTED_TEXT, BACKGROUND), "primary_button": (ON_PRIMARY, PRIMARY),
    "secondary_button": (ON_SECONDARY, SECONDARY), "eligible": (ELIGIBLE, BACKGROUND),
    "not_eligible": (NOT_ELIGIBLE, BACKGROUND), "unknown": (UNKNOWN, BACKGROUND), "warning": (TEXT, WARNING_BG),
    "header": (ON_HEADER, HEADER_BG),
}


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(rgba: tuple[float, ...]) -> float:
    r, g, b = (_linear(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, ...], bg: tuple[float, ...]) -> float:
    """WCAG 2.x contrast ratio, 1..21."""
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
