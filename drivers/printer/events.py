"""Events the printer transport emits through its callback (frozen, safe to hand to another thread)."""

from __future__ import annotations

from dataclasses import dataclass

from .status import PrinterStatus


@dataclass(frozen=True)
class PrinterConnected:
    port: str
    status: PrinterStatus


@dataclass(frozen=True)
class PrinterDisconnected:
    port: str
    reason: str


@dataclass(frozen=True)
class StatusChanged:
    """The summary moved (ok / paper_low / paper_out / fault / absent): tell the operator."""

    summary: str
    previous: str
    status: PrinterStatus | None  # None when absent


@dataclass(frozen=True)
class JobStarted:
    job_id: str
    attempt: int


@dataclass(frozen=True)
class JobInterrupted:
    """Printing stopped mid-job (paper out, cover open...); the printer's buffers were cleared
    and the whole job is sent again once the printer is ready, within the job's lifetime."""

    job_id: str
    reason: str


@dataclass(frozen=True)
class JobPrinted:
    job_id: str
    attempts: int


@dataclass(frozen=True)
class JobFailed:
    """Not printed and not retried any more (expired, or the printer refused it)."""

    job_id: str
    reason: str


@dataclass(frozen=True)
class JobUncertain:
    """All bytes went out but no proof of printing came back (link lost, no process-ID reply).
    Not retried: a second copy is worse than none, the receipt QR is on the screen anyway."""

    job_id: str
    reason: str


PrinterEvent = (PrinterConnected | PrinterDisconnected | StatusChanged | JobStarted | JobInterrupted | JobPrinted
                | JobFailed | JobUncertain)
