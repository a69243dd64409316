"""The demo's job index across an upgrade: `var/demo/jobs.sqlite` left by an older release (another
index schema) or damaged is rebuilt from the sample feed; a current one is kept.  And the station's
job search shows nothing (rather than failing) while the index on disk is one it cannot search."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from pathlib import Path

import pytest

from kiosk import intents as I
from kiosk.cli.demo import SAMPLE_FEED, DemoStation
from kiosk.cli.station import IndexJobSearch
from kiosk.jobs import Filters, build_index, parse_feed
from kiosk.jobs.index import JobIndex, index_is_current

SAMPLE = json.loads(SAMPLE_FEED.read_bytes())
FIRST = SAMPLE["postings"][0]
ON = dt.date.fromisoformat(FIRST["posted_on"])


def old_schema_index(path: Path) -> None:
    """The index file a release with index schema 1 wrote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1'), ('feed_version', '1');
        CREATE TABLE postings (rank INTEGER PRIMARY KEY, id TEXT, title TEXT);
    """)
    conn.commit()
    conn.close()


def garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an index\x00" * 100)


def empty(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def assert_sample_index(path: Path) -> None:
    with JobIndex(path) as jobs:
        assert jobs.count() == len(SAMPLE["postings"])
        assert FIRST["id"] in [h.posting.id for h in jobs.search(FIRST["title"], Filters(on=ON))]


@pytest.mark.parametrize("leftover", [old_schema_index, garbage, empty], ids=["old-schema", "garbage", "empty"])
def test_demo_rebuilds_an_index_it_cannot_search(tmp_path, leftover):
    station = DemoStation(tmp_path / "demo", "xuchang", cards=[])
    leftover(station.jobs_index)
    assert not index_is_current(station.jobs_index)
    station._build_job_index()
    assert index_is_current(station.jobs_index)
    assert_sample_index(station.jobs_index)
    assert sorted(p.name for p in station.jobs_index.parent.iterdir()) == ["jobs.sqlite"]  # no temp file


def test_demo_builds_a_missing_index_and_keeps_a_current_one(tmp_path):
    station = DemoStation(tmp_path / "demo", "xuchang", cards=[])
    station._build_job_index()
    assert_sample_index(station.jobs_index)
    before = station.jobs_index.stat()
    station._build_job_index()  # a second start: nothing to do
    after = station.jobs_index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_station_search_shows_nothing_for_an_unsearchable_index_then_picks_up_the_rebuild(tmp_path, caplog):
    path = tmp_path / "jobs.sqlite"
    old_schema_index(path)
    search = IndexJobSearch(path)
    with caplog.at_level(logging.WARNING, logger="estation.station"):
        assert search(I.Search(FIRST["title"]), ON) == []
        assert search(I.Search(FIRST["title"]), ON) == []
    assert len([r for r in caplog.records if "not searchable" in r.getMessage()]) == 1  # once per file
    build_index(parse_feed(SAMPLE_FEED.read_bytes()), path)  # what the sync process / demo does
    assert FIRST["id"] in [p["id"] for p in search(I.Search(FIRST["title"]), ON)]
