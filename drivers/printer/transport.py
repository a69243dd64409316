"""pyserial transport: a print queue on a background thread, with status polls and safe retries.

A thin pump between the port and the sans-I/O codec (protocol.py, status.py); it
emits `events.*` through one callback on its thread and knows nothing of kiosks.

  * before a job: DLE EOT 1..4; a printer that is not ready holds the job (it waits);
  * during a job: status polled while waiting for the job's process-ID reply
    (GS ( H) -- the printer's own word that the receipt came out;
  * paper out / cover open / error mid-job -> clear the printer's buffers (so the
    rest of the job cannot come out on the new roll as half a receipt), emit
    `JobInterrupted`, wait until ready, send the whole job again under the same id;
  * no duplicates: a job is resent only when the printer provably did not finish it
    (it stopped and its buffers were cleared, or the link died before the last byte);
    all bytes sent and no proof back -> `JobUncertain`, never resent;
  * jobs expire (`job_ttl`): a receipt printed after the resident left would be
    picked up by the next person;
  * unplug / silence -> `PrinterDisconnected`, reopen every `reconnect_interval` s.

pyserial is imported lazily, so the codec and the simulator work without it.
"""

from __future__ import annotations

import itertools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..devicethread import DeviceThread
from .events import (JobFailed, JobInterrupted, JobPrinted, JobStarted, JobUncertain, PrinterConnected,
                     PrinterDisconnected, PrinterEvent, StatusChanged)
from .protocol import Receipt, encode_receipt
from .status import (CLEAR_BUFFERS, NEED_DATA, ClearAck, Noise, PrinterStatus, ProcessIdAck, ReplyParser,
                     StatusByte, request_status)

log = logging.getLogger("drivers.printer")

STATUS_TRIES = 4
MAX_LINK_ERRORS = 3
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class LinkError(Exception):
    """A status reply was missing or garbled (after retries)."""


def open_serial(port: str, baudrate: int) -> Any:
    """Factory seam (OctoPrint's _open_serial): tests and the demo may pass another."""
    import serial  # lazy: only the transport needs pyserial

    return serial.serial_for_url(port, baudrate=baudrate, timeout=0.02, write_timeout=2.0)


class Link:
    """One open port plus the reply parser: status queries, job bytes, acks."""

    def __init__(self, port: Any, status_timeout: float = 0.5) -> None:
        self.port = port
        self.status_timeout = status_timeout
        self.parser = ReplyParser()
        self.acks: set[str] = set()
        self.clear_acks = 0
        self.noise_bytes = 0
        self._dirty = False

    def pump(self) -> list[int]:
        """Read what is there (waiting up to the port timeout); returns status bytes, records the rest."""
        data = self.port.read(max(1, self.port.in_waiting))
        self.parser.feed(data)
        statuses = []
        while (event := self.parser.next_event()) is not NEED_DATA:
            if isinstance(event, StatusByte):
                statuses.append(event.value)
            elif isinstance(event, ProcessIdAck):
                self.acks.add(event.process_id)
            elif isinstance(event, ClearAck):
                self.clear_acks += 1
            elif isinstance(event, Noise):
                self.noise_bytes += event.count
        return statuses

    def query(self, n: int) -> int:
        """One DLE EOT n reply.  Exactly one status byte must come back (noise around it is dropped);
        two mean a late reply or status-like noise, so ask again."""
        for _ in range(STATUS_TRIES):
            if self._dirty:  # a late reply to an earlier query may still be on its way: let it land
                self._drain(self.status_timeout)
            self._drain(0)
            self.port.write(request_status(n))
            got: list[int] = []
            deadline = time.monotonic() + self.status_timeout
            while time.monotonic() < deadline and not (got and not self.port.in_waiting):
                got += self.pump()
            if len(got) == 1:
                self._dirty = False
                return got[0]
            self._dirty = True
            if not got:  # silence: asking again would only multiply the wait
                raise LinkError(f"no reply to DLE EOT {n} within {self.status_timeout:.2f} s")
        raise LinkError(f"no unambiguous reply to DLE EOT {n} in {STATUS_TRIES} tries")

    def poll(self) -> PrinterStatus:
        return PrinterStatus.from_bytes({n: self.query(n) for n in (1, 2, 3, 4)})

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            if self.port.in_waiting:
                self.pump()  # acks in there are kept; stray status bytes are dropped
            elif time.monotonic() >= end:
                return
            else:
                time.sleep(0.005)

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def clear_buffers(self) -> bool:
        """DLE DC4 fn=8; True once the printer confirmed (acks before its reply are kept)."""
        before = self.clear_acks
        self.write(CLEAR_BUFFERS)
        deadline = time.monotonic() + self.status_timeout
        while self.clear_acks == before and time.monotonic() < deadline:
            self.pump()
        return self.clear_acks > before

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # closing a port that vanished may fail; nothing left to do
            pass


@dataclass
class Job:
    job_id: str
    receipt: Receipt
    expires: float
    state: str = "queued"  # queued | waiting | printing | printed | failed | uncertain
    attempts: int = 0
    sent_all: bool = False


class ReceiptPrinter(DeviceThread):
    """The kiosk's Printer: `print_receipt()` queues, a background thread prints; `status()` is cached."""

    thread_name = "printer"

    def __init__(self, port: str, on_event: Callable[[PrinterEvent], None] | None = None, *,
                 baudrate: int = 115200, native_qr: bool = True, opener: Callable[[str, int], Any] = open_serial,
                 status_timeout: float = 0.5, poll_interval: float = 2.0, busy_poll: float = 0.1,
                 ready_poll: float = 0.5, reconnect_interval: float = 1.0, ack_timeout: float = 20.0,
                 job_ttl: float = 180.0, chunk: int = 1024) -> None:
        self.port_name = port
        self.on_event = on_event or (lambda event: None)
        self.baudrate = baudrate
        self.native_qr = native_qr
        self.opener = opener
        self.status_timeout = status_timeout
        self.poll_interval = poll_interval
        self.busy_poll = busy_poll
        self.ready_poll = ready_poll
        self.reconnect_interval = reconnect_interval
        self.ack_timeout = ack_timeout
        self.job_ttl = job_ttl
        self.chunk = chunk
        self.link: Link | None = None
        self.last_status: PrinterStatus | None = None
        self.jobs: dict[str, Job] = {}
        self.stats = {"printed": 0, "retries": 0, "link_errors": 0, "reconnects": 0}
        self._summary = "absent"
        self._queue: queue.Queue[Job] = queue.Queue()
        self._ids = itertools.count(random.randrange(36 ** 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._link_errors = 0
        self._disconnect_reported = False

    # --- the kiosk's port -----------------------------------------------------------------------
    def print_receipt(self, lines: list[str], qr_data: str | None) -> None:
        self.submit(Receipt.from_lines(lines, qr_data))

    def status(self) -> str:
        """ok | paper_low | paper_out | fault | absent, as of the last poll."""
        return self._summary

    # --- lifecycle ------------------------------------------------------------------------------
    def _release(self) -> None:
        if self.link:
            self.link.close()
            self.link = None

    def submit(self, receipt: Receipt) -> str:
        """Queue a receipt; returns its job id (4 characters: it travels in GS ( H)."""
        n = next(self._ids) % 36 ** 4
        job_id = "".join(_ID_ALPHABET[n // 36 ** k % 36] for k in (3, 2, 1, 0))
        job = Job(job_id, receipt, time.monotonic() + self.job_ttl)
        self.jobs[job_id] = job
        self._queue.put(job)
        return job_id

    def wait_job(self, job_id: str, timeout: float = 5.0) -> str:
        """The job's state once it is final (printed / failed / uncertain) or the timeout passed."""
        deadline = time.monotonic() + timeout
        job = self.jobs[job_id]
        while job.state not in ("printed", "failed", "uncertain") and time.monotonic() < deadline:
            time.sleep(0.01)
        return job.state

    # --- the loop -------------------------------------------------------------------------------
    def _emit(self, event: PrinterEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken consumer must not kill the printer thread
            log.exception("event handler failed on %s", type(event).__name__)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.link is None and not self._connect():
                self._stop.wait(self.reconnect_interval)
                continue
            try:
                job = self._queue.get(timeout=self.poll_interval)
            except queue.Empty:
                self._poll()
                continue
            self._print(job)

    def _connect(self) -> bool:
        try:
            link = Link(self.opener(self.port_name, self.baudrate), self.status_timeout)
        except Exception as exc:  # port absent, permission, busy: keep trying
            self._report_disconnect(f"{type(exc).__name__}: {exc}")
            return False
        try:
            status = link.poll()
            link.clear_buffers()  # whatever half-job it still holds must not print after our resend
        except Exception as exc:
            link.close()
            self._report_disconnect(f"no status reply: {exc}")
            return False
        self.link, self._link_errors, self._disconnect_reported = link, 0, False
        log.info("printer connected on %s: %s", self.port_name, status.summary)
        self._emit(PrinterConnected(self.port_name, status))
        self._set_status(status)
        return True

    def _report_disconnect(self, reason: str) -> None:
        self._set_status(None)
        if not self._disconnect_reported:
            self._disconnect_reported = True
            log.warning("printer on %s unavailable: %s", self.port_name, reason)
            self._emit(PrinterDisconnected(self.port_name, reason))

    def _link_failed(self, exc: Exception) -> None:
        """A LinkError counts; MAX_LINK_ERRORS in a row or any port error drops the link."""
        self.stats["link_errors"] += 1
        self._link_errors += 1
        if isinstance(exc, LinkError) and self._link_errors < MAX_LINK_ERRORS:
            log.info("printer link error %d/%d: %s", self._link_errors, MAX_LINK_ERRORS, exc)
            return
        if self.link:
            self.link.close()
            self.link = None
        self.stats["reconnects"] += 1
        self._disconnect_reported = False
        self._report_disconnect(f"{type(exc).__name__}: {exc}")

    def _set_status(self, status: PrinterStatus | None) -> None:
        summary = status.summary if status else "absent"
        self.last_status = status
        if summary != self._summary:
            previous, self._summary = self._summary, summary
            log.info("printer status %s -> %s %s", previous, summary, status.detail if status else "")
            self._emit(StatusChanged(summary, previous, status))

    def _poll(self) -> PrinterStatus | None:
        assert self.link is not None
        try:
            status = self.link.poll()
        except Exception as exc:  # LinkError, SerialException, OSError
            self._link_failed(exc)
            return None
        self._link_errors = 0
        self._set_status(status)
        return status

    def _print(self, job: Job) -> None:
        while not self._stop.is_set():
            if time.monotonic() > job.expires:
                job.state = "failed"
                self._emit(JobFailed(job.job_id, f"not printed within {self.job_ttl:.0f} s; dropped so it cannot "
                                                 "come out for the next person"))
                return
            if self.link is None and not self._connect():
                self._stop.wait(self.reconnect_interval)
                continue
            status = self._poll()
            if status is None or not status.ok:
                job.state = "waiting"
                self._stop.wait(self.ready_poll)
                continue
            job.attempts += 1
            job.state, job.sent_all = "printing", False
            if job.attempts > 1:
                self.stats["retries"] += 1
            self._emit(JobStarted(job.job_id, job.attempts))
            try:
                outcome = self._attempt(job)
            except Exception as exc:  # the link died mid-job
                self._link_failed(exc if not isinstance(exc, LinkError) else OSError(str(exc)))
                outcome = "uncertain" if job.sent_all else "retry"
                reason = f"link lost after the last byte: {exc}"
            else:
                reason = "printer sent no process-ID reply"
            if outcome == "printed":
                job.state = "printed"
                self.stats["printed"] += 1
                self._emit(JobPrinted(job.job_id, job.attempts))
                return
            if outcome == "uncertain":
                job.state = "uncertain"
                self._emit(JobUncertain(job.job_id, reason))
                return

    def _attempt(self, job: Job) -> str:
        """Send the job once: printed | interrupted | uncertain | retry."""
        link = self.link
        assert link is not None
        payload = encode_receipt(job.receipt, native_qr=self.native_qr, job_id=job.job_id)
        link.acks.discard(job.job_id)
        # No status request between chunks: a chunk may end inside a command, and the reference
        # warns that DLE EOT arriving there is taken as that command's data.
        for start in range(0, len(payload), self.chunk):
            link.write(payload[start:start + self.chunk])
        job.sent_all = True
        deadline = time.monotonic() + self.ack_timeout
        next_poll = time.monotonic() + self.busy_poll
        while time.monotonic() < deadline:
            link.pump()
            if job.job_id in link.acks:
                return "printed"
            if time.monotonic() >= next_poll:
                try:
                    status = link.poll()
                except LinkError as exc:  # a lost status reply proves nothing about the job: keep waiting
                    self.stats["link_errors"] += 1
                    log.info("status poll while printing: %s", exc)
                    continue
                finally:
                    next_poll = time.monotonic() + self.busy_poll
                self._set_status(status)
                if not status.ok:
                    return self._interrupt(link, job, status)
        return "uncertain"

    def _interrupt(self, link: Link, job: Job, status: PrinterStatus) -> str:
        if not link.clear_buffers():
            raise LinkError("printer did not confirm clearing its buffers")
        if job.job_id in link.acks:
            return "printed"  # it finished just before it stopped
        reason = status.summary if status.summary != "fault" else ", ".join(status.detail) or "fault"
        log.info("job %s interrupted: %s", job.job_id, reason)
        job.state = "waiting"
        self._emit(JobInterrupted(job.job_id, reason))
        return "interrupted"
