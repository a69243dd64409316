"""Kiosk feed client (SYNC.md §7): fetch, verify, adopt or refuse, serve the last good snapshot.

Layout under the sync directory:
    feeds/<name>.snapshot   the adopted snapshot, C(snapshot), written durably
    feeds/status.json       per feed: the last refusal (code, detail, when) or null
The job catalogue index (DATA_DIR/jobs.sqlite) is rebuilt from an adopted `jobs` snapshot and
swapped in by kiosk.jobs.index.build_index (temp → fsync → rename → fsync dir), before the
snapshot is recorded as adopted: a crash in between only means the same snapshot is adopted again.
A refused snapshot changes nothing; an expired adopted one is still served, marked stale.
An index that is missing or that this software cannot search (its SCHEMA_VERSION changed in an
upgrade) is rebuilt from the adopted `jobs` snapshot (`ensure_job_index`, every sync pass), without
waiting for the next feed version.

The `policy` feed carries city packs as data (docs/sync.md "Policy feed content"):
    {"pack": "<name>", "files": {"pack.toml": "<text>", "messages.toml": "<text>"}}   one city
    {"packs": {"<name>": {"pack.toml": "<text>", ...}, ...}}                           several
No code: any other file name (hooks.py, any .py) is `bad_content`, and so is a pack whose installed
namesake has hooks.py (a feed cannot carry them).  Every pack must load (kiosk.policy.pack.read_pack,
hooks off), or the snapshot is refused whole.  The adopted packs are materialised for the UI process as
    feeds/policy-pack                  symlink → policy-pack.v<version>.<random>/, swapped atomically
    feeds/policy-pack.v<N>.<r>/feed.json      {"feed", "version", "packs": [names], "snapshot_sha256"}
    feeds/policy-pack.v<N>.<r>/<name>/        pack.toml, messages.toml
before the snapshot is recorded as adopted (a crash in between: the same snapshot is adopted again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from sync.client import CentralClient
from sync.durable import fsync_dir, write_durably
from sync.enrollment import Enrollment, save_enrollment
from sync.protocol.b64u import b64u_decode, b64u_encode
from sync.protocol.feeds import Decision, Stored, decide
from sync.protocol.jsonprofile import ProfileViolation, canonical, parse_profile
from sync.protocol.timefmt import format_unix, parse_time

log = logging.getLogger("estation.sync.feeds")
FEEDS = ("jobs", "policy")
SNAPSHOT_SUFFIX = ".snapshot"
STATUS_FILE = "status.json"
POLICY_PACK = "policy-pack"  # under feeds/: symlink to the materialised adopted policy pack
POLICY_FILES = ("pack.toml", "messages.toml")  # what a pack reads besides code (kiosk/policy/pack.py)
PACK_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_PACKS = 64  # cities in one policy feed


def policy_pack_dir(sync_dir: Path) -> Path:
    """Where the UI process finds the adopted policy pack: <this>/<city>/pack.toml, <this>/feed.json."""
    return sync_dir / "feeds" / POLICY_PACK


@dataclass(frozen=True)
class Adopted:
    """A snapshot the kiosk serves: content plus what the UI and the heartbeat need."""

    name: str
    version: int
    expires_at: str
    content: dict[str, Any]
    snapshot_bytes: bytes

    def stale(self, now: float) -> bool:
        """True when expired: still shown, marked "may be outdated", reported stale."""
        return parse_time(self.expires_at).timestamp() <= now


class FeedClient:
    def __init__(self, sync_dir: Path, *, jobs_index: Path | None = None) -> None:
        self.dir = sync_dir / "feeds"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sync_dir = sync_dir
        self.jobs_index = jobs_index if jobs_index is not None else sync_dir.parent / "jobs.sqlite"
        self._index_failure: tuple[object, str] | None = None  # (files' identity, outcome) last refused
        self._policy_failure: int | None = None  # adopted policy version that could not be materialised

    # ------------------------------------------------------------- what is served

    def current(self, name: str) -> Adopted | None:
        try:
            raw = (self.dir / f"{name}{SNAPSHOT_SUFFIX}").read_bytes()
            snapshot = parse_profile(raw)
            s = snapshot["signed"]
            return Adopted(name, s["version"], s["expires_at"], s["content"], raw)
        except (OSError, ProfileViolation, KeyError, TypeError):
            return None  # never adopted (a damaged file cannot happen: it is written durably)

    def heartbeat_feeds(self, now: float) -> dict[str, dict[str, Any]]:
        """SYNC.md §6 `feeds`: {name: {version, expires_at, stale}} for each adopted feed."""
        out = {}
        for name in FEEDS:
            adopted = self.current(name)
            if adopted is not None:
                out[name] = {"version": adopted.version, "expires_at": adopted.expires_at,
                             "stale": adopted.stale(now)}
        return out

    def heartbeat_refusals(self) -> dict[str, dict[str, str]]:
        """Our heartbeat extension `feed_refusals`: {name: {error, at}} for each feed whose last offer
        was refused (cleared when a snapshot is adopted).  Codes only: the detail stays in status.json."""
        return {name: {"error": entry["error"], "at": entry["at"]} for name, entry in sorted(self.status().items())
                if name in FEEDS and isinstance(entry, dict) and isinstance(entry.get("error"), str)
                and isinstance(entry.get("at"), str)}

    def status(self) -> dict[str, Any]:
        try:
            value = json.loads((self.dir / STATUS_FILE).read_text(encoding="utf-8"))
            return value if isinstance(value, dict) else {}
        except (OSError, ValueError):
            return {}

    def _set_status(self, name: str, error: str | None, detail: str, now: float) -> None:
        status = self.status()
        new = None if error is None else {"error": error, "detail": detail[:200], "at": format_unix(now)}
        if status.get(name) != new:
            status[name] = new
            write_durably(self.dir, STATUS_FILE, json.dumps(status, sort_keys=True).encode("utf-8"))

    # ------------------------------------------------------------- fetching

    def due(self, name: str, latest: dict[str, Any], now: float) -> bool:
        """Fetch when central has a newer version, nothing is adopted, or half the lifetime is gone
        (central re-signs then, SYNC.md §7)."""
        if name not in latest:
            return False
        adopted = self.current(name)
        if adopted is None or not isinstance(latest[name], int) or latest[name] > adopted.version:
            return True
        s = parse_profile(adopted.snapshot_bytes)["signed"]
        issued, expires = parse_time(s["issued_at"]).timestamp(), parse_time(s["expires_at"]).timestamp()
        return now >= issued + (expires - issued) / 2

    def refresh(self, client: CentralClient, enrollment: Enrollment, latest: dict[str, Any] | None = None,
                names: tuple[str, ...] = FEEDS) -> tuple[Enrollment, dict[str, str]]:
        """Fetch the due feeds; returns the (maybe re-pinned) enrollment and {name: outcome}.

        outcome: `adopted`, `unchanged`, `not_published`, `unreachable`, or a refusal code.
        """
        now = client.now()
        outcomes: dict[str, str] = {}
        for name in names:
            if latest is not None and not self.due(name, latest, now):
                continue
            enrollment, outcomes[name] = self._refresh_one(client, enrollment, name)
        return enrollment, outcomes

    def _refresh_one(self, client: CentralClient, enrollment: Enrollment, name: str) -> tuple[Enrollment, str]:
        adopted = self.current(name)
        headers = {"If-None-Match": f'"{adopted.version}"'} if adopted else {}
        try:
            answer = client.request("GET", f"/v1/feeds/{name}", headers=headers)
        except httpx.HTTPError:
            return enrollment, "unreachable"
        if answer.status == 304:
            return enrollment, "unchanged"
        if answer.status == 404:
            return enrollment, "not_published"
        if answer.status != 200:
            return enrollment, "unreachable"
        try:
            snapshot = parse_profile(answer.content)
        except ProfileViolation as exc:
            return enrollment, self._refuse(name, Decision(False, "malformed", str(exc)), client.now())
        return self.offer(name, snapshot, enrollment, client=client)

    def _rotations(self, client: CentralClient | None) -> list[Any]:
        if client is None:
            return []
        try:
            answer = client.request("GET", "/v1/feed-keys", signed=False)
        except httpx.HTTPError:
            return []
        body = answer.body if answer.status == 200 else None
        rotations = body.get("rotations") if isinstance(body, dict) else None
        return rotations if isinstance(rotations, list) else []

    # ------------------------------------------------------------- adoption

    def offer(self, name: str, snapshot: Any, enrollment: Enrollment, *, client: CentralClient | None = None,
              rotations: list[Any] | None = None, now: float | None = None) -> tuple[Enrollment, str]:
        """Adopt `snapshot` if SYNC.md §7 allows; returns (enrollment, outcome)."""
        now = client.now() if now is None and client is not None else now
        assert now is not None
        pinned = b64u_decode(enrollment.feed_key)
        adopted = self.current(name)
        stored = Stored(adopted.version, adopted.snapshot_bytes) if adopted else None
        if rotations is None:
            signed = snapshot.get("signed") if isinstance(snapshot, dict) else None
            from sync.protocol.keys import key_id
            needs_chain = isinstance(signed, dict) and signed.get("key_id") != key_id(pinned)
            rotations = self._rotations(client) if needs_chain else []
        decision = decide(snapshot, name=name, pinned_key=pinned, rotations=rotations, stored=stored, now=now)
        if not decision.ok:
            return enrollment, self._refuse(name, decision, now)
        if not decision.changed:
            self._set_status(name, None, "", now)
            return enrollment, "unchanged"
        raw = canonical(snapshot)
        if name == "jobs":
            problem = self._swap_job_index(snapshot["signed"]["content"], raw)
            if problem:
                return enrollment, self._refuse(name, Decision(False, "bad_content", problem), now)
        elif name == "policy":
            problem = self._swap_policy_pack(snapshot["signed"]["content"], snapshot["signed"]["version"], raw)
            if problem:
                return enrollment, self._refuse(name, Decision(False, "bad_content", problem), now)
        write_durably(self.dir, f"{name}{SNAPSHOT_SUFFIX}", raw)
        if decision.pinned_key != pinned:
            enrollment = replace(enrollment, feed_key=b64u_encode(decision.pinned_key))
            save_enrollment(self.sync_dir, enrollment)
            log.info("feed key re-pinned along the rotation chain", extra={"feed": name})
        self._set_status(name, None, "", now)
        log.info("feed adopted", extra={"feed": name, "version": snapshot["signed"]["version"]})
        return enrollment, "adopted"

    def _swap_job_index(self, content: dict[str, Any], raw: bytes) -> str | None:
        from kiosk.jobs.index import build_index
        from kiosk.jobs.model import FeedError, parse_feed

        try:
            feed = parse_feed(canonical(content))
        except FeedError as exc:
            return f"jobs content is not a job feed: {exc.reason}"
        build_index(feed, self.jobs_index, feed_sha256=hashlib.sha256(raw).hexdigest())
        return None

    # ------------------------------------------------------------- the policy pack

    def _swap_policy_pack(self, content: Any, version: int, raw: bytes) -> str | None:
        """Check a policy snapshot's content and materialise it; returns the problem, or None."""
        staging = self.dir / f".{POLICY_PACK}.tmp-{secrets.token_hex(4)}"
        try:
            try:
                packs = policy_packs(content)
            except ValueError as exc:
                return f"policy content: {exc}"
            staging.mkdir(mode=0o700)
            for name, files in packs.items():  # every pack must load, or the snapshot is refused whole
                pack_dir = staging / name
                pack_dir.mkdir(mode=0o700)
                for file_name, text in files.items():
                    write_durably(pack_dir, file_name, text.encode("utf-8"))
                fsync_dir(pack_dir)
                problem = _loads_as_pack(pack_dir, name)
                if problem:
                    return problem
            fsync_dir(staging)
            meta = {"feed": "policy", "version": version, "packs": sorted(packs),
                    "snapshot_sha256": hashlib.sha256(raw).hexdigest()}
            write_durably(staging, "feed.json", json.dumps(meta, sort_keys=True).encode("utf-8"))
            final = self.dir / f"{POLICY_PACK}.v{version}.{secrets.token_hex(4)}"
            os.rename(staging, final)
            link_tmp = self.dir / f".{POLICY_PACK}.link-{secrets.token_hex(4)}"
            os.symlink(final.name, link_tmp)  # relative: the sync dir may be moved or mounted elsewhere
            link = self.dir / POLICY_PACK
            previous = os.readlink(link) if link.is_symlink() else None
            os.replace(link_tmp, link)  # the atomic switch the UI process sees
            fsync_dir(self.dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # keep the pack just replaced (a UI process may be reading it right now), drop older ones and
        # what an interrupted swap left behind
        for old in [*self.dir.glob(f"{POLICY_PACK}.v*"), *self.dir.glob(f".{POLICY_PACK}.*")]:
            if old.name in (final.name, previous):
                continue
            if old.is_symlink() or not old.is_dir():
                old.unlink(missing_ok=True)
            else:
                shutil.rmtree(old, ignore_errors=True)
        log.info("policy pack materialised", extra={"feed": "policy", "version": version, "packs": sorted(packs)})
        return None

    def ensure_policy_pack(self) -> str:
        """Materialise the adopted `policy` snapshot again if feeds/policy-pack is missing or holds
        another version (e.g. a policy feed adopted by software that did not materialise it yet).

        Returns `current`, `rebuilt`, `no_snapshot` or `bad_content` (the adopted content is no pack:
        adopted before this software checked it, or the disk refused it; nothing materialised, the
        installed pack or the last materialised one is used).  Never raises.
        """
        adopted = self.current("policy")
        if adopted is None:
            return "no_snapshot"
        try:
            meta = json.loads((policy_pack_dir(self.sync_dir) / "feed.json").read_text(encoding="utf-8"))
            if meta.get("version") == adopted.version and \
                    meta.get("snapshot_sha256") == hashlib.sha256(adopted.snapshot_bytes).hexdigest():
                return "current"
            if isinstance(meta.get("version"), int) and meta["version"] > adopted.version:
                # `offer` materialises before it records the snapshot; a crash in between leaves a
                # newer pack that passed every check: keep it (the snapshot comes again) rather
                # than roll the station back.
                return "current"
        except (OSError, ValueError, AttributeError):
            pass
        try:
            problem = self._swap_policy_pack(adopted.content, adopted.version, adopted.snapshot_bytes)
        except OSError as exc:  # disk full, a foreign file where the link goes: never stop the sync pass
            problem = f"cannot materialise the pack: {exc}"
        if problem:
            if self._policy_failure != adopted.version:  # logged once per adopted version
                self._policy_failure = adopted.version
                log.warning("adopted policy snapshot holds no usable pack; the installed pack stays in use",
                            extra={"feed": "policy", "version": adopted.version, "problem": problem[:200]})
            return "bad_content"
        return "rebuilt"

    # ------------------------------------------------------------- the job index after an upgrade

    def ensure_job_index(self) -> str:
        """Rebuild the job index from the adopted `jobs` snapshot if it is missing or not searchable
        by this software (`kiosk.jobs.index.index_is_current`: e.g. an upgrade changed SCHEMA_VERSION).

        Nothing is adopted, so no SYNC.md §7 rule is involved: the snapshot file is the one `offer`
        wrote after `decide` accepted it (the same bytes `current`, heartbeats and rollback checks
        trust), and the index is rebuilt from exactly those bytes, as at adoption.  An expired
        adopted snapshot is rebuilt too: it is still served, marked stale.

        Returns `current` (nothing to do), `rebuilt`, `no_snapshot` (nothing adopted yet: the first
        adopted snapshot builds it), `damaged_snapshot` or `index_failed`.  Never raises; on failure
        the index file is left as it was and the problem is logged once until either file changes.
        """
        from kiosk.jobs.index import build_index, index_is_current
        from kiosk.jobs.model import FeedError, parse_feed

        if index_is_current(self.jobs_index):
            self._index_failure = None
            return "current"
        path = self.dir / f"jobs{SNAPSHOT_SUFFIX}"
        identity = (_identity(path), _identity(self.jobs_index))
        if self._index_failure is not None and self._index_failure[0] == identity:
            return self._index_failure[1]  # same files as the last failed attempt: already logged
        reason = "missing" if not self.jobs_index.exists() else "not searchable by this version"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return "no_snapshot"
        except OSError as exc:
            return self._index_failed(identity, "damaged_snapshot", f"cannot read {path}: {exc}")
        try:
            signed = parse_profile(raw)["signed"]
            if signed["name"] != "jobs":
                raise ValueError(f"it holds the {signed['name']!r} feed")
            version = signed["version"]
            feed = parse_feed(canonical(signed["content"]))
        except FeedError as exc:
            return self._index_failed(identity, "damaged_snapshot", f"{path}: content is not a job feed: {exc.reason}")
        except (ValueError, KeyError, TypeError) as exc:  # ProfileViolation is a ValueError
            return self._index_failed(identity, "damaged_snapshot", f"{path} is not a feed snapshot ({exc})")
        try:
            build_index(feed, self.jobs_index, feed_sha256=hashlib.sha256(raw).hexdigest())
        except (OSError, sqlite3.Error) as exc:
            return self._index_failed(identity, "index_failed", f"cannot write {self.jobs_index}: {exc}")
        self._index_failure = None
        log.info("job index rebuilt from the adopted jobs snapshot",
                 extra={"feed": "jobs", "version": version, "reason": reason, "postings": len(feed.postings)})
        return "rebuilt"

    def _index_failed(self, identity: object, outcome: str, problem: str) -> str:
        self._index_failure = (identity, outcome)
        log.error("job index not rebuilt, job search stays unavailable until a jobs snapshot is adopted "
                  "(`estation sync --once`) or a feed imported (`estation jobs import`)",
                  extra={"feed": "jobs", "error": outcome, "problem": problem[:200]})
        return outcome

    def _refuse(self, name: str, decision: Decision, now: float) -> str:
        assert decision.error is not None
        log.warning("feed snapshot refused, keeping the last good one",
                    extra={"feed": name, "error": decision.error, "problem": decision.detail[:200]})
        self._set_status(name, decision.error, decision.detail, now)
        return decision.error


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def policy_packs(content: Any) -> dict[str, dict[str, str]]:
    """The packs of a `policy` feed's content, name → files; ValueError says what is wrong.

    One city: {"pack": NAME, "files": {FILE: TEXT}}.  Several (a central serving a province):
    {"packs": {NAME: {FILE: TEXT}, ...}}, 1 to MAX_PACKS of them."""
    if isinstance(content, dict) and set(content) == {"pack", "files"}:
        if not isinstance(content["pack"], str):
            raise ValueError("pack name is not a string")
        packs = {content["pack"]: content["files"]}
    elif isinstance(content, dict) and set(content) == {"packs"} and isinstance(content["packs"], dict):
        packs = content["packs"]
        if not 1 <= len(packs) <= MAX_PACKS:
            raise ValueError(f"packs holds {len(packs)} packs, not 1 to {MAX_PACKS}")
    else:
        raise ValueError('expected exactly {"pack": NAME, "files": {FILE: TEXT}} or {"packs": {NAME: {FILE: TEXT}}}')
    for name, files in packs.items():
        _check_pack_files(name, files)
    return packs


def _check_pack_files(name: Any, files: Any) -> None:
    if not isinstance(name, str) or not PACK_NAME.fullmatch(name):
        raise ValueError(f"pack name {str(name)[:40]!r} is not [a-z][a-z0-9_]{{0,31}}")
    if not isinstance(files, dict):
        raise ValueError(f"{name}: files is not an object")
    for file_name, text in files.items():
        if file_name.endswith(".py") or file_name == "__pycache__":
            raise ValueError(f"{name}: {file_name[:40]!r}: code is not accepted in a policy feed, data files only")
        if file_name not in POLICY_FILES:
            raise ValueError(f"{name}: unknown file {file_name[:40]!r} (a pack is {', '.join(POLICY_FILES)})")
        if not isinstance(text, str):
            raise ValueError(f"{name}: {file_name} is not text")
    if "pack.toml" not in files:
        raise ValueError(f"{name}: pack.toml missing")
    from kiosk.policy.pack import PACKS_DIR

    if (PACKS_DIR / name / "hooks.py").exists():
        raise ValueError(f"the installed pack {name!r} has hooks.py (code), which a feed cannot carry: "
                         "update it with the software")


def _loads_as_pack(pack_dir: Path, name: str) -> str | None:
    from kiosk.policy.pack import read_pack

    try:
        pack = read_pack(pack_dir, hooks=False)
    except Exception as exc:  # noqa: BLE001 - any failure of foreign content is a refusal, not a crash
        return f"policy pack {name!r} does not load: {exc}"[:200]
    if pack.name != name:
        return f"policy content names pack {name!r} but its pack.toml says {pack.name!r}"
    return None
