"""`estation demo`: the whole station on one machine.

A local central service on SQLite (loopback), this kiosk provisioned against it,
the signed and sealed outbox, a sync thread uploading records and heartbeats,
the job index built from the sample feed, a simulated ID-card reader on a pty
driven by the real driver, and the touchscreen in a window with a side panel
(or keys 1-8 / 0) to place and lift sample cards.

`--visit` runs one scripted registration headless instead of the window and
checks that its record reached central: the demo's own smoke test.
`--reader-only` prints what the reader reads (no UI, no central).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
import time
from pathlib import Path

from kiosk.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CARDS = ROOT / "drivers" / "idcard" / "sample_cards.json"
SAMPLE_FEED = ROOT / "kiosk" / "jobs" / "sample_feed.json"
SYNC_INTERVAL_S = 2.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the demo station (local central, simulated devices, a window)")
    p.add_argument("--data-dir", default="var/demo", help="where the demo keeps its files (default var/demo)")
    p.add_argument("--city", default="xuchang", choices=["wenzhou", "xuchang", "xinyu", "liaocheng", "hubei"])
    p.add_argument("--cards", default=str(SAMPLE_CARDS), help="JSON list of sample cards")
    p.add_argument("--lang", default="zh_CN", choices=["zh_CN", "en"])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--visit", action="store_true", help="run one scripted registration headless and check it")
    mode.add_argument("--reader-only", action="store_true", help="only print the cards the reader reads")
    p.add_argument("--count", type=int, default=0, help="--reader-only: stop after this many reads")
    p.add_argument("--dwell", type=float, default=2.0, help="--reader-only: seconds each card rests")
    p.add_argument("--gap", type=float, default=1.0, help="--reader-only: seconds between cards")
    p.set_defaults(handler=run)


def _load_cards(path: str) -> list[dict]:
    from drivers.idcard.sim import load_cards

    try:
        cards = load_cards(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--cards: {exc}") from None
    if not cards:
        raise UsageError("--cards: the deck is empty")
    return cards


class DemoStation:
    """Everything but the window: start() brings it up, stop() takes it down in reverse."""

    def __init__(self, data_dir: Path, city: str, cards: list[dict], lang: str = "zh_CN") -> None:
        self.data_dir, self.city, self.cards, self.lang = data_dir.absolute(), city, cards, lang
        self.sync_dir = self.data_dir / "sync"
        self.jobs_index = self.data_dir / "jobs.sqlite"
        self.on_intent = lambda intent: None  # replaced by the UI or the scripted visit
        self.last_sync = "never"
        self._stop = threading.Event()

    def start(self) -> DemoStation:
        from drivers.idcard.sim import SimulatedReader
        from drivers.ioboard.sim import SimulatedBoard
        from drivers.printer.sim import SimulatedPrinter
        from kiosk.cli.localcentral import start_local_central
        from kiosk.cli.peripherals import StationDevices
        from kiosk.cli.station import build_session
        from sync.feeds import policy_pack_dir
        from sync.identity import load_identity
        from sync.outbox import Outbox

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._build_job_index()
        self.central = start_local_central(self.data_dir / "central.sqlite")
        self.operator_token = self.central.central.create_operator_token()
        enrollment = self._enroll()
        self.identity = load_identity(self.sync_dir / "device.key")
        self.outbox = Outbox(self.sync_dir, self.identity, enrollment)
        self.session = build_session(city=self.city, station_id="ws-demo", sink=self.outbox, signer=self.identity,
                                     jobs_index=self.jobs_index, lang=self.lang,
                                     policy_dir=policy_pack_dir(self.sync_dir))
        self._sync_thread = threading.Thread(target=self._sync_loop, name="demo-sync", daemon=True)
        self._sync_thread.start()
        link_dir = str(self.data_dir)
        self.receipts_dir = self.data_dir / "receipts"
        self.receipts_dir.mkdir(exist_ok=True)
        self.sim = SimulatedReader(self.cards, link_dir=link_dir).start()
        self.printer_sim = SimulatedPrinter(out_dir=str(self.receipts_dir), link_dir=link_dir).start()
        self.board_sim = SimulatedBoard(link_dir=link_dir).start()
        self.devices = StationDevices(session=self.session, sync_dir=self.sync_dir, reader_port=self.sim.port,
                                      printer_port=self.printer_sim.port, board_port=self.board_sim.port,
                                      lang=self.lang)
        self.devices.on_intent = lambda intent: self.on_intent(intent)
        self.devices.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for part in ("devices", "sim", "printer_sim", "board_sim"):
            if hasattr(self, part):
                getattr(self, part).stop()
        if hasattr(self, "_sync_thread"):
            self._sync_thread.join(10)
        if hasattr(self, "outbox"):
            self.outbox.close()
        if hasattr(self, "central"):
            self.central.stop()

    # --- parts ---------------------------------------------------------------------------------
    def _build_job_index(self) -> None:
        """The sample feed's index, built once, and again when missing or not searchable by this
        version (a `var/demo` kept from before an index schema change, or a damaged file)."""
        from kiosk.jobs import build_index, parse_feed
        from kiosk.jobs.index import index_is_current

        if index_is_current(self.jobs_index):
            return
        build_index(parse_feed(SAMPLE_FEED.read_bytes()), self.jobs_index)

    def _enroll(self):
        """Provision once; on later runs re-point the enrollment at this run's local central port."""
        from sync.enrollment import load_enrollment, save_enrollment
        from sync.provision import provision

        if (self.sync_dir / "enrollment.json").exists():
            enrollment = dataclasses.replace(load_enrollment(self.sync_dir), central_url=self.central.url)
            save_enrollment(self.sync_dir, enrollment)
            return enrollment
        token, _ = self.central.central.create_enroll_token(label="demo kiosk")
        return provision(sync_dir=self.sync_dir, central_url=self.central.url, token=token, hardware_id="demo")

    def _sync_loop(self) -> None:
        from sync.runner import SyncRunner

        runner = SyncRunner(self.sync_dir)
        try:
            while not self._stop.is_set():
                result = runner.run_pass(heartbeat=True)
                self.last_sync = time.strftime("%H:%M:%S") + (f" ({result.error})" if result.error else " OK")
                self._stop.wait(SYNC_INTERVAL_S)
        finally:
            runner.close()

    def sync_now(self) -> None:
        from sync.runner import SyncRunner

        runner = SyncRunner(self.sync_dir)
        try:
            runner.run_pass(heartbeat=True)
        finally:
            runner.close()

    def status(self) -> dict:
        return {**self.devices.status(), "待上传记录": len(list(self.outbox.dirs.spool.glob("*.rec"))),
                "最近同步": self.last_sync, "中心服务": self.central.url, "设备编号": self.identity.device_id,
                "岗位库": str(self.jobs_index)}

    def wait_printed(self, timeout: float) -> str | None:
        """The PNG of the last receipt the simulated printer finished, once it has."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [s for s in self.printer_sim.sheets if s.path and not s.path.endswith("-torn.png")]
            if done:
                return done[-1].path
            time.sleep(0.05)
        return None

    @property
    def dashboard_url(self) -> str:
        return f"{self.central.url}/dashboard"

    def dashboard_records(self) -> int | None:
        """Records the operator dashboard counts for this kiosk (read as an operator would)."""
        import re

        import httpx

        page = httpx.get(self.dashboard_url, headers={"Authorization": f"Bearer {self.operator_token}"}, timeout=10)
        row = next((r for r in page.text.split("<tr") if self.identity.device_id in r), "")
        found = re.search(r'data-col="records" class="num">(\d+) /', row)
        return int(found[1]) if page.status_code == 200 and found else None

    def stored_at_central(self, record_id: str) -> bool:
        return self.central.central.repo.stored_record(record_id=record_id) is not None


def run(args: argparse.Namespace) -> int:
    cards = _load_cards(args.cards)
    if args.reader_only:
        return _reader_only(cards, args)
    station = DemoStation(Path(args.data_dir), args.city, cards, args.lang)
    try:
        station.start()
        if args.visit:
            return _scripted_visit(station)
        from kiosk.cli.window import run_window

        print(f"operator dashboard: {station.dashboard_url}  (operator token: {station.operator_token})", flush=True)
        return run_window(station)
    finally:
        station.stop()


def _scripted_visit(station: DemoStation) -> int:
    """A resident's registration through the real reader, session and outbox, then upload."""
    import queue

    from kiosk import intents as I

    inbox: queue.Queue = queue.Queue()
    station.on_intent = inbox.put
    session = station.session
    card = station.cards[1 % len(station.cards)]
    started = time.monotonic()
    station.sim.place(card)
    while not isinstance(intent := inbox.get(timeout=10), I.CardPlaced):
        pass
    session.handle(intent)
    session.handle(I.Continue())
    session.handle(I.Consent(True))
    answers = {"employed": "no", "receiving_pension": "no", "in_school": "no"}
    while session.question is not None:
        q = session.question
        session.handle(I.Answer(q.fact, answers.get(q.fact, "yes") if q.choices[0].id == "yes" else q.choices[-1].id))
    programs = session.applicable_programs()
    if not programs:
        print("error: the sample resident is eligible for nothing in this pack")
        return 1
    session.handle(I.Apply(programs[0]))
    session.handle(I.Confirm("13800138000"))
    receipt = session.receipt
    station.sim.remove()
    printed = station.wait_printed(timeout=10)
    station.sync_now()
    pending = list(station.outbox.dirs.spool.glob("*.rec"))
    at_central = station.stored_at_central(receipt.record_id)
    on_dashboard = station.dashboard_records()
    print(json.dumps({"program": programs[0], "record_id": receipt.record_id, "seq": receipt.seq,
                      "receipt_token": receipt.token, "stored_at_central": at_central,
                      "printed_receipt": printed, "dashboard_records": on_dashboard,
                      "pending_after_sync": len(pending), "seconds": round(time.monotonic() - started, 2)},
                     ensure_ascii=False))
    return 0 if at_central and not pending and printed and on_dashboard else 1


def _reader_only(cards: list[dict], args: argparse.Namespace) -> int:
    from drivers.idcard.events import CardError, CardRead, CardRemoved
    from drivers.idcard.sim import SimulatedReader
    from drivers.idcard.transport import CardReader
    from kiosk.logs import mask_personal

    if args.dwell <= 0 or args.gap < 0 or args.count < 0:
        raise UsageError("--dwell must be > 0, --gap and --count >= 0")
    done, reads = threading.Event(), [0]

    def on_event(event: object) -> None:
        if isinstance(event, CardRead):
            reads[0] += 1
            shown = mask_personal({k: event.card[k] for k in ("name", "id_number")})
            print(f"card read    {event.card['card_type']:<17} {shown['name']:<12} {shown['id_number']:<18} "
                  f"sex {event.card['sex']}", flush=True)
            if args.count and reads[0] >= args.count:
                done.set()
        elif isinstance(event, CardRemoved):
            print("card removed", flush=True)
        elif isinstance(event, CardError):
            print(f"card error   {event.reason} (after {event.attempts} attempts)", flush=True)
        else:
            print(f"reader       {event}", flush=True)

    with SimulatedReader(cards) as sim:
        print(f"e-Station demo: simulated ID-card reader on {sim.port}; Ctrl-C to stop", flush=True)
        with CardReader(sim.port, on_event):
            index = 0
            try:
                while not done.is_set():
                    sim.place(cards[index % len(cards)])
                    if done.wait(args.dwell):
                        break
                    sim.remove()
                    done.wait(args.gap)
                    index += 1
            except KeyboardInterrupt:
                pass
    return 0
