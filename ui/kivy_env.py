"""Kivy's process-wide settings, applied before the first `import kivy` (KIVY-PI.md).

Kivy reads its environment and config.ini at import time, so this module must be
imported first.  Logs go to Python logging (our masked JSON handlers), not to
Kivy's own console logger that replaces sys.stderr and swallows tracebacks.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile


def prepare(*, fullscreen: bool = False, rotation: int = 0, size: tuple[int, int] = (1280, 800)) -> None:
    if "kivy" in __import__("sys").modules:
        return  # too late to change anything; the first caller won
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    if "KIVY_HOME" not in os.environ:  # Kivy must not write into the user's ~/.kivy; its own goes at exit
        os.environ["KIVY_HOME"] = home = tempfile.mkdtemp(prefix="estation-kivy-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ.setdefault("KCFG_KIVY_EXIT_ON_ESCAPE", "0")
    os.environ.setdefault("KCFG_KIVY_KEYBOARD_MODE", "system")
    os.environ.setdefault("KCFG_GRAPHICS_FULLSCREEN", "auto" if fullscreen else "0")
    os.environ.setdefault("KCFG_GRAPHICS_SHOW_CURSOR", "0" if fullscreen else "1")
    os.environ.setdefault("KCFG_GRAPHICS_ROTATION", str(rotation))
    os.environ.setdefault("KCFG_GRAPHICS_WIDTH", str(size[0]))
    os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", str(size[1]))
    os.environ.setdefault("KCFG_GRAPHICS_MAXFPS", "30")
    os.environ.setdefault("KCFG_GRAPHICS_RESIZABLE", "0")
    # Right/middle click must not create multitouch dots; mouse yields to real touch.
    os.environ.setdefault("KCFG_INPUT_MOUSE", "mouse,disable_multitouch,disable_on_activity")
