"""The lifecycle every transport shares: its loop on a daemon thread until `stop()`."""

from __future__ import annotations

import os
import shutil
import threading
from typing import Self


class DeviceThread:
    """`start()` runs `self._run` on a daemon thread; `stop()` sets `self._stop`, joins,
    then `_release()`s the port.  Subclasses create `self._stop` (an Event) in __init__."""

    thread_name = "device"
    _stop: threading.Event
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """Close whatever the loop held open (called after the thread has stopped)."""

    def start(self) -> Self:
        self._stop.clear()  # a stopped device may be started again
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._release()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PluggedDevice(DeviceThread):
    """A simulated device: plugged in (`replug`) before it starts answering, unplugged on stop;
    a link directory it made itself (`_made_dir`) goes on stop too, and comes back on start."""

    _made_dir: str | None = None

    def replug(self) -> None:
        raise NotImplementedError

    def unplug(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        if self._made_dir:
            os.makedirs(self._made_dir, exist_ok=True)
        self.replug()
        return super().start()

    def _release(self) -> None:
        self.unplug()
        if self._made_dir:
            shutil.rmtree(self._made_dir, ignore_errors=True)
