"""City packs: a directory with pack.toml (rules), messages.toml (zh/en texts) and,
only if a pack needs it, hooks.py (extra PREDICATES / DERIVERS).  Adding a city means
adding a directory; the engine never changes.

Loading reads files once; evaluation never touches the disk.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.policy.details import DERIVERS, DetailSpec, compile_detail
from kiosk.policy.expr import Node, Parser
from kiosk.policy.facts import BOOL, FACTS
from kiosk.policy.predicates import PREDICATES, ProgramLeaf

PACKS_DIR = Path(__file__).with_name("packs")
CATALOGUE = Path(__file__).with_name("messages.toml")
LANGS = ("zh", "en")
_CLAUSE = re.compile(r"^\d{3} (§\d+(\(\d+\)(\d+(\(\d+\))?)?)?|\(\d+\)|list \d+)$")
BOOL_FACTS = frozenset(k for k, v in FACTS.items() if v == BOOL)


def version_order(version: str) -> tuple[int, ...]:
    """A pack version's numbers, left to right, for ordering: "2023.82-1" → (2023, 82, 1), so
    2023.82-1 < 2026.1-feed.  Empty when the version holds no number (then there is no order)."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


class PackError(ValueError):
    """A pack file that does not load: names the pack and the problem."""


@dataclass(frozen=True)
class Condition:
    id: str
    clause: str
    node: Node


@dataclass(frozen=True)
class Program:
    id: str
    clause: str
    require: tuple[Condition, ...]
    categories: tuple[Condition, ...]
    categories_required: bool
    categories_clause: str
    details: tuple[DetailSpec, ...]
    depends_on: tuple[str, ...]

    @property
    def facts(self) -> frozenset[str]:
        return frozenset().union(*(c.node.facts for c in self.require + self.categories))


@dataclass(frozen=True)
class Pack:
    name: str
    seed: str
    version: str
    title: str
    region_codes: tuple[str, ...]
    programs: tuple[Program, ...]
    messages: dict[str, dict[str, str]] = field(repr=False)
    derivers: dict[str, Any] = field(repr=False)
    extra: dict[str, Any] = field(repr=False, default_factory=dict)  # other TOML tables

    def program(self, program_id: str) -> Program:
        for p in self.programs:
            if p.id == program_id:
                return p
        raise KeyError(program_id)

    @property
    def clauses(self) -> list[str]:
        """Every clause the pack cites, in seed order."""
        seen: set[str] = set()
        for p in self.programs:
            seen.add(p.clause)
            seen.add(p.categories_clause)
            seen.update(c.clause for c in p.require + p.categories)
            seen.update(d.clause for d in p.details if d.clause)
        seen.discard("")
        return sorted(seen, key=clause_sort_key)

    def facts(self) -> frozenset[str]:
        """Every fact some rule of the pack reads (following program references)."""
        out: set[str] = set()
        for p in self.programs:
            out |= p.facts
        return frozenset(out)

    def text(self, message_id: str, lang: str = "zh") -> str:
        return self.messages[lang][message_id]


def clause_sort_key(clause: str) -> tuple:
    return tuple(int(n) if n.isdigit() else n for n in re.split(r"(\d+)", clause))


def pack_names() -> list[str]:
    """Installed packs, in seed order."""
    found = []
    for toml in PACKS_DIR.glob("*/pack.toml"):
        with toml.open("rb") as fh:
            meta = tomllib.load(fh).get("pack", {})
        found.append((meta.get("seed", "999"), toml.parent.name))
    return [name for _, name in sorted(found)]


@functools.lru_cache(maxsize=None)
def load_pack(name_or_dir: str | Path) -> Pack:
    """Load an installed pack by name, or any pack directory by path."""
    directory = Path(name_or_dir)
    if not (isinstance(name_or_dir, Path) or "/" in str(name_or_dir)):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name_or_dir)):
            raise PackError(f"unknown pack {name_or_dir!r}")
        directory = PACKS_DIR / str(name_or_dir)
    if not (directory / "pack.toml").is_file():
        raise PackError(f"unknown pack {str(name_or_dir)!r}")
    return read_pack(directory)


def read_pack(directory: Path, *, hooks: bool = True) -> Pack:
    """Load the pack in `directory` afresh (no cache: for a directory whose content changes, such as
    a pack adopted from the policy feed).  hooks=False refuses a directory holding hooks.py (code)."""
    if not hooks and (directory / "hooks.py").exists():
        raise PackError(f"pack {directory.name}: hooks.py (code) is not accepted here")
    try:
        return _build(directory, hooks=hooks)
    except OSError as exc:
        raise PackError(f"pack {directory.name}: cannot read: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # TOMLDecodeError is a ValueError
        raise PackError(f"pack {directory.name}: {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _hooks(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = directory / "hooks.py"
    if not path.is_file():
        return {}, {}
    spec = importlib.util.spec_from_file_location(f"kiosk.policy.packs.{directory.name}.hooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "PREDICATES", {}), getattr(module, "DERIVERS", {})


def _build(directory: Path, *, hooks: bool = True) -> Pack:
    data = _read_toml(directory / "pack.toml")
    meta = data["pack"]
    extra_predicates, extra_derivers = _hooks(directory) if hooks else ({}, {})
    parser = Parser(BOOL_FACTS, {**PREDICATES, **extra_predicates})
    derivers = {**DERIVERS, **extra_derivers}

    raw_programs = {p["id"]: p for p in data["programs"]}
    programs = []
    for raw in data["programs"]:
        base = raw_programs[raw["like"]] if "like" in raw else {}
        require = [_condition(parser, c, meta) for c in base.get("require", []) + raw.get("require", [])]
        categories = [_condition(parser, c, meta) for c in raw.get("categories", base.get("categories", []))]
        details = tuple(
            compile_detail(key, spec, parser, derivers) for key, spec in raw.get("details", {}).items()
        )
        depends = sorted(
            {n.program for c in require + categories for n in _walk(c.node) if isinstance(n, ProgramLeaf)}
        )
        programs.append(
            Program(
                id=raw["id"],
                clause=raw["clause"],
                require=tuple(require),
                categories=tuple(categories),
                categories_required=raw.get("categories_required", bool(categories)),
                categories_clause=raw.get("categories_clause", raw["clause"]),
                details=details,
                depends_on=tuple(depends),
            )
        )
    messages = _messages(directory)
    pack = Pack(
        name=meta["name"],
        seed=meta["seed"],
        version=meta["version"],
        title=meta.get("title", ""),
        region_codes=tuple(meta.get("region_codes", ())),
        programs=tuple(programs),
        messages=messages,
        derivers=derivers,
        extra={k: v for k, v in data.items() if k not in ("pack", "programs")},
    )
    _check(pack)
    return pack


def _condition(parser: Parser, raw: dict[str, Any], meta: dict[str, Any]) -> Condition:
    return Condition(id=raw["id"], clause=raw["clause"], node=parser.parse(raw.get("test", raw["id"])))


def _walk(node: Node):
    yield node
    for child in getattr(node, "children", ()) or ((node.child,) if hasattr(node, "child") else ()):
        yield from _walk(child)


def _messages(directory: Path) -> dict[str, dict[str, str]]:
    shared = _read_toml(CATALOGUE)
    own = _read_toml(directory / "messages.toml") if (directory / "messages.toml").is_file() else {}
    return {lang: {**shared.get(lang, {}), **own.get(lang, {})} for lang in LANGS}


def _check(pack: Pack) -> None:
    """Fail at load, not at a resident's turn: clauses well-formed, every text present."""
    ids = [p.id for p in pack.programs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate program id")
    for p in pack.programs:
        for dep in p.depends_on:
            if dep not in ids[: ids.index(p.id)]:
                raise ValueError(f"{p.id}: program({dep}) must name an earlier program")
    for clause in pack.clauses:
        if not _CLAUSE.match(clause) or not clause.startswith(pack.seed):
            raise ValueError(f"clause {clause!r} is not 'NNN §a(b)c' of seed {pack.seed}")
    for lang in LANGS:
        table = pack.messages[lang]
        for p in pack.programs:
            needed = [f"{c.id}.yes" for c in p.require + p.categories]
            needed += [f"{c.id}.no" for c in p.require]
            for key in needed + ["unknown", "no_category", "category_open", f"program.{p.id}"]:
                if key not in table:
                    raise ValueError(f"message {key!r} missing in {lang}")
        if table.get("unknown", "{}").count("{}") != 1:
            raise ValueError(f"message 'unknown' in {lang} must hold exactly one {{}} (where the reason goes)")
