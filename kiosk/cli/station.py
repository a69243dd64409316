"""Adapters that turn the pure core into a running station (composition root, with demo.py/run.py).

Real clock, device-key signer, job search on the index file, and the mapping
from reader events to session intents.  Everything here may touch the outside
world; kiosk/session.py and friends never do.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from kiosk import intents as I
from kiosk.jobs import Filters, JobIndex
from kiosk.jobs.index import IndexError_
from kiosk.policy import load_pack
from kiosk.ports import RecordSink, Signer
from kiosk.session import Session, SessionConfig

SEARCH_LIMIT = 200
log = logging.getLogger("estation.station")


class SystemClock:
    """kiosk.ports.Clock on the real clocks."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()


class IndexJobSearch:
    """The session's job search on the read-only index; picks up a re-imported index.

    No index, or one this version cannot search (an older schema kept across an upgrade, until the
    sync process rebuilds it from the adopted jobs snapshot): no postings, logged once per file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: JobIndex | None = None
        self._refused: tuple[int, int] | None = None  # identity of the file last refused
        self._lock = threading.Lock()

    def _open(self) -> JobIndex | None:
        with self._lock:
            if self._index is not None and self._index.changed():
                self._index.close()
                self._index = None
            if self._index is None and self.path.is_file():
                try:
                    self._index = JobIndex(self.path)
                except IndexError_ as exc:
                    self._log_refused(exc)
            return self._index

    def _log_refused(self, exc: IndexError_) -> None:
        try:
            st = self.path.stat()
        except OSError:
            return
        if self._refused != (st.st_ino, st.st_mtime_ns):
            self._refused = (st.st_ino, st.st_mtime_ns)
            log.warning("job index not searchable, showing no postings until it is rebuilt",
                        extra={"problem": str(exc)[:200]})

    def __call__(self, query: I.Search, on: dt.date) -> list[dict[str, Any]]:
        index = self._open()
        if index is None:
            return []
        filters = Filters(on=on, district=query.district, category=query.category, pw_only=query.pw_only)
        return [hit.posting.to_json() for hit in index.search(query.query, filters, limit=SEARCH_LIMIT)]


def intent_for_reader_event(event: object) -> object | None:
    """Reader events (drivers.idcard.events) as session intents; None for device-state events."""
    from drivers.idcard.codes import Status
    from drivers.idcard.events import CardError, CardRead, CardRemoved

    if isinstance(event, CardRead):
        return I.CardPlaced(event.card)
    if isinstance(event, CardRemoved):
        return I.CardRemoved()
    if isinstance(event, CardError):
        return I.CardUnreadable(event.reason, not_an_id_card=event.status == Status.UNKNOWN_CARD_TYPE)
    return None


def build_session(*, city: str, station_id: str, sink: RecordSink, signer: Signer | None, jobs_index: Path,
                  lang: str = "zh_CN") -> Session:
    return Session(load_pack(city), sink, SystemClock(), os.urandom,
                   config=SessionConfig(station_id=station_id, lang="en" if lang == "en" else "zh"),
                   signer=signer, job_search=IndexJobSearch(jobs_index))
