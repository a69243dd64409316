"""Voice prompts (Barrier-free Environment Construction Law art. 33): each screen's main line
spoken once, rendered by espeak-ng into a cached WAV, with a mute toggle.

`cmn-latn-pinyin` is the Mandarin voice that reads hanzi correctly (plain `cmn`
reads some syllables as English: ENVIRONMENT.md §4).  Rendering runs in a
worker thread; playback returns to the Kivy loop.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path

log = logging.getLogger("estation.ui.voice")
VOICES = {"zh_CN": "cmn-latn-pinyin", "en": "en"}
# Caches made before this marker existed may hold a greeting with a resident's name in it
# (spoken until 2026-11): such a cache is emptied once.
CACHE_MARK = ".catalogue-only"


class Voice:
    def __init__(self, cache_dir: Path, lang: str = "zh_CN", muted: bool = False) -> None:
        self.cache_dir = cache_dir
        self.voice = VOICES.get(lang, "cmn-latn-pinyin")
        self.muted = muted
        self.espeak = shutil.which("espeak-ng")
        self.spoken: deque[str] = deque(maxlen=32)  # the last things asked to be said (tests, technician)
        self._sound = None
        self._purge_old_cache()

    def _purge_old_cache(self) -> None:
        if not self.cache_dir.is_dir() or (self.cache_dir / CACHE_MARK).exists():
            return
        for old in self.cache_dir.glob("*.wav"):
            old.unlink(missing_ok=True)
        (self.cache_dir / CACHE_MARK).touch()

    def wav_for(self, text: str) -> Path | None:
        """The cached WAV of `text`, rendering it first if needed (None if espeak-ng is missing)."""
        if not self.espeak:
            return None
        path = self.cache_dir / f"{hashlib.sha256((self.voice + text).encode()).hexdigest()[:24]}.wav"
        if not path.exists():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            (self.cache_dir / CACHE_MARK).touch()
            tmp = path.with_suffix(".tmp")
            # The text on stdin, not in argv (which `ps` shows to every user).
            subprocess.run([self.espeak, "-v", self.voice, "-s", "140", "-w", str(tmp), "--stdin"],
                           input=text.encode("utf-8"), check=True, capture_output=True, timeout=10)
            tmp.replace(path)
        return path

    def say(self, text: str) -> None:
        if self.muted or not text:
            return
        self.spoken.append(text)
        threading.Thread(target=self._render_and_play, args=(text,), daemon=True).start()

    def _render_and_play(self, text: str) -> None:
        try:
            path = self.wav_for(text)
        except (OSError, subprocess.SubprocessError) as exc:  # never the text or command: what was said stays here
            log.warning("voice prompt not rendered: %s%s", type(exc).__name__,
                        f" (exit {exc.returncode})" if isinstance(exc, subprocess.CalledProcessError) else "")
            return
        if path is None:
            return
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self._play(path), 0)

    def _play(self, path: Path) -> None:
        from kivy.core.audio import SoundLoader

        if self._sound is not None:
            self._sound.stop()
        self._sound = SoundLoader.load(str(path))
        if self._sound is not None:  # no audio device (tests, headless): silently nothing
            self._sound.play()
