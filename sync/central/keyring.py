"""Central's own keys (SYNC.md §2), created at DB initialisation and cached per process.

Receipt key (Ed25519), record key (X25519, HPKE recipient; retired ones stay for old
payloads), feed key (Ed25519).  Private keys live in the database (central_keys).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sync.central.storage import Repository
from sync.protocol.b64u import b64u_encode
from sync.protocol.keys import key_id, raw_private, raw_public
from sync.protocol.timefmt import format_unix

RELOAD_MIN_INTERVAL_S = 5.0


def new_key(purpose: str) -> tuple[str, bytes]:
    key = X25519PrivateKey.generate() if purpose == "record" else Ed25519PrivateKey.generate()
    return key_id(raw_public(key)), raw_private(key)


@dataclass(frozen=True)
class CentralKeys:
    receipt: Ed25519PrivateKey
    record: X25519PrivateKey  # the active one, for new payloads
    records_by_id: dict[str, X25519PrivateKey]  # every record key, retired included
    feed: Ed25519PrivateKey

    @staticmethod
    def public_view(key: Ed25519PrivateKey | X25519PrivateKey) -> dict[str, str]:
        public = raw_public(key)
        return {"key_id": key_id(public), "public": b64u_encode(public)}

    def wire(self) -> dict[str, dict[str, str]]:
        """The `receipt_key`, `record_key`, `feed_key` members of /v1/keys and the enroll answer."""
        return {"receipt_key": self.public_view(self.receipt), "record_key": self.public_view(self.record),
                "feed_key": self.public_view(self.feed)}


def load_keys(repo: Repository) -> CentralKeys:
    active: dict[str, bytes] = {}
    records: dict[str, X25519PrivateKey] = {}
    for kid, purpose, private, retired in repo.central_keys():
        if purpose == "record":
            records[kid] = X25519PrivateKey.from_private_bytes(private)
        if not retired:
            active[purpose] = private
    return CentralKeys(receipt=Ed25519PrivateKey.from_private_bytes(active["receipt"]),
                       record=X25519PrivateKey.from_private_bytes(active["record"]), records_by_id=records,
                       feed=Ed25519PrivateKey.from_private_bytes(active["feed"]))


def init_keys(repo: Repository, now: float) -> CentralKeys:
    repo.ensure_central_keys(new_key, format_unix(now))
    return load_keys(repo)


class Keyring:
    """The cached keys; reloads (rate-limited) when a record names a key it has not seen."""

    def __init__(self, repo: Repository, now: float) -> None:
        self._repo = repo
        self._lock = threading.Lock()
        self.keys = init_keys(repo, now)
        self._loaded = time.monotonic()

    def record_key(self, rk: str) -> X25519PrivateKey | None:
        key = self.keys.records_by_id.get(rk)
        if key is None and time.monotonic() - self._loaded > RELOAD_MIN_INTERVAL_S:
            with self._lock:
                self.keys = load_keys(self._repo)
                self._loaded = time.monotonic()
            key = self.keys.records_by_id.get(rk)
        return key

    def reload(self) -> None:
        with self._lock:
            self.keys = load_keys(self._repo)
            self._loaded = time.monotonic()
