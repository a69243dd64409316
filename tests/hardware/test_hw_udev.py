"""hardware/udev/99-estation.rules: syntax (udev's key/operator grammar), labels, the three names, the chips."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RULES = Path(__file__).parents[2] / "hardware/udev/99-estation.rules"
TOKEN = re.compile(r'\s*([A-Z_]+)(\{[^}"]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')
MATCH_KEYS = {"ACTION", "SUBSYSTEM", "SUBSYSTEMS", "KERNEL", "KERNELS", "DRIVERS", "ATTRS", "ATTR", "ENV", "TAG"}
ASSIGN_KEYS = {"SYMLINK", "MODE", "GROUP", "OWNER", "ENV", "GOTO", "LABEL", "TAG", "RUN", "NAME"}
KEYED = {"ATTRS", "ATTR", "ENV"}


def parse(text: str) -> list[list[tuple[str, str, str, str]]]:
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens, pos = [], 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if not m:
                raise ValueError(f"line {number}: cannot parse at column {pos + 1}: {line[pos:pos + 30]!r}")
            key, attr, op, value, _ = m.groups()
            if (attr is not None) != (key in KEYED):
                raise ValueError(f"line {number}: {key} {'needs' if key in KEYED else 'takes no'} {{attribute}}")
            if op in ("==", "!=") and key not in MATCH_KEYS:
                raise ValueError(f"line {number}: {key} cannot be matched")
            if op not in ("==", "!=") and key not in ASSIGN_KEYS:
                raise ValueError(f"line {number}: {key} cannot be assigned")
            tokens.append((key, attr or "", op, value))
            pos = m.end()
        rules.append(tokens)
    return rules


def test_rules_parse_and_labels_resolve():
    rules = parse(RULES.read_text())
    labels = {v for rule in rules for k, _, _, v in rule if k == "LABEL"}
    gotos = {v for rule in rules for k, _, _, v in rule if k == "GOTO"}
    assert gotos and gotos <= labels


@pytest.mark.parametrize("bad", [
    'SUBSYSTEMS=="usb", ATTRS{idVendor}=="2e8a, SYMLINK+="x"',  # unbalanced quote
    'SUBSYSTEMS=="usb" SYMLINK+="x"',  # missing comma
    'SYMLINK=="x"',  # matching an assign-only key
    'ATTRS=="x"',  # ATTRS without {attribute}
])
def test_parser_rejects_broken_lines(bad):
    with pytest.raises(ValueError):
        parse(bad)


def test_the_three_stable_names_with_vendor_product():
    rules = parse(RULES.read_text())
    names: dict[str, set[tuple[str, str]]] = {}
    for rule in rules:
        d = {(k + a): v for k, a, _, v in rule if k != "SYMLINK"}
        for k, _, op, v in rule:
            if k == "SYMLINK":
                assert op == "+="  # never replace other rules' links
                assert d.get("MODE") == "0660" and d.get("GROUP") == "dialout"
                names.setdefault(v, set()).add((d["ATTRS{idVendor}"], d["ATTRS{idProduct}"]))
    assert set(names) == {"estation-idcard", "estation-printer", "estation-ioboard"}
    assert names["estation-ioboard"] == {("2e8a", "0005")}
    chips = set().union(*names.values())
    assert {("1a86", "7523"), ("10c4", "ea60"), ("0403", "6001"), ("067b", "2303"), ("2e8a", "0005")} <= chips


def test_identical_chips_are_told_apart():
    """A vendor:product used for two names must be split by serial or USB path."""
    rules = parse(RULES.read_text())
    seen: dict[tuple[str, str], list[dict]] = {}
    for rule in rules:
        d = {(k + a): v for k, a, _, v in rule}
        if "SYMLINK" in d:
            seen.setdefault((d["ATTRS{idVendor}"], d["ATTRS{idProduct}"]), []).append(d)
    for chip, ds in seen.items():
        if len({d["SYMLINK"] for d in ds}) > 1:
            for d in ds:
                assert "ATTRS{serial}" in d or "ENV{ID_PATH}" in d, chip
