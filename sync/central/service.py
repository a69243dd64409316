"""The central service's state: settings, repository, keys, clock.  Routes get it injected."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from sync.central.errors import ApiError
from sync.central.keyring import Keyring
from sync.central.settings import Settings
from sync.central.storage import Repository, open_repository
from sync.protocol.b64u import b64u_encode
from sync.protocol.keys import ed25519_public, verify_ed25519
from sync.protocol.request_auth import MAX_SKEW_S, AuthHeaders, parse_auth_headers, signing_string
from sync.protocol.timefmt import format_unix

PRUNE_EVERY_S = 60.0
DASHBOARD_SESSION_S = 12 * 3600  # a browser's login lasts a working day; the token itself is never stored there
OPERATOR_TOKEN_ID_CHARS = 12  # how `operator-token list` and `revoke` name a token: its hash's first hex
LIMITS = {"max_body_bytes": 4194304, "max_batch": 500, "max_payload_bytes": 65536}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_enroll_token() -> str:
    return "et_" + b64u_encode(secrets.token_bytes(24))  # 32 b64u chars


def new_operator_token() -> str:
    return "eo_" + b64u_encode(secrets.token_bytes(32))


class Central:
    def __init__(self, settings: Settings, repo: Repository | None = None) -> None:
        self.settings = settings
        self.repo = repo or open_repository(settings.db_url)
        self.keyring = Keyring(self.repo, settings.clock())
        self._pruned = 0.0
        self._prune_lock = threading.Lock()
        self._public_keys: dict[str, object] = {}  # device_id → Ed25519PublicKey, parsed once

    def now(self) -> float:
        return self.settings.clock()

    def now_text(self) -> str:
        return format_unix(self.now())

    def close(self) -> None:
        self.repo.close()

    # ------------------------------------------------------------- tokens

    def create_enroll_token(self, *, uses: int = 1, ttl_s: int = 86400, label: str = "") -> tuple[str, float]:
        token = new_enroll_token()
        expires = self.now() + ttl_s
        self.repo.add_enroll_token(token_hash=token_hash(token), label=label, uses=uses, expires_at=expires,
                                   now_text=self.now_text())
        return token, expires

    def create_operator_token(self) -> str:
        token = new_operator_token()
        self.repo.add_operator_token(token_hash=token_hash(token), now_text=self.now_text())
        return token

    def operator_tokens(self) -> list[tuple[str, str]]:
        """(id, created_at) per operator token: the id is its hash's first hex, never the token."""
        return [(h[:OPERATOR_TOKEN_ID_CHARS], created) for h, created in self.repo.operator_tokens()]

    def revoke_operator_token(self, token_id: str) -> bool:
        """False unless `token_id` names exactly one token; its dashboard sessions end with it."""
        token_id = token_id.strip().lower()
        matches = [h for h, _ in self.repo.operator_tokens() if h.startswith(token_id)] if token_id else []
        return len(matches) == 1 and self.repo.revoke_operator_token(token_hash=matches[0])

    def start_dashboard_session(self, token: str) -> str | None:
        """A new session id for a browser (its cookie), or None when the token is not an operator's."""
        if not token or not self.repo.operator_token_known(token_hash=token_hash(token)):
            return None
        session = "ds_" + b64u_encode(secrets.token_bytes(32))
        self.repo.add_dashboard_session(session_hash=token_hash(session), token_hash=token_hash(token),
                                        expires_at=self.now() + DASHBOARD_SESSION_S)
        return session

    def dashboard_session_ok(self, session: str) -> bool:
        return bool(session) and self.repo.dashboard_session_valid(session_hash=token_hash(session), now=self.now())

    def end_dashboard_session(self, session: str) -> None:
        self.repo.end_dashboard_session(session_hash=token_hash(session))

    def check_operator(self, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or \
                not self.repo.operator_token_known(token_hash=token_hash(token.strip())):
            raise ApiError(401, "operator_auth_required", "Authorization: Bearer <operator token> needed")

    # ------------------------------------------------------------- device requests (§4)

    def authenticate(self, *, method: str, target: str, headers, body: bytes) -> str:
        """The authenticated device_id, or ApiError in SYNC.md §4's order."""
        auth: AuthHeaders | None = parse_auth_headers(headers)
        if auth is None:
            raise ApiError(401, "unauthenticated", "Estation-Device/-Timestamp/-Nonce/-Signature missing or malformed")
        now = self.now()
        if abs(now - auth.unix_time) > MAX_SKEW_S:
            raise ApiError(401, "clock_skew", "timestamp more than 300 s from server time",
                           extra={"server_time": format_unix(now)})
        public = self.device_key(auth.device_id)  # cached; looked up on a device's first request here
        message = signing_string(method, target, auth.device_id, auth.timestamp, auth.nonce, body)
        if not verify_ed25519(public, auth.signature, message):  # type: ignore[arg-type]
            raise ApiError(401, "bad_signature", "request signature does not verify")
        # Revocation and the nonce are read and written in one go, after the signature: nobody
        # can spend a device's nonces without its key.
        state = self.repo.admit(device_id=auth.device_id, nonce=auth.nonce, now=now)
        if state == "unknown":
            raise ApiError(401, "unknown_device", "device not enrolled")
        if state == "revoked":
            raise ApiError(403, "device_revoked", "device revoked")
        if state == "replayed":
            raise ApiError(401, "replayed_nonce", "nonce already used in the last 600 s")
        self._maybe_prune(now)
        return auth.device_id

    def _public_key(self, device_id: str, raw: bytes):
        """The parsed key, once per device: a device's key never changes (revocation is a flag
        checked on every request)."""
        public = self._public_keys.get(device_id)
        if public is None:
            public = self._public_keys.setdefault(device_id, ed25519_public(raw))
        return public

    def device_key(self, device_id: str):
        """A device's parsed public key, cached per worker; 401 unknown_device when not enrolled."""
        public = self._public_keys.get(device_id)
        if public is None:
            device = self.repo.device(device_id=device_id)
            if device is None:
                raise ApiError(401, "unknown_device", "device not enrolled")
            public = self._public_key(device_id, device.public_key)
        return public

    def _maybe_prune(self, now: float) -> None:
        if now - self._pruned < PRUNE_EVERY_S or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._pruned = now
            self.repo.prune(now=now)
        finally:
            self._prune_lock.release()
