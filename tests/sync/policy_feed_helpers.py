"""Policy feed content (docs/sync.md "Policy feed content") built from the installed packs."""

from __future__ import annotations

from kiosk.policy.pack import PACKS_DIR

# Xinyu 002 §1(1) "4050": women from 40; a fed pack moving it to 45 changes the outcome for a woman of 41
XINYU_4050 = "age_at_least(F=40, M=50)"
XINYU_4550 = "age_at_least(F=45, M=50)"
FED_VERSION = "2026.1-feed"


def policy_content(city: str = "xinyu", *, replace: tuple[str, str] | None = None, version: str | None = None,
                   extra_files: dict[str, str] | None = None) -> dict:
    """{"pack": city, "files": {...}}: the installed pack's data files, pack.toml edited as asked."""
    directory = PACKS_DIR / city
    pack_toml = (directory / "pack.toml").read_text("utf-8")
    if replace is not None:
        assert replace[0] in pack_toml
        pack_toml = pack_toml.replace(*replace)
    if version is not None:
        old = next(line for line in pack_toml.splitlines() if line.startswith("version = "))
        pack_toml = pack_toml.replace(old, f'version = "{version}"', 1)
    files = {"pack.toml": pack_toml, "messages.toml": (directory / "messages.toml").read_text("utf-8")}
    return {"pack": city, "files": {**files, **(extra_files or {})}}


def stricter_xinyu() -> dict:
    return policy_content("xinyu", replace=(XINYU_4050, XINYU_4550), version=FED_VERSION)
