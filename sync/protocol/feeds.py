"""Feed snapshot adoption (SYNC.md §7, kiosk side), pure: no I/O, the caller passes the clock.

`decide()` applies the five adoption rules in the spec's order; the first failure wins:
  1. key_id is the pinned key, or the rotation chain leads there from it with both
     signatures on every link (then the kiosk re-pins)      → else `unknown_key`
  2. the snapshot signature verifies with that key            → else `bad_signature`
  3. the name is the one asked for                            → else `wrong_name`
  4. version > stored, or equal with identical bytes         → else `rollback`
     (an equal version with other bytes is equivocation and is refused the same way)
  5. expires_at > corrected now                               → else `expired` (freeze)
A snapshot that is not a well-formed signed object is `malformed` before rule 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_decode
from sync.protocol.jsonprofile import MAX_SAFE_INT, canonical
from sync.protocol.keys import key_id, verify_ed25519
from sync.protocol.timefmt import parse_time

SNAPSHOT_FIELDS = frozenset({"name", "version", "issued_at", "expires_at", "key_id", "content"})
LINK_FIELDS = frozenset({"seq", "old_key_id", "new_key_id", "new_key", "issued_at"})
FEED_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
KEY_ID = re.compile(r"[0-9a-f]{16}")
MAX_CHAIN = 64  # rotation links followed at most (a loop or a flood stops here)


@dataclass(frozen=True)
class Stored:
    """What the kiosk adopted last for one feed."""

    version: int
    snapshot_bytes: bytes  # C(snapshot)


@dataclass(frozen=True)
class Decision:
    ok: bool
    error: str | None = None  # SYNC.md §7 reason when not ok
    detail: str = ""
    pinned_key: bytes | None = None  # the key to pin after adoption (differs after a rotation)
    changed: bool = False  # ok and a new version (not the identical stored one)


def _reject(error: str, detail: str) -> Decision:
    return Decision(False, error, detail)


def snapshot_shape_problem(snapshot: Any) -> str | None:
    if not sig.is_signed_shape(snapshot):
        return "not a signed object {signed, sig}"
    s = snapshot["signed"]
    if set(s) != SNAPSHOT_FIELDS:
        return "snapshot fields missing or extra"
    version = s["version"]
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_SAFE_INT:
        return "bad version"
    if not isinstance(s["name"], str) or not FEED_NAME.fullmatch(s["name"]):
        return "bad name"
    if not isinstance(s["key_id"], str) or not KEY_ID.fullmatch(s["key_id"]):
        return "bad key_id"
    if not isinstance(s["content"], dict):
        return "content is not an object"
    for field in ("issued_at", "expires_at"):
        try:
            parse_time(s[field])
        except ValueError:
            return f"bad {field}"
    return None


def _link_problem(link: Any) -> str | None:
    if not isinstance(link, dict) or set(link) != {"signed", "sig", "sig_new"} or \
            not isinstance(link["signed"], dict) or set(link["signed"]) != LINK_FIELDS:
        return "rotation link has the wrong shape"
    s = link["signed"]
    try:
        new_key = b64u_decode(s["new_key"])
        sigs = b64u_decode(link["sig"]), b64u_decode(link["sig_new"])
    except ValueError:
        return "rotation link is not b64u"
    if len(new_key) != 32 or any(len(x) != 64 for x in sigs) or s["new_key_id"] != key_id(new_key):
        return "rotation link key or signatures malformed"
    return None


def follow_chain(pinned: bytes, target_key_id: str, rotations: list[Any]) -> bytes | None:
    """The public key with `target_key_id` reached from `pinned` along links each signed by the old
    and the new key over the same bytes; None when there is no such chain.

    Breadth first over every valid link, not the first one that fits: a chain that forked (two
    rotations from one key) must not strand a kiosk on the branch central no longer uses."""
    frontier, seen = [pinned], {key_id(pinned)}
    for _ in range(MAX_CHAIN + 1):
        for current in frontier:
            if key_id(current) == target_key_id:
                return current
        following = []
        for current in frontier:
            for link in rotations:
                if _link_problem(link) or link["signed"]["old_key_id"] != key_id(current) \
                        or link["signed"]["new_key_id"] in seen:
                    continue
                new_key = b64u_decode(link["signed"]["new_key"])
                data = sig.signing_input(sig.FEED_KEY, link["signed"])
                if verify_ed25519(Ed25519PublicKey.from_public_bytes(current), b64u_decode(link["sig"]), data) and \
                        verify_ed25519(Ed25519PublicKey.from_public_bytes(new_key), b64u_decode(link["sig_new"]),
                                       data):
                    seen.add(link["signed"]["new_key_id"])
                    following.append(new_key)
        if not following:
            return None
        frontier = following
    return None


def decide(snapshot: Any, *, name: str, pinned_key: bytes, rotations: list[Any], stored: Stored | None,
           now: float) -> Decision:
    """Apply SYNC.md §7's adoption rules to a parsed snapshot; `now` is the corrected clock."""
    problem = snapshot_shape_problem(snapshot)
    if problem:
        return _reject("malformed", problem)
    s = snapshot["signed"]
    key = follow_chain(pinned_key, s["key_id"], rotations)  # rule 1
    if key is None:
        return _reject("unknown_key", f"key {s['key_id']} is not pinned and no valid rotation chain leads to it")
    if not sig.verify_object(Ed25519PublicKey.from_public_bytes(key), sig.FEED, snapshot):  # rule 2
        return _reject("bad_signature", "snapshot signature does not verify")
    if s["name"] != name:  # rule 3
        return _reject("wrong_name", f"asked for {name!r}, got {s['name']!r}")
    raw = canonical(snapshot)
    if stored is not None:  # rule 4
        if s["version"] < stored.version:
            return _reject("rollback", f"version {s['version']} is older than adopted {stored.version}")
        if s["version"] == stored.version and raw != stored.snapshot_bytes:
            return _reject("rollback", f"version {s['version']} with other bytes (equivocation)")
    if parse_time(s["expires_at"]).timestamp() <= now:  # rule 5
        return _reject("expired", f"expired at {s['expires_at']}")
    changed = stored is None or s["version"] != stored.version
    return Decision(True, pinned_key=key, changed=changed)
