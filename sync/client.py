"""HTTP client for central: signs device requests (SYNC.md §4), adopts central's clock on skew."""

from __future__ import annotations

import ipaddress
import json
import os
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiosk.errors import UsageError
from sync.identity import DeviceIdentity
from sync.protocol.jsonprofile import canonical
from sync.protocol.request_auth import sign_request
from sync.protocol.timefmt import parse_time

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def check_central_url(url: str) -> str:
    """HTTPS, or plain HTTP on loopback only (SYNC.md preamble)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--central: not an http(s) URL: {url!r}")
    if parts.scheme == "http":
        host = parts.hostname
        loopback = host == "localhost"
        try:
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass
        if not loopback:
            raise UsageError(f"--central: plain HTTP is only allowed on loopback; use https: {url!r}")
    return url.rstrip("/")


class Answer:
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.content = response.content  # raw bytes, for callers that parse under the JSON profile
        try:
            self.body: Any = json.loads(response.content) if response.content else None
        except ValueError:
            self.body = None

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None


class CentralClient:
    """One connection pool to central; every device request freshly signed (new nonce, timestamp)."""

    def __init__(self, base_url: str, identity: DeviceIdentity | None = None, *, clock_offset_s: float = 0.0,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = check_central_url(base_url)
        self.identity = identity
        self.clock_offset_s = clock_offset_s
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def now(self) -> float:
        return time.time() + self.clock_offset_s

    def request(self, method: str, path: str, body: Any = None, *, signed: bool = True,
                headers: dict[str, str] | None = None) -> Answer:
        """Send once; raises httpx.HTTPError (network) for the caller's retry logic.

        A 401 clock_skew answer is handled here: adopt central's time and resend once.
        """
        for attempt in (1, 2):
            data = b"" if body is None else canonical(body)
            all_headers = dict(headers or {})
            if body is not None:
                all_headers["Content-Type"] = "application/json"
            if signed:
                assert self.identity is not None
                all_headers.update(sign_request(self.identity.key, self.identity.device_id, method, path, data,
                                                timestamp=int(self.now()), nonce=os.urandom(16)))
            answer = Answer(self._http.request(method, path, content=data, headers=all_headers))
            if signed and attempt == 1 and answer.status == 401 and answer.error == "clock_skew":
                try:
                    server = parse_time(answer.body.get("server_time")).timestamp()
                except (ValueError, AttributeError):
                    return answer
                self.clock_offset_s = server - time.time()
                continue
            return answer
        raise AssertionError("unreachable")
