"""Adapters that turn the pure core into a running station (composition root, with demo.py/run.py).

Real clock, device-key signer, job search on the index file, and the mapping
from reader events to session intents.  Everything here may touch the outside
world; kiosk/session.py and friends never do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from kiosk import intents as I
from kiosk.jobs import Filters, JobIndex
from kiosk.jobs.index import IndexError_
from kiosk.policy import Pack, load_pack
from kiosk.policy.pack import PACKS_DIR, read_pack, version_order
from kiosk.ports import RecordSink, Signer
from kiosk.session import Session, SessionConfig, State

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


class CityPack:
    """The station's policy pack: the one the sync process adopted from the policy feed and
    materialised under `fed_dir` (<fed_dir>/<city>/pack.toml, <fed_dir>/feed.json; fed_dir is a
    symlink the sync process swaps atomically) when it is this city's, loads cleanly and is not older
    (`version_order`) than the pack installed with the software, else the installed pack.  Data only:
    a fed directory is loaded with hooks off, and a city whose installed pack has hooks.py never takes
    a fed pack.  Logs which pack, once per change."""

    def __init__(self, city: str, fed_dir: Path | None) -> None:
        self.city, self.fed_dir = city, fed_dir
        self._installed: Pack | None = None
        self._key: object = ()  # what the fed pack was last chosen from (the symlink's target)
        self._pack: Pack | None = None
        self.source = "installed"  # or "feed v<version>"

    def installed(self) -> Pack:
        if self._installed is None:
            self._installed = load_pack(self.city)
        return self._installed

    def _target(self) -> str | None:
        if self.fed_dir is None:
            return None
        try:
            return os.readlink(self.fed_dir)
        except OSError:  # no feed adopted (or not a symlink: not the sync process's doing)
            return None

    def current(self) -> Pack:
        target = self._target()
        if self._pack is not None and target == self._key:
            return self._pack
        self._key = target
        pack, source, why = self._choose(target)
        if self._pack is None or (pack.name, pack.version, source) != (self._pack.name, self._pack.version,
                                                                        self.source):
            log.info("policy pack in use", extra={"pack": pack.name, "pack_version": pack.version,
                                                  "source": source, "reason": why})
        self._pack, self.source = pack, source
        return pack

    def _choose(self, target: str | None) -> tuple[Pack, str, str]:
        if target is None or self.fed_dir is None:
            return self.installed(), "installed", "no policy feed adopted"
        directory = self.fed_dir.parent / target  # resolved once: a later swap does not mix versions
        try:
            meta = json.loads((directory / "feed.json").read_text(encoding="utf-8"))
            version = int(meta["version"])
            # "packs" since one feed may carry several cities; "pack" as materialised by 0.1.0
            fed_cities = [str(name) for name in meta["packs"]] if "packs" in meta else [str(meta["pack"])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return self.installed(), "installed", f"adopted policy pack unreadable: {exc}"[:200]
        if self.city not in fed_cities:
            return self.installed(), "installed", f"policy feed v{version} has no pack for {self.city!r}"
        if (PACKS_DIR / self.city / "hooks.py").exists():
            return self.installed(), "installed", "installed pack has hooks.py: not replaceable by the feed"
        try:
            pack = read_pack(directory / self.city, hooks=False)
        except Exception as exc:  # noqa: BLE001 - a fed pack that does not load never stops the station
            log.warning("adopted policy pack does not load, using the installed pack",
                        extra={"pack": self.city, "feed_version": version, "problem": str(exc)[:200]})
            return self.installed(), "installed", f"policy feed v{version} does not load"
        if pack.name != self.city:
            return self.installed(), "installed", f"policy feed v{version} holds pack {pack.name!r}"
        installed, fed = version_order(self.installed().version), version_order(pack.version)
        if installed and fed and installed > fed:  # a software update brought newer rules than central has
            return self.installed(), "installed", (f"installed pack {self.installed().version} is newer than "
                                                   f"{pack.version} from policy feed v{version}")
        return pack, f"feed v{version}", "adopted from the policy feed"


class StationSession(Session):
    """A Session that takes up a newly adopted policy pack when a visit starts: the pack is checked
    before the first non-tick intent handled while idle with no visit, never during a visit."""

    def __init__(self, packs: CityPack, *args: Any, **kwargs: Any) -> None:
        self.packs = packs
        super().__init__(packs.current(), *args, **kwargs)

    def handle(self, intent: I.Intent) -> bool:
        if self.state is State.IDLE and self.visit is None and not isinstance(intent, I.Tick):
            self.pack = self.packs.current()
        return super().handle(intent)


def build_session(*, city: str, station_id: str, sink: RecordSink, signer: Signer | None, jobs_index: Path,
                  lang: str = "zh_CN", policy_dir: Path | None = None) -> Session:
    """policy_dir: the sync process's materialised policy feed (sync.feeds.policy_pack_dir), if any."""
    return StationSession(CityPack(city, policy_dir), sink, SystemClock(), os.urandom,
                          config=SessionConfig(station_id=station_id, lang="en" if lang == "en" else "zh"),
                          signer=signer, job_search=IndexJobSearch(jobs_index))
