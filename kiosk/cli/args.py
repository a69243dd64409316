"""Argument types shared by the command lines (estation, estation-central)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded(low: float, high: float, kind: type = int) -> Callable[[str], float]:
    """An argparse `type`: a number of `kind` within [low, high]; otherwise argparse's one-line error."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {noun}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high} (got {text})")
        return value
    return parse
