"""Request plumbing shared by the routes, in SYNC.md §9's check order:
size, auth, content type, JSON profile, shape.

Bodies are read by hand (not by FastAPI/pydantic) so that the size limit is enforced
while reading and the JSON profile, not pydantic's leniency, decides what is malformed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sync.central.errors import ApiError
from sync.central.service import Central
from sync.central.storage import ValueRefused
from sync.protocol.jsonprofile import ProfileViolation, canonical, parse_profile

log = logging.getLogger("estation.central")

LARGE_BODY = 4 * 1024 * 1024  # POST /v1/records, PUT /v1/feeds
SMALL_BODY = 64 * 1024  # everything else
T = TypeVar("T")


class CanonicalJSON(Response):
    """Every JSON answer is C(x), so identical content means identical bytes (receipts)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return canonical(content)


def error_response(error: ApiError) -> CanonicalJSON:
    return CanonicalJSON(error.body(), status_code=error.status, headers=error.headers)


def get_central(request: Request) -> Central:
    return request.app.state.central


CentralDep = Annotated[Central, Depends(get_central)]


async def read_limited(declared: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The body, or 413 as soon as the declared length or the bytes so far pass `limit`."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"body over {limit} bytes")
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"body over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def read_body(request: Request, limit: int) -> bytes:
    return await read_limited(request.headers.get("content-length"), request.stream(), limit)


def request_target(scope: dict[str, Any]) -> str:
    """path+query as on the request line (what the device signed)."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string") or b""
    target = raw_path + (b"?" + query if query else b"")
    return target.decode("latin-1")


def storage_error(exc: Exception, path: str) -> ApiError:
    """The answer to a storage failure: 503 (logged, the device retries) while the database is
    unavailable, 400 for a value no engine stores (text with NUL)."""
    if isinstance(exc, ValueRefused):
        return ApiError(400, "invalid_request", "a text value holds a NUL character")
    log.warning("storage unavailable", extra={"path": path, "problem": str(exc)[:200]})
    return ApiError(503, "unavailable", "storage unavailable", headers={"Retry-After": "5"})


async def authenticated_device(central: Central, request: Request, body: bytes) -> str:
    return await run_in_threadpool(central.authenticate, method=request.method, target=request_target(request.scope),
                                   headers=request.headers, body=body)


async def as_device(central: Central, request: Request, body: bytes, handle: Callable[[str], T]) -> T:
    """Authenticate, then `handle(device_id)`, in one worker-thread hop: a hop costs a GIL
    hand-over both ways, which showed in ingest and heartbeat figures."""
    target = request_target(request.scope)

    def work() -> T:
        return handle(central.authenticate(method=request.method, target=target, headers=request.headers,
                                           body=body))
    return await run_in_threadpool(work)


async def operator(central: Central, request: Request) -> None:
    await run_in_threadpool(central.check_operator, request.headers.get("authorization"))


def json_body(request: Request, body: bytes, *, optional: bool = False) -> Any:
    """Content type, then the JSON profile; an empty body is None when `optional`."""
    if optional and not body:
        return None
    return parse_json(request.headers.get("content-type"), body)


def parse_json(content_type: str | None, body: bytes) -> Any:
    """§9's content type, then JSON profile checks: 415, or 400 malformed_body, or the value."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        return parse_profile(body)
    except ProfileViolation as exc:
        raise ApiError(400, "malformed_body", str(exc)) from None


def request_schema(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """openapi_extra for a hand-read JSON body, so the published OpenAPI (and fuzzers) know it."""
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


class DeclaredBodyLimit:
    """ASGI middleware: §9's size limit for every request, also those whose route never reads a
    body (GET /v1/keys with 100 kB attached is 413 too).  Routes that read the body still count
    the bytes as they come (`read_body`), which catches chunked bodies without Content-Length."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > body_limit(scope["method"], scope["path"]):
                limit = body_limit(scope["method"], scope["path"])
                response = error_response(ApiError(413, "body_too_large", f"body over {limit} bytes"))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def body_limit(method: str, path: str) -> int:
    large = (method == "POST" and path == "/v1/records") or (method == "PUT" and path.startswith("/v1/feeds/"))
    return LARGE_BODY if large else SMALL_BODY
