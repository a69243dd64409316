"""`estation policy evaluate | retirement | packs` (POLICY.md §6), and `feed`: the content of a
`policy` feed snapshot made from pack directories (docs/sync.md "Policy feed content").

Bad input raises UsageError: the root prints one `error:` line and exits 2.  Output is
one JSON object on stdout, UTF-8 whatever the locale.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kiosk.errors import UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("policy", help="evaluate city policy packs")
    sub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", parser_class=type(p))
    p.set_defaults(handler=lambda args: _usage(p))

    ev = sub.add_parser("evaluate", help="what a person may apply for, with reasons")
    ev.add_argument("--pack", required=True, help="pack name, e.g. xinyu")
    ev.add_argument("--person", required=True, metavar="FILE.json", help="person facts (JSON object; - for stdin)")
    ev.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="evaluation date")
    ev.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of reason texts")
    ev.set_defaults(handler=cmd_evaluate)

    rt = sub.add_parser("retirement", help="statutory retirement age and date (2025 reform)")
    rt.add_argument("--sex", required=True, choices=("M", "F"))
    rt.add_argument("--birth", required=True, metavar="YYYY-MM-DD")
    rt.add_argument("--female-base", type=int, choices=(50, 55), default=50, help="women only; default 50")
    rt.set_defaults(handler=cmd_retirement)

    pk = sub.add_parser("packs", help="list packs, versions, programs and cited clauses")
    pk.set_defaults(handler=cmd_packs)

    fd = sub.add_parser("feed", help="print policy feed content made from pack directories, for "
                                     "`estation-central feeds publish --name policy --file`")
    fd.add_argument("dirs", nargs="+", metavar="PACK_DIR", help="a pack directory (pack.toml, messages.toml)")
    fd.set_defaults(handler=cmd_feed)


def _usage(parser: argparse.ArgumentParser) -> int:
    raise UsageError("policy: choose evaluate, retirement, packs or feed")


def _date(text: str, what: str):
    from kiosk.policy.dates import parse_date

    try:
        return parse_date(text)
    except ValueError:
        raise UsageError(f"{what}: not a real YYYY-MM-DD date: {text!r}") from None


def _emit(obj: Any) -> int:
    sys.stdout.buffer.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
    sys.stdout.flush()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from kiosk.policy import FactError, evaluate, load_pack, pack_names, validate_person

    on = _date(args.on, "--on")
    if args.pack not in pack_names():  # names only: a path must not load arbitrary code
        raise UsageError(f"unknown pack {args.pack!r} (known: {', '.join(pack_names())})")
    pack = load_pack(args.pack)
    try:
        if args.person == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(args.person, "rb") as fh:
                text = fh.read().decode("utf-8")
        raw = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--person: cannot read {args.person}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--person: not JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        facts = validate_person(raw, on)
    except FactError as exc:
        raise UsageError(f"--person: {exc}") from None
    return _emit(evaluate(pack, facts, on, args.lang).to_json())


def cmd_retirement(args: argparse.Namespace) -> int:
    from kiosk.policy import retirement

    birth = _date(args.birth, "--birth")
    r = retirement(birth, args.sex, args.female_base if args.sex == "F" else None)
    return _emit(
        {
            "retirement_age_months": r.age_months,
            "retirement_date": r.date.isoformat(),
            "reform_delay_months": r.delay_months,
        }
    )


def cmd_packs(args: argparse.Namespace) -> int:
    from kiosk.policy import load_pack, pack_names

    packs = []
    for name in pack_names():
        pack = load_pack(name)
        packs.append(
            {
                "name": pack.name,
                "version": pack.version,
                "programs": [p.id for p in pack.programs],
                "clauses": pack.clauses,
            }
        )
    return _emit({"packs": packs})


def cmd_feed(args: argparse.Namespace) -> int:
    """The content every kiosk will accept: the checks of adoption (sync.feeds) run here first, so
    an operator learns of a broken pack before publishing it to the fleet."""
    from pathlib import Path

    from kiosk.policy.pack import read_pack
    from sync.feeds import POLICY_FILES, policy_packs

    packs: dict[str, dict[str, str]] = {}
    for directory in map(Path, args.dirs):
        if not (directory / "pack.toml").is_file():
            raise UsageError(f"{directory}: no pack.toml (not a pack directory)")
        if (directory / "hooks.py").exists():
            raise UsageError(f"{directory}: has hooks.py; a feed carries data only, code goes with the software")
        try:
            pack = read_pack(directory, hooks=False)
            files = {name: (directory / name).read_text(encoding="utf-8") for name in POLICY_FILES
                     if (directory / name).is_file()}
        except Exception as exc:  # noqa: BLE001 - whatever fails to load is the operator's message
            raise UsageError(f"{directory}: does not load as a pack: {str(exc)[:300]}") from None
        if pack.name in packs:
            raise UsageError(f"{directory}: pack {pack.name!r} given twice")
        packs[pack.name] = files
    # One pack keeps the single-pack form, which kiosks of every version read.
    content = {"pack": next(iter(packs)), "files": next(iter(packs.values()))} if len(packs) == 1 \
        else {"packs": packs}
    try:
        policy_packs(content)
    except ValueError as exc:
        raise UsageError(f"policy feed content: {exc}") from None
    return _emit(content)
