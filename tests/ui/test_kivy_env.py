"""ui.kivy_env: Kivy gets a home of its own that goes when the process ends, and a home the
caller set is used as is (and nothing is made in /tmp for it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
SHOW_HOME = "import os, ui.kivy_env as k; k.prepare(); print(os.environ['KIVY_HOME'])"


def _run(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", SHOW_HOME], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


def test_its_own_kivy_home_is_removed_at_exit():
    env = {k: v for k, v in os.environ.items() if k != "KIVY_HOME"}
    home = _run(env)
    assert Path(home).name.startswith("estation-kivy-") and not os.path.exists(home)


def test_a_given_kivy_home_is_kept(tmp_path):
    (tmp_path / "tmp").mkdir()
    home = _run({**os.environ, "KIVY_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")})
    assert home == str(tmp_path / "home") and not any((tmp_path / "tmp").iterdir())
