"""Kiosk feed client (SYNC.md §7) against a real central (uvicorn, SQLite): adoption, job index swap,
staleness in heartbeats, key rotation chain, each refusal (expired, rolled back, equivocating,
wrongly signed, unknown key, wrong name, malformed, bad content) keeping the last good snapshot, and
the job index rebuilt from the adopted snapshot after an upgrade (old schema, missing, damaged)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from policy_feed_helpers import policy_content
from kiosk.jobs.index import Filters, JobIndex, index_is_current
from kiosk.jobs.samplegen import snapshot as job_snapshot
from sync.central.feeds import publish, rotate_feed_key
from sync.enrollment import load_enrollment
from sync.feeds import FeedClient
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_encode
from sync.protocol.feeds import decide, follow_chain
from sync.protocol.keys import key_id, raw_public
from sync.protocol.timefmt import format_unix
from sync.runner import SyncRunner

JOBS = job_snapshot(12)


@pytest.fixture
def central(sqlite_central):
    return sqlite_central


def signed_snapshot(key: Ed25519PrivateKey, *, name: str = "jobs", version: int = 1, content=None,
                    expires_in: float = 3600, key_id_of: Ed25519PrivateKey | None = None) -> dict:
    now = time.time()
    signed = {"name": name, "version": version, "issued_at": format_unix(now),
              "expires_at": format_unix(now + expires_in), "key_id": key_id(raw_public(key_id_of or key)),
              "content": JOBS if content is None else content}
    return sig.sign_object(key, sig.FEED, signed)


def test_pass_adopts_feeds_swaps_index_and_reports_them(central, kiosk):
    publish(central.central, "jobs", JOBS, 3600)
    publish(central.central, "policy", policy_content("xinyu"), 3600)
    runner = SyncRunner(kiosk)
    try:
        result = runner.run_pass()
        assert result.error is None and result.feeds == {"jobs": "adopted", "policy": "adopted"}
        index = kiosk.parent / "jobs.sqlite"
        with JobIndex(index) as jobs:
            assert jobs.meta["postings"] == str(len(JOBS["postings"]))
            first_sha = jobs.meta["feed_sha256"]
        assert runner.run_pass().feeds == {}  # nothing newer, not half-life yet: no fetch at all
        beat = json.loads(central.central.repo.device(device_id=runner.identity.device_id).last_heartbeat)
        assert beat["feeds"]["jobs"]["version"] == 1 and beat["feeds"]["jobs"]["stale"] is False
        assert beat["feeds"]["policy"]["version"] == 1
        publish(central.central, "jobs", job_snapshot(7), 3600)
        assert runner.run_pass().feeds == {"jobs": "adopted"}
        with JobIndex(index) as jobs:
            assert jobs.meta["postings"] == str(len(job_snapshot(7)["postings"])) and jobs.meta["feed_sha256"] != first_sha
        assert FeedClient(kiosk).current("jobs").version == 2
    finally:
        runner.close()


def test_half_life_refetch_gets_the_resigned_version(central, kiosk):
    publish(central.central, "policy", policy_content("wenzhou"), 3600)
    runner = SyncRunner(kiosk)
    try:
        assert runner.run_pass().feeds == {"policy": "adopted"}
        central.clock.shift = 1900  # past half-life: the kiosk asks, central re-signs as version 2
        result = runner.run_pass()
        assert result.feeds == {"policy": "adopted"} and FeedClient(kiosk).current("policy").version == 2
    finally:
        runner.close()


def test_expired_snapshot_is_still_served_but_reported_stale(central, kiosk):
    feeds = FeedClient(kiosk)
    enrollment = load_enrollment(kiosk)
    key = central.central.keyring.keys.feed
    _, outcome = feeds.offer("jobs", signed_snapshot(key, expires_in=120), enrollment, now=time.time())
    assert outcome == "adopted"
    later = time.time() + 600
    assert feeds.heartbeat_feeds(later)["jobs"]["stale"] is True
    assert feeds.current("jobs").stale(later) and feeds.current("jobs").content == JOBS  # still served
    assert feeds.heartbeat_feeds(time.time())["jobs"]["stale"] is False


def _refused(feeds: FeedClient, kiosk: Path, snapshot, code: str, *, name: str = "jobs", now=None) -> None:
    before = feeds.current(name)
    index = kiosk.parent / "jobs.sqlite"
    index_before = index.stat().st_ino if index.exists() else None
    _, outcome = feeds.offer(name, snapshot, load_enrollment(kiosk), now=now or time.time())
    assert outcome == code
    after = feeds.current(name)
    assert (before is None and after is None) or after.snapshot_bytes == before.snapshot_bytes
    assert (index.stat().st_ino if index.exists() else None) == index_before  # index not swapped
    assert feeds.status()[name]["error"] == code


def test_each_refusal_keeps_the_last_good_snapshot(central, kiosk):
    feeds = FeedClient(kiosk)
    key = central.central.keyring.keys.feed
    good = signed_snapshot(key, version=5)
    assert feeds.offer("jobs", good, load_enrollment(kiosk), now=time.time())[1] == "adopted"
    # expired (freeze attack: an old but validly signed, newer-numbered snapshot)
    _refused(feeds, kiosk, signed_snapshot(key, version=6, expires_in=-1), "expired")
    # rolled back: an older version, validly signed
    _refused(feeds, kiosk, signed_snapshot(key, version=4), "rollback")
    # equivocating: the same version with other content, validly signed
    _refused(feeds, kiosk, signed_snapshot(key, version=5, content=job_snapshot(3)), "rollback")
    assert "equivocation" in feeds.status()["jobs"]["detail"]
    # wrongly signed: claims the pinned key_id but signed by another key
    rogue = Ed25519PrivateKey.generate()
    _refused(feeds, kiosk, signed_snapshot(rogue, version=7, key_id_of=key), "bad_signature")
    tampered = signed_snapshot(key, version=7)
    tampered["signed"]["content"] = job_snapshot(2)
    _refused(feeds, kiosk, tampered, "bad_signature")
    # signed by a key nothing leads to
    _refused(feeds, kiosk, signed_snapshot(rogue, version=7), "unknown_key")
    # a snapshot of another feed served under this name
    _refused(feeds, kiosk, signed_snapshot(key, version=7, name="policy"), "wrong_name")
    _refused(feeds, kiosk, {"signed": good["signed"]}, "malformed")
    _refused(feeds, kiosk, signed_snapshot(key, version=7, content={"postings": []}), "bad_content")
    # the identical snapshot again is fine, and a real new version is adopted
    assert feeds.offer("jobs", good, load_enrollment(kiosk), now=time.time())[1] == "unchanged"
    assert feeds.status()["jobs"] is None
    assert feeds.offer("jobs", signed_snapshot(key, version=8), load_enrollment(kiosk), now=time.time())[1] == \
        "adopted"


def test_expiry_uses_the_corrected_clock(central, kiosk):
    feeds = FeedClient(kiosk)
    snap = signed_snapshot(central.central.keyring.keys.feed, expires_in=100)
    _refused(feeds, kiosk, snap, "expired", now=time.time() + 101)


def test_rotation_chain_is_followed_and_repinned(central, kiosk):
    old_pinned = load_enrollment(kiosk).feed_key
    rotate_feed_key(central.central)
    rotate_feed_key(central.central)  # two links: old → mid → new
    publish(central.central, "jobs", JOBS, 3600)
    runner = SyncRunner(kiosk)
    try:
        assert runner.run_pass().feeds == {"jobs": "adopted"}
    finally:
        runner.close()
    new = central.central.keyring.keys.feed
    assert load_enrollment(kiosk).feed_key == b64u_encode(raw_public(new)) != old_pinned


def test_rotation_links_need_both_signatures(central, kiosk):
    pinned = central.central.keyring.keys.feed
    link = rotate_feed_key(central.central)
    new = central.central.keyring.keys.feed
    target = key_id(raw_public(new))
    assert follow_chain(raw_public(pinned), target, [link]) == raw_public(new)
    for field in ("sig", "sig_new"):
        broken = json.loads(json.dumps(link))
        broken[field] = b64u_encode(bytes(64))
        assert follow_chain(raw_public(pinned), target, [broken]) is None
    # a link "signed" only by an attacker's pair of keys does not extend the chain
    rogue_old, rogue_new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    s = {"seq": 9, "old_key_id": key_id(raw_public(pinned)), "new_key_id": key_id(raw_public(rogue_new)),
         "new_key": b64u_encode(raw_public(rogue_new)), "issued_at": format_unix(time.time())}
    data = sig.signing_input(sig.FEED_KEY, s)
    forged = {"signed": s, "sig": b64u_encode(rogue_old.sign(data)), "sig_new": b64u_encode(rogue_new.sign(data))}
    snap = signed_snapshot(rogue_new)
    decision = decide(snap, name="jobs", pinned_key=raw_public(pinned), rotations=[forged], stored=None,
                      now=time.time())
    assert (decision.ok, decision.error) == (False, "unknown_key")
    # a loop in the links terminates
    assert follow_chain(raw_public(pinned), "0" * 16, [link, link]) is None


def test_network_path_refuses_and_keeps_serving(central, kiosk):
    """A central (or a man in the middle with its DB) serving a snapshot under a foreign key."""
    publish(central.central, "policy", policy_content("xinyu"), 3600)
    runner = SyncRunner(kiosk)
    try:
        assert runner.run_pass().feeds == {"policy": "adopted"}
        # central's feed key replaced without a rotation link: snapshots no longer chain to the pin
        from sync.central.keyring import new_key
        kid, private = new_key("feed")
        central.central.repo.replace_central_key(purpose="feed", key_id=kid, private=private,
                                                 now_text=format_unix(time.time()))
        central.central.keyring.reload()
        publish(central.central, "policy", policy_content("xinyu", version="evil"), 3600)
        result = runner.run_pass()
        assert result.feeds == {"policy": "unknown_key"} and result.error is None
        assert FeedClient(kiosk).current("policy").content == policy_content("xinyu")
    finally:
        runner.close()


# ----------------------------------------------------------------- job index after an upgrade

def old_schema_index(path: Path) -> bytes:
    """A job index as an older release wrote it (schema 1: a column per field); returns its bytes."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1'), ('feed_version', '1');
        CREATE TABLE postings (rank INTEGER PRIMARY KEY, id TEXT, title TEXT);
        INSERT INTO postings VALUES (1, 'OLD-1', 'old');
    """)
    conn.commit()
    conn.close()
    return path.read_bytes()


def adopt_jobs(central, kiosk: Path, *, version: int = 1, expires_in: float = 3600) -> FeedClient:
    feeds = FeedClient(kiosk)
    snap = signed_snapshot(central.central.keyring.keys.feed, version=version, expires_in=expires_in)
    assert feeds.offer("jobs", snap, load_enrollment(kiosk), now=time.time())[1] == "adopted"
    return feeds


def assert_searchable(index: Path, snapshot_file: Path) -> None:
    first = JOBS["postings"][0]
    with JobIndex(index) as jobs:
        assert jobs.meta["postings"] == str(len(JOBS["postings"]))
        assert jobs.meta["feed_sha256"] == hashlib.sha256(snapshot_file.read_bytes()).hexdigest()
        hits = jobs.search(first["title"], Filters(on=dt.date.fromisoformat(first["posted_on"])))
        assert first["id"] in [h.posting.id for h in hits]


def test_old_schema_index_is_rebuilt_from_the_adopted_snapshot_on_the_next_pass(central, kiosk):
    feeds = adopt_jobs(central, kiosk)
    index, snapshot_file = kiosk.parent / "jobs.sqlite", kiosk / "feeds" / "jobs.snapshot"
    snapshot_before, status_before = snapshot_file.read_bytes(), feeds.status()
    old_schema_index(index)  # the file an older release left behind
    assert not index_is_current(index)
    runner = SyncRunner(kiosk)
    try:
        result = runner.run_pass()  # central has nothing newer: only the rebuild brings job search back
        assert result.job_index == "rebuilt" and result.feeds == {} and result.error is None
        assert_searchable(index, snapshot_file)
        assert runner.run_pass().job_index == "current"
    finally:
        runner.close()
    # nothing was adopted anew: same snapshot, same version, no status change
    assert snapshot_file.read_bytes() == snapshot_before and feeds.status() == status_before
    assert FeedClient(kiosk).current("jobs").version == 1


def test_rebuild_needs_no_central(central, kiosk):
    adopt_jobs(central, kiosk)
    old_schema_index(kiosk.parent / "jobs.sqlite")
    central.stop()  # an upgraded kiosk that comes back offline
    runner = SyncRunner(kiosk, timeout_s=2)
    try:
        result = runner.run_pass()
        assert result.error is not None and result.job_index == "rebuilt"
    finally:
        runner.close()
    assert_searchable(kiosk.parent / "jobs.sqlite", kiosk / "feeds" / "jobs.snapshot")


def test_missing_index_is_rebuilt_and_expired_snapshot_too(central, kiosk):
    feeds = adopt_jobs(central, kiosk, expires_in=1)
    index = kiosk.parent / "jobs.sqlite"
    index.unlink()
    time.sleep(1.1)  # expired: still the snapshot the kiosk serves (marked stale), so still indexed
    assert feeds.current("jobs").stale(time.time())
    assert FeedClient(kiosk).ensure_job_index() == "rebuilt"
    assert_searchable(index, kiosk / "feeds" / "jobs.snapshot")


def test_current_index_is_left_alone(central, kiosk):
    """Only an unsearchable index is rebuilt: an index newer than the snapshot record (a crash
    between the swap and the snapshot write, or `estation jobs import`) is kept."""
    feeds = adopt_jobs(central, kiosk)
    index = kiosk.parent / "jobs.sqlite"
    before = index.stat()
    assert feeds.ensure_job_index() == "current"
    assert (index.stat().st_ino, index.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_nothing_adopted_means_nothing_built(kiosk):
    feeds = FeedClient(kiosk)
    assert feeds.ensure_job_index() == "no_snapshot"
    assert not (kiosk.parent / "jobs.sqlite").exists()
    old = old_schema_index(kiosk.parent / "jobs.sqlite")
    assert feeds.ensure_job_index() == "no_snapshot"
    assert (kiosk.parent / "jobs.sqlite").read_bytes() == old


@pytest.mark.parametrize("damage", [
    pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
    pytest.param(lambda raw: b"\x00" * 64, id="zeros"),
    pytest.param(lambda raw: json.dumps({"signed": {"name": "jobs", "version": 1,
                                                     "content": {"postings": [{"id": 1}]}}}).encode(),
                 id="not-a-job-feed"),
    pytest.param(lambda raw: json.dumps({"signed": {**json.loads(raw)["signed"], "name": "policy"},
                                         "sig": "x"}).encode(), id="other-feed"),
])
def test_damaged_snapshot_is_a_clear_error_and_keeps_the_index(central, kiosk, caplog, damage):
    adopt_jobs(central, kiosk)
    index, snapshot_file = kiosk.parent / "jobs.sqlite", kiosk / "feeds" / "jobs.snapshot"
    snapshot_file.write_bytes(damage(snapshot_file.read_bytes()))
    old = old_schema_index(index)
    inode = index.stat().st_ino
    feeds = FeedClient(kiosk)
    with caplog.at_level(logging.INFO, logger="estation.sync.feeds"):
        assert feeds.ensure_job_index() == "damaged_snapshot"
        assert feeds.ensure_job_index() == "damaged_snapshot"  # same files: not retried, not re-logged
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "job index not rebuilt" in errors[0].getMessage()
    assert str(snapshot_file) in errors[0].problem
    assert index.read_bytes() == old and index.stat().st_ino == inode  # existing index untouched
    assert sorted(p.name for p in index.parent.iterdir()) == ["jobs.sqlite", "sync"]  # no temp file left
    # the sync pass reports it and carries on; once a good snapshot is adopted again the index is back
    runner = SyncRunner(kiosk)
    try:
        result = runner.run_pass()
        assert result.job_index == "damaged_snapshot" and result.error is None
    finally:
        runner.close()
    adopt_jobs(central, kiosk, version=2)  # the damaged file is no baseline: current() sees nothing
    assert FeedClient(kiosk).ensure_job_index() == "current"
    assert_searchable(index, snapshot_file)


def test_a_forked_rotation_chain_still_leads_to_the_key_in_use():
    """Two links from one key (a fork left by older central software): the kiosk searches every
    branch, so the key central signs with now is still reached and the dead branch costs nothing."""
    pinned, dead, live, next_ = (Ed25519PrivateKey.generate() for _ in range(4))

    def link(old, new, seq):
        signed = {"seq": seq, "old_key_id": key_id(raw_public(old)), "new_key_id": key_id(raw_public(new)),
                  "new_key": b64u_encode(raw_public(new)), "issued_at": "2025-01-01T00:00:00.000Z"}
        data = sig.signing_input(sig.FEED_KEY, signed)
        return {"signed": signed, "sig": b64u_encode(old.sign(data)), "sig_new": b64u_encode(new.sign(data))}
    chain = [link(pinned, dead, 1), link(pinned, live, 2), link(live, next_, 3)]
    assert follow_chain(raw_public(pinned), key_id(raw_public(next_)), chain) == raw_public(next_)
    assert follow_chain(raw_public(pinned), key_id(raw_public(dead)), chain) == raw_public(dead)
    assert follow_chain(raw_public(pinned), key_id(raw_public(Ed25519PrivateKey.generate())), chain) is None
