"""`estation` command line: the composition root, the only place that imports everything.

Each sub-command lives in its own module under kiosk/cli/ and exposes
`register(subparsers)`; heavy imports happen inside the handlers, so
`estation --help` stays fast and a missing optional part only breaks its own command.

Contract for every command: `--help`, exit 0 on success, exit 2 with exactly one
`error: <reason>` line on bad input, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from kiosk.errors import EstationError, UsageError

log = logging.getLogger("estation.cli")

# Sub-command modules, in help order.  Each defines `register(subparsers)`.
COMMAND_MODULES = (
    "kiosk.cli.demo",
    "kiosk.cli.doctor",
    "kiosk.cli.policy",
    "kiosk.cli.jobs",
    "kiosk.cli.receipt",
    "kiosk.cli.provision",
    "kiosk.cli.sync",
    "kiosk.cli.install",
    "kiosk.cli.flash",
    "kiosk.cli.run",
    "kiosk.cli.simulate",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one `error:` line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> ArgumentParser:
    import importlib

    parser = ArgumentParser(prog="estation", description="e-Station kiosk")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # command not built yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("a command is needed: estation COMMAND (estation --help lists them)")
        return handler(args)
    except EstationError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: no traceback on the terminal, details in the log
        log.exception("unexpected error")
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
