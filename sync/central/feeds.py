"""Central side of feeds (SYNC.md §7): signed snapshots, re-signing before half-life, key rotation chain."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.central.errors import ApiError
from sync.central.fleet import FEED_NAME
from sync.central.keyring import load_keys
from sync.central.service import Central
from sync.protocol import signed as sig
from sync.protocol.b64u import b64u_encode
from sync.protocol.jsonprofile import canonical
from sync.protocol.keys import key_id, raw_private, raw_public
from sync.protocol.timefmt import format_unix, parse_time

MIN_EXPIRES_S, MAX_EXPIRES_S = 60, 31536000
RESIGN_AT = 0.4  # of a snapshot's lifetime: re-signed before half of it is gone (§7)


class FeedKeyRotated(Exception):
    """A concurrent rotation replaced the feed key first."""


def publish(central: Central, name: str, content: dict[str, Any], expires_in_s: int, *,
            replacing: int | None = None) -> str:
    """Store and return (as C(x) text) the next version of feed `name`, signed by the current feed key
    (or, re-signing version `replacing`, the version someone else published first)."""
    central.keyring.reload()  # the key may have been rotated by the CLI in another process
    feed_key = central.keyring.keys.feed
    now = central.now()

    def build(version: int) -> str:
        signed = {"name": name, "version": version, "issued_at": format_unix(now),
                  "expires_at": format_unix(now + expires_in_s), "key_id": key_id(raw_public(feed_key)),
                  "content": content}
        return canonical(sig.sign_object(feed_key, sig.FEED, signed)).decode("utf-8")

    return central.repo.publish_feed(name=name, build=build, content_text=canonical(content).decode("utf-8"),
                                     expires_in_s=expires_in_s, now_text=format_unix(now), replacing=replacing)


def publish_request(central: Central, name: str, body: Any) -> str:
    if not FEED_NAME.fullmatch(name):
        raise ApiError(404, "unknown_feed", "feed names match ^[a-z][a-z0-9_-]{0,31}$")
    if not isinstance(body, dict) or set(body) != {"content", "expires_in_s"} or \
            not isinstance(body["content"], dict):
        raise ApiError(400, "invalid_request", "body is {content: object, expires_in_s: int}")
    expires = body["expires_in_s"]
    if not isinstance(expires, int) or isinstance(expires, bool) or not MIN_EXPIRES_S <= expires <= MAX_EXPIRES_S:
        raise ApiError(400, "invalid_request", "expires_in_s must be 60..31536000")
    return publish(central, name, body["content"], expires)


def current_snapshot(central: Central, name: str) -> tuple[int, str]:
    """The latest snapshot, re-signed as a new version once RESIGN_AT of its lifetime is gone."""
    if not FEED_NAME.fullmatch(name):
        raise ApiError(404, "unknown_feed", "no such feed")
    latest = central.repo.latest_feed(name=name)
    if latest is None:
        raise ApiError(404, "unknown_feed", "feed not published")
    version, snapshot_text, content_text, expires_in_s = latest
    signed = json.loads(snapshot_text)["signed"]
    issued, expires = parse_time(signed["issued_at"]).timestamp(), parse_time(signed["expires_at"]).timestamp()
    if central.now() >= issued + (expires - issued) * RESIGN_AT:
        snapshot_text = publish(central, name, json.loads(content_text), expires_in_s, replacing=version)
        version = json.loads(snapshot_text)["signed"]["version"]
    return version, snapshot_text


def rotations(central: Central) -> list[Any]:
    return [json.loads(text) for text in central.repo.rotations()]


def rotate_feed_key(central: Central) -> dict[str, Any]:
    """New feed key; the link is signed by the old and the new key over the same bytes."""
    old = load_keys(central.repo).feed
    new = Ed25519PrivateKey.generate()
    new_public = raw_public(new)

    def build(seq: int) -> str:
        signed = {"seq": seq, "old_key_id": key_id(raw_public(old)), "new_key_id": key_id(new_public),
                  "new_key": b64u_encode(new_public), "issued_at": central.now_text()}
        data = sig.signing_input(sig.FEED_KEY, signed)
        return canonical({"signed": signed, "sig": b64u_encode(old.sign(data)),
                          "sig_new": b64u_encode(new.sign(data))}).decode("utf-8")

    text = central.repo.rotate_feed_key(old_key_id=key_id(raw_public(old)), build=build,
                                        new_key_id=key_id(new_public), new_private=raw_private(new),
                                        now_text=central.now_text())
    if text is None:
        raise FeedKeyRotated("the feed key was rotated by someone else meanwhile; nothing changed, run it again")
    central.keyring.reload()
    return json.loads(text)
