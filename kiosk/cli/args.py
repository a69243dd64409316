"""Argument types shared by the command lines (estation, estation-central)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from kiosk.errors import EstationError, UsageError

log = logging.getLogger("estation.cli")


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


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None, *, needs: str) -> int:
    """Parse and run a sub-command's handler; every failure is one `error:` line and an exit code
    (2 usage, 1 failure, 130 interrupted), details in the log, no traceback on the terminal."""
    try:
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            raise UsageError(f"a command is needed: {needs}")
        return handler(args)
    except EstationError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort
        log.exception("unexpected error")
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
