"""Suite-wide checks: the suite refuses to run without the system packages it needs.

A missing package is an error that names it, never a silently skipped area
(the list is hardware/scripts/system-packages.txt, shared with set-up).
"""

from __future__ import annotations

import pytest

from system_packages import PACKAGE_LIST, missing_packages


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = missing_packages(PACKAGE_LIST.read_text())
    if missing:
        raise pytest.UsageError(
            "missing Debian packages: " + ", ".join(missing) + "; run `make test` (it installs them) "
            "or `apt-get install` them")
