"""The lifecycle every transport shares: its loop on a daemon thread until `stop()`."""

from __future__ import annotations

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
    """A simulated device: plugged in (`replug`) before it starts answering, unplugged on stop."""

    def replug(self) -> None:
        raise NotImplementedError

    def unplug(self) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self.replug()
        return super().start()

    def _release(self) -> None:
        self.unplug()
