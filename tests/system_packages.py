"""The Debian packages the suite needs (hardware/scripts/system-packages.txt) and how to check them."""

from __future__ import annotations

import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_LIST = ROOT / "hardware" / "scripts" / "system-packages.txt"


def required_files(listing: str) -> dict[str, str]:
    """{package: file it provides} for the entries that name a file."""
    pairs = (line.split() for line in listing.splitlines() if line.strip() and not line.startswith("#"))
    return {pkg: path for pkg, path in pairs if path != "-"}


def _present(pattern: str) -> bool:
    return bool(glob.glob(pattern))  # a plain path, or a glob for arch-specific library dirs


def missing_packages(listing: str) -> list[str]:
    return [f"{pkg} (no {path})" for pkg, path in required_files(listing).items() if not _present(path)]
