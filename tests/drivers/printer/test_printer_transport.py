"""Transport over a real pty pair against the simulator: printing, every fault, retries without duplicates."""

from __future__ import annotations

import inspect
import threading

import pytest
from pyzbar.pyzbar import ZBarSymbol, decode

from drivers.printer.events import (JobFailed, JobInterrupted, JobPrinted, JobStarted, JobUncertain, PrinterConnected,
                                    PrinterDisconnected, StatusChanged)
from drivers.printer.protocol import Receipt
from drivers.printer.sim import Faults, SimulatedPrinter
from drivers.printer.transport import ReceiptPrinter, open_serial
from printer_harness import FAST, EventLog

LINES = ["就业服务 e 站 回执", "业务：失业登记", "受理编号：2026-000042", "请凭此回执到窗口办理"]
TOKEN = "EST1.eyJyIjoiMDE5MmY0YTAtN2I1Yy03MDAwLThhYmMtMDEyMzQ1Njc4OWFiIn0.c2lnbmF0dXJl"


def _scan(image) -> list[str]:
    return [s.data.decode() for s in decode(image, symbols=[ZBarSymbol.QRCODE])]


def test_connects_and_reports_ok(printer, sim):
    event = printer.log.wait_for(PrinterConnected)
    assert event.status.ok and printer.status() == "ok"
    assert sim.status_requests >= 4


def test_a_receipt_comes_out_whole_with_a_qr_that_scans_to_the_token(printer, sim):
    printer.log.wait_for(PrinterConnected)
    printer.print_receipt(LINES, TOKEN)
    done = printer.log.wait_for(JobPrinted)
    sheet = sim.assert_printed_once(done.job_id)
    assert sheet.lines == LINES and sheet.qr_data == [TOKEN.encode()]
    assert sheet.path and sheet.path.endswith(".png")
    from PIL import Image

    assert _scan(Image.open(sheet.path)) == [TOKEN]
    assert done.attempts == 1 and sim.sheets == [sheet]


def test_without_native_qr_the_raster_fallback_scans_too(tmp_path):
    with SimulatedPrinter(link_dir=str(tmp_path), native_qr=False) as sim:
        log = EventLog()
        with ReceiptPrinter(sim.port, log, native_qr=False, **FAST) as p:
            p.print_receipt(LINES, TOKEN)
            done = log.wait_for(JobPrinted)
        sheet = sim.assert_printed_once(done.job_id)
        assert sheet.has_raster and sheet.qr_data == [] and _scan(sheet.image) == [TOKEN]


STOPS = [("paper_out", "paper_out"), ("cover_open", "fault"), ("offline", "fault"), ("autocutter", "fault"),
         ("recoverable", "fault"), ("unrecoverable", "fault")]


@pytest.mark.parametrize("stop_as, summary", STOPS)
def test_stopped_mid_receipt_is_retried_after_recovery_and_printed_once(printer, sim, stop_as, summary):
    printer.log.wait_for(PrinterConnected)
    sim.faults.stop_after_lines, sim.faults.stop_as = 3, stop_as
    printer.print_receipt(LINES, TOKEN)
    interrupted = printer.log.wait_for(JobInterrupted)
    assert printer.log.seen(StatusChanged, summary=summary)
    assert printer.status() == summary and printer.jobs[interrupted.job_id].state == "waiting"
    stub = sim.sheets[-1]
    assert not stub.complete and stub.lines == LINES[:2]  # torn off when the buffers were cleared
    printer.log.settle(0.15)
    assert len(sim.sheets) == 1  # nothing more comes out while it is stopped
    sim.recover()
    done = printer.log.wait_for(JobPrinted)
    assert done.job_id == interrupted.job_id and done.attempts == 2
    sheet = sim.assert_printed_once(done.job_id)
    assert sheet.lines == LINES and _scan(sheet.image) == [TOKEN]
    assert printer.status() == "ok" and len(sim.complete_sheets()) == 1


@pytest.mark.parametrize("fault, summary", [("paper_out", "paper_out"), ("cover_open", "fault"),
                                            ("offline", "fault"), ("unrecoverable", "fault")])
def test_a_printer_not_ready_holds_the_job_until_it_is(printer, sim, fault, summary):
    printer.log.wait_for(PrinterConnected)
    {"paper_out": sim.run_out_of_paper, "cover_open": sim.open_cover, "offline": sim.set_offline,
     "unrecoverable": lambda: sim.set_error("unrecoverable")}[fault]()
    printer.log.wait_for(StatusChanged, summary=summary)
    job = printer.submit(Receipt.from_lines(LINES, TOKEN))
    printer.log.settle(0.2)
    assert printer.jobs[job].state == "waiting" and not printer.log.of(JobStarted) and sim.sheets == []
    sim.recover()
    printer.log.wait_for(JobPrinted, job_id=job)
    sim.assert_printed_once(job)


def test_paper_near_end_still_prints_and_tells_the_operator(printer, sim):
    printer.log.wait_for(PrinterConnected)
    sim.faults.paper_near_end = True
    printer.log.wait_for(StatusChanged, summary="paper_low")
    printer.print_receipt(LINES, TOKEN)
    printer.log.wait_for(JobPrinted)
    assert printer.status() == "paper_low" and len(sim.complete_sheets()) == 1


def test_several_jobs_each_with_a_paper_out_each_printed_exactly_once(printer, sim):
    printer.log.wait_for(PrinterConnected)
    jobs = []
    for i in range(4):
        sim.faults.stop_after_lines = 1 + i
        jobs.append(printer.submit(Receipt.from_lines([f"回执 {i}", *LINES[1:]], f"{TOKEN}-{i}")))
        printer.log.wait_for(JobInterrupted, job_id=jobs[-1])
        sim.load_paper()
        printer.log.wait_for(JobPrinted, job_id=jobs[-1])
    assert sim.printed_jobs == jobs
    assert [s.qr_data for s in sim.complete_sheets()] == [[f"{TOKEN}-{i}".encode()] for i in range(4)]
    assert sum(not s.complete for s in sim.sheets) == 4


def test_a_job_that_cannot_print_in_time_is_dropped_not_printed_later(sim):
    log = EventLog()
    with ReceiptPrinter(sim.port, log, **{**FAST, "job_ttl": 0.3}) as p:
        log.wait_for(PrinterConnected)
        sim.run_out_of_paper()
        job = p.submit(Receipt.from_lines(LINES, TOKEN))
        assert "next person" in log.wait_for(JobFailed, job_id=job).reason
        sim.load_paper()
        log.settle(0.2)
    assert sim.sheets == [] and p.jobs[job].state == "failed"


def test_garbage_on_the_line_does_not_change_status_or_duplicate(sim, printer):
    printer.log.wait_for(PrinterConnected)
    sim.faults.noise, sim.faults.noise_rate = 3, 0.5
    for _ in range(3):
        printer.print_receipt(LINES, TOKEN)
        printer.log.wait_for(JobPrinted)
    printer.log.settle(0.3)
    assert printer.link.noise_bytes > 0 and printer.status() == "ok"
    assert len(sim.complete_sheets()) == 3 and len(set(sim.printed_jobs)) == 3
    assert not printer.log.of(StatusChanged)[1:]  # never flickered away from ok


def test_slow_replies_within_the_timeout_are_fine(sim, printer):
    printer.log.wait_for(PrinterConnected)
    sim.faults.delay = 0.03
    printer.print_receipt(LINES, TOKEN)
    printer.log.wait_for(JobPrinted)
    assert printer.status() == "ok"


def test_a_silent_printer_is_absent_and_comes_back(sim, printer):
    printer.log.wait_for(PrinterConnected)
    sim.faults.silent = True
    printer.log.wait_for(PrinterDisconnected, timeout=5)
    assert printer.status() == "absent"
    sim.faults.silent = False
    printer.log.wait_for(PrinterConnected, timeout=5)
    assert printer.status() == "ok"


def test_too_slow_replies_count_as_absent(sim):
    sim.faults.delay = 0.5  # longer than the 0.3 s status timeout
    log = EventLog()
    with ReceiptPrinter(sim.port, log, **FAST) as p:
        log.wait_for(PrinterDisconnected, timeout=5)
        assert p.status() == "absent"


def test_unplug_while_idle_then_replug(printer, sim):
    printer.log.wait_for(PrinterConnected)
    sim.unplug()
    printer.log.wait_for(PrinterDisconnected, timeout=5)
    assert printer.status() == "absent"
    sim.replug()
    printer.log.wait_for(PrinterConnected, timeout=5)
    printer.print_receipt(LINES, TOKEN)
    printer.log.wait_for(JobPrinted)
    assert len(sim.complete_sheets()) == 1


class _PullsCableAfter:
    """Opener seam: the port's n-th write pulls the cable (the simulator unplugs) before it fails."""

    def __init__(self, sim: SimulatedPrinter, writes: int, *, after: bool = False) -> None:
        self.sim, self.writes, self.after, self.armed = sim, writes, after, False

    def __call__(self, port: str, baudrate: int):
        real = open_serial(port, baudrate)
        outer = self

        class Port:
            def __getattr__(self, name):
                return getattr(real, name)

            def write(self, data: bytes) -> int:
                if outer.armed and len(data) > 3:  # job bytes, not a status request
                    outer.writes -= 1
                    if outer.writes == 0:
                        outer.armed = False
                        if outer.after:  # every byte reaches the pty, none is read before the cable goes
                            with outer.sim.frozen():
                                real.write(data)
                                real.flush()
                                outer.sim.unplug()
                        else:
                            outer.sim.unplug()
                        threading.Timer(0.2, outer.sim.replug).start()
                        if outer.after:
                            return len(data)
                        raise OSError(5, "Input/output error")
                return real.write(data)

        return Port()


def test_unplug_mid_job_before_the_last_byte_resends_once(sim):
    opener = _PullsCableAfter(sim, writes=2)
    log = EventLog()
    with ReceiptPrinter(sim.port, log, opener=opener, native_qr=False, chunk=256, **FAST) as p:
        log.wait_for(PrinterConnected)
        opener.armed = True
        job = p.submit(Receipt.from_lines(LINES, TOKEN))
        log.wait_for(PrinterDisconnected)
        done = log.wait_for(JobPrinted, job_id=job, timeout=5)
    assert done.attempts == 2
    sheet = sim.assert_printed_once(job)
    assert _scan(sheet.image) == [TOKEN] and len(sim.complete_sheets()) == 1


def test_unplug_after_the_last_byte_is_uncertain_and_never_resent(sim):
    opener = _PullsCableAfter(sim, writes=1, after=True)
    log = EventLog()
    with ReceiptPrinter(sim.port, log, opener=opener, **FAST) as p:
        log.wait_for(PrinterConnected)
        opener.armed = True
        job = p.submit(Receipt.from_lines(LINES, TOKEN))
        log.wait_for(JobUncertain, job_id=job, timeout=5)
        log.wait_for(PrinterConnected, timeout=5)
        log.settle(0.3)
    assert [e.attempt for e in log.of(JobStarted)] == [1]
    # Here it did not print; the transport cannot know that and does not risk a second copy.
    assert job not in sim.printed_jobs and p.jobs[job].state == "uncertain"


def test_a_port_that_does_not_exist_is_absent_and_reported_once(tmp_path):
    log = EventLog()
    with ReceiptPrinter(str(tmp_path / "nothing"), log, **FAST) as p:
        assert "nothing" in log.wait_for(PrinterDisconnected).reason
        log.settle(0.3)  # several reconnect attempts
        assert p.status() == "absent" and len(log.of(PrinterDisconnected)) == 1


def test_it_is_the_kiosks_printer_port():
    from kiosk.ports import Printer  # tests may look at the kiosk; the driver itself never does

    for name in ("print_receipt", "status"):
        ours, theirs = inspect.signature(getattr(ReceiptPrinter, name)), inspect.signature(getattr(Printer, name))
        assert list(ours.parameters) == list(theirs.parameters)
