"""`estation` command line: the composition root, the only place that imports everything.

Each sub-command lives in its own module under kiosk/cli/ and exposes
`register(subparsers)`; heavy imports happen inside the handlers, so
`estation --help` stays fast and a missing optional part only breaks its own command.

Contract for every command: `--help`, exit 0 on success, exit 2 with exactly one
`error: <reason>` line on bad input, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from kiosk.cli.args import run_command
from kiosk.errors import UsageError

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
    return run_command(build_parser(), argv, needs="estation COMMAND (estation --help lists them)")
