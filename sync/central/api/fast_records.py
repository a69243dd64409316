"""POST /v1/records without FastAPI: the one route fleets hit thousands of records a second.

At ingest rates FastAPI's middleware stack, routing, dependency injection and the worker-thread
hop cost a third of the service's CPU per batch (bench_sync, "bare Python ceiling").  This ASGI
wrapper answers that one route itself, in SYNC.md §9's order (size, auth, content type, JSON
profile, shape), with the same code underneath (`Central.authenticate`, `ingest`) and the same
error bodies; every other request goes on to the FastAPI app, whose route for POST /v1/records
stays for the published OpenAPI document (and is what answers when this wrapper is not used).

The batch runs on the event loop thread: a 25-record batch is a few milliseconds of CPU, the
thread hop cost more than it saved, and the other workers keep serving while this one commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from sync.central.api.http import LARGE_BODY, error_response, parse_json, read_limited, request_target, storage_error
from sync.central.errors import ApiError
from sync.central.ingest import check_batch, ingest
from sync.central.service import Central
from sync.central.storage import StorageUnavailable, ValueRefused


class RawHeaders(Mapping[str, str]):
    """ASGI headers, case-insensitive; the first of repeated headers wins (as with Starlette)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._map: dict[str, str] = {}
        for name, value in raw:
            self._map.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def __getitem__(self, key: str) -> str:
        return self._map[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._map.get(key.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)


class RecordsFastPath:
    def __init__(self, app: Any, central: Central) -> None:
        self.app, self.central = app, central

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/records":
            await self._records(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _records(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = RawHeaders(scope["headers"])
        try:
            body = await read_limited(headers.get("content-length"), _chunks(receive), LARGE_BODY)
            answer = self._handle(scope, headers, body)
        except ApiError as exc:
            await error_response(exc)(scope, receive, send)
            return
        except (StorageUnavailable, ValueRefused) as exc:
            await error_response(storage_error(exc, scope["path"]))(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(answer)).encode("ascii"))]})
        await send({"type": "http.response.body", "body": answer})

    def _handle(self, scope: dict[str, Any], headers: RawHeaders, body: bytes) -> bytes:
        device_id = self.central.authenticate(method="POST", target=request_target(scope), headers=headers,
                                              body=body)
        return ingest(self.central, device_id, check_batch(parse_json(headers.get("content-type"), body)))


async def _chunks(receive: Any) -> AsyncIterator[bytes]:
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "invalid_request", "client went away before the body ended")
        yield message.get("body", b"")
        more = message.get("more_body", False)
