"""A simulated ESC/POS receipt printer on a pty pair: parses what it receives, renders PNGs.

Ships in the package (OctoPrint's virtual printer, gpiozero's MockFactory): the demo
and the transport tests use it.  The host opens `sim.port`, a stable symlink (the
way udev names /dev/estation-printer) to the current pty slave; `unplug()` closes
the pty and `replug()` makes a new one and re-points the link.

How it behaves, like a real printer:
  * real-time commands (DLE EOT n, DLE DC4 fn=8 clear, DLE ENQ) are answered at once,
    even while offline; everything else joins a queue printed in order while online;
  * paper out, cover open, offline, an error: printing stops, the queue waits, status
    bytes say why; `load_paper()` / `close_cover()` / `set_online()` resume it;
  * GS ( H fn=48 is answered (`37 22 id 00`) when it reaches the head of the queue,
    i.e. once everything before it is printed: the host's proof a job came out;
  * each cut ends a `Sheet` (rendered to PNG); a sheet cut short by paper running out,
    a buffer clear or an unplug is kept as incomplete, so tests can tell a whole
    receipt from a torn stub and count duplicates.

Faults (`Faults`): paper out / cover open / offline / an error after N lines, paper near end, noise before replies,
slow or no replies, a slow print mechanism.  Unplugging resets the printer's
buffers (simplification: a USB printer re-enumerates; a serial one would keep them).
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..devicethread import PluggedDevice
from ..ptylink import close_pty_link, link_directory, open_pty_link
from .errors import EscPosError
from .paper import Block, CutBlock, FeedBlock, Interpreter, ProcessIdRequest, QrBlock, RasterBlock, TextLine
from .protocol import Command, CommandParser, Event, Text, Unknown
from .status import CLEAR_REPLY, PROCESS_ID_HEADER, StatusRequest, encode_status

log = logging.getLogger("drivers.printer.sim")

REALTIME = ("DLE EOT", "DLE DC4", "DLE ENQ")


@dataclass
class Faults:
    """Fault injection knobs; change them on a live simulator."""

    stop_after_lines: int | None = None  # after this many more printed lines, printing stops...
    stop_as: str = "paper_out"  # ...because of: paper_out | cover_open | offline | recoverable | autocutter | unrecoverable
    paper_near_end: bool = False
    noise: int = 0  # garbage bytes written before a reply...
    noise_rate: float = 1.0  # ...on this fraction of replies
    delay: float = 0.0  # seconds before each reply
    silent: bool = False  # never answer (a hung controller)
    line_time: float = 0.0  # seconds to print one line (a slow mechanism)


@dataclass
class Sheet:
    """One piece of paper that came out of the printer."""

    blocks: list[Block] = field(default_factory=list)
    complete: bool = False  # False: a stub torn off before the cut
    job_id: str | None = None  # the process ID that followed its cut
    image: Any = None  # PIL image (when rendering)
    path: str | None = None  # PNG file (when the simulator has an out_dir)
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, TextLine)]

    @property
    def qr_data(self) -> list[bytes]:
        return [b.data for b in self.blocks if isinstance(b, QrBlock)]

    @property
    def has_raster(self) -> bool:
        return any(isinstance(b, RasterBlock) for b in self.blocks)


class SimulatedPrinter(PluggedDevice):
    """Fake printer.  Use as a context manager; drive faults with the methods below."""

    def __init__(self, *, out_dir: str | None = None, link_dir: str | None = None, faults: Faults | None = None,
                 native_qr: bool = True, render: bool = True, rng: random.Random | None = None) -> None:
        self.faults = faults or Faults()
        self.out_dir = out_dir
        self.render = render
        self.native_qr = native_qr
        self.sheets: list[Sheet] = []
        self.history: list[str] = []  # command names received, text as "text"
        self.errors: list[str] = []  # EscPosError reasons (malformed input, skipped)
        self.status_requests = 0
        self.paper_out = False
        self.cover_open = False
        self.offline = False
        self.error: str | None = None  # "recoverable" | "autocutter" | "unrecoverable"
        self._rng = rng or random.Random(0)
        self._dir, self._made_dir = link_directory(link_dir, "estation-sim-")
        self.port = os.path.join(self._dir, "estation-printer")
        self._lock = threading.RLock()
        self._master = self._slave = -1
        self._parser = CommandParser()
        self._paper = Interpreter(native_qr=native_qr)
        self._queue: deque[Event] = deque()
        self._sheet = Sheet()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.plugged = False

    # --- lifecycle ---------------------------------------------------------------------------
    thread_name = "printer-sim"

    def unplug(self) -> None:
        """Pull the cable: the pty closes and the stable name disappears, as udev removes it."""
        with self._lock:
            close_pty_link(self.port, self._master, self._slave)
            self._master = self._slave = -1
            self.plugged = False
            self._clear_buffers()

    def replug(self) -> None:
        with self._lock:
            if self.plugged:
                return
            self._master, self._slave = open_pty_link(self.port)
            self.plugged = True

    def frozen(self) -> threading.RLock:
        """`with sim.frozen():` the device thread stands still (tests use it to pin a race down)."""
        return self._lock

    # --- the operator's hands ----------------------------------------------------------------
    def run_out_of_paper(self) -> None:
        with self._lock:
            self._stops("paper_out")

    def load_paper(self) -> None:
        """A new roll: the stub of any unfinished receipt is torn off, printing resumes."""
        with self._lock:
            self.paper_out = False
            self.faults.paper_near_end = False
            self._tear_off()

    def open_cover(self) -> None:
        with self._lock:
            self.cover_open = True

    def close_cover(self) -> None:
        with self._lock:
            self.cover_open = False

    def set_offline(self, offline: bool = True) -> None:
        with self._lock:
            self.offline = offline

    def set_error(self, kind: str | None) -> None:
        if kind not in (None, "recoverable", "autocutter", "unrecoverable"):
            raise ValueError(f"unknown error kind {kind!r}")
        with self._lock:
            self.error = kind

    def recover(self) -> None:
        """Whatever stopped it is fixed: paper loaded, cover closed, online, error cleared."""
        with self._lock:
            self.cover_open = self.offline = False
            self.error = None
            self.load_paper()

    @property
    def printing(self) -> bool:
        """False while anything stops the mechanism (the queue waits)."""
        return not (self.paper_out or self.cover_open or self.offline or self.error)

    # --- what came out -----------------------------------------------------------------------
    @property
    def printed_jobs(self) -> list[str]:
        return [s.job_id for s in self.sheets if s.complete and s.job_id]

    def complete_sheets(self) -> list[Sheet]:
        return [s for s in self.sheets if s.complete]

    def assert_printed_once(self, job_id: str) -> Sheet:
        whole = [s for s in self.sheets if s.complete and s.job_id == job_id]
        assert len(whole) == 1, f"job {job_id} printed {len(whole)} times; printed jobs: {self.printed_jobs}"
        return whole[0]

    def status_byte(self, n: int) -> int:
        with self._lock:
            stopped = not self.printing
            if n == StatusRequest.PRINTER:
                return encode_status(n, offline=stopped, waiting_online_recovery=self.offline)
            if n == StatusRequest.OFFLINE_CAUSE:
                return encode_status(n, cover_open=self.cover_open, paper_end_stop=self.paper_out,
                                     error=self.error is not None)
            if n == StatusRequest.ERROR_CAUSE:
                return encode_status(n, recoverable_error=self.error == "recoverable",
                                     autocutter_error=self.error == "autocutter",
                                     unrecoverable_error=self.error == "unrecoverable")
            return encode_status(n, paper_near_end=self.faults.paper_near_end or self.paper_out,
                                 paper_out=self.paper_out)

    # --- the device ----------------------------------------------------------------------------
    def _run(self) -> None:
        fd = -1
        while not self._stop.is_set():
            with self._lock:
                fd = self._master
            if fd < 0:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.02)
                data = os.read(fd, 65536) if ready else b""
            except OSError:
                continue  # unplugged under us
            with self._lock:
                if fd != self._master:
                    continue
                if data:
                    self._parser.feed(data)
                    self._take_events(fd)
                self._print_queue(fd)

    def _take_events(self, fd: int) -> None:
        while True:
            try:
                event = self._parser.next_event()
            except EscPosError as exc:
                log.info("skipped malformed command: %s", exc.reason)
                self.errors.append(exc.reason)
                continue
            if not isinstance(event, (Text, Command, Unknown)):
                return  # NEED_DATA
            self.history.append(event.name if isinstance(event, Command) else type(event).__name__.lower())
            if isinstance(event, Command) and event.name in REALTIME:
                self._realtime(fd, event)
            else:
                self._queue.append(event)

    def _realtime(self, fd: int, command: Command) -> None:
        if command.name == "DLE EOT":
            self.status_requests += 1
            self._reply(fd, bytes([self.status_byte(command.args[0])]))
        elif command.name == "DLE DC4" and command.args == b"\x08\x01\x03\x14\x01\x06\x02\x08":
            self._clear_buffers()
            self._reply(fd, CLEAR_REPLY)
        # DLE ENQ (recover from error) and other DLE DC4 functions: nothing to simulate

    def _clear_buffers(self) -> None:
        self._queue.clear()
        self._parser.clear()
        self._paper.runs = []
        self._tear_off()

    def _reply(self, fd: int, data: bytes) -> None:
        f = self.faults
        if f.silent:
            return
        if f.noise and self._rng.random() < f.noise_rate:
            data = bytes(self._rng.randrange(256) for _ in range(f.noise)) + data
        if f.delay:
            time.sleep(f.delay)
        try:
            os.write(fd, data)
        except OSError:
            pass  # unplugged while answering

    def _print_queue(self, fd: int) -> None:
        while self._queue and self.printing:
            event = self._queue.popleft()
            try:
                outputs = self._paper.apply(event)
            except EscPosError as exc:
                self.errors.append(exc.reason)
                continue
            for out in outputs:
                if isinstance(out, ProcessIdRequest):
                    self._finished(out.process_id)
                    self._reply(fd, PROCESS_ID_HEADER + out.process_id.encode("ascii") + b"\x00")
                else:
                    self._put_on_paper(out)

    def _put_on_paper(self, block: Block) -> None:
        if isinstance(block, CutBlock):
            self._sheet.complete = True
            self._finish_sheet()
            return
        self._sheet.blocks.append(block)
        lines = block.lines if isinstance(block, FeedBlock) else 1
        if self.faults.line_time:
            time.sleep(self.faults.line_time * lines)
        left = self.faults.stop_after_lines
        if left is not None and lines:
            self.faults.stop_after_lines = left - lines
            if left - lines <= 0:
                self.faults.stop_after_lines = None
                self._stops(self.faults.stop_as)

    def _stops(self, why: str) -> None:
        log.info("printing stops (%s)%s", why, " mid-receipt" if self._sheet.blocks else "")
        if why == "paper_out":
            self.paper_out = True
        elif why == "cover_open":
            self.cover_open = True
        elif why == "offline":
            self.offline = True
        else:
            self.set_error(why)

    def _finished(self, job_id: str) -> None:
        """A process ID right after a cut names that sheet."""
        if self.sheets and self.sheets[-1].complete and self.sheets[-1].job_id is None and not self._sheet.blocks:
            self.sheets[-1].job_id = job_id

    def _tear_off(self) -> None:
        if self._sheet.blocks:
            self._finish_sheet()

    def _finish_sheet(self) -> None:
        sheet, self._sheet = self._sheet, Sheet()
        if self.render:
            from .render import render

            sheet.image, sheet.notes = render(sheet.blocks)
            if self.out_dir:
                tag = "" if sheet.complete else "-torn"
                sheet.path = os.path.join(self.out_dir, f"receipt-{len(self.sheets) + 1:03d}{tag}.png")
                sheet.image.save(sheet.path)
        self.sheets.append(sheet)
