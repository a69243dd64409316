"""Feeds (SYNC.md §7): GET /v1/feeds/{name} (device), PUT /v1/feeds/{name} (operator), GET /v1/feed-keys."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import (LARGE_BODY, SMALL_BODY, CanonicalJSON, CentralDep, authenticated_device,
                                   json_body, operator, read_body, request_schema)
from sync.central.feeds import current_snapshot, publish_request, rotations

router = APIRouter(tags=["feeds"])


@router.get("/v1/feeds/{name}", response_class=CanonicalJSON)
async def get_feed(name: str, request: Request, central: CentralDep) -> Response:
    body = await read_body(request, SMALL_BODY)
    await authenticated_device(central, request, body)
    version, snapshot = await run_in_threadpool(current_snapshot, central, name)
    etag = f'"{version}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(snapshot, media_type="application/json", headers={"ETag": etag})


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: a list of entity tags or `*`, compared weakly (a W/ prefix does not matter)."""
    if if_none_match is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.put("/v1/feeds/{name}", response_class=CanonicalJSON, status_code=201, openapi_extra=request_schema(
    {"type": "object", "required": ["content", "expires_in_s"], "properties": {
        "content": {"type": "object"}, "expires_in_s": {"type": "integer", "minimum": 60, "maximum": 31536000}}}))
async def put_feed(name: str, request: Request, central: CentralDep) -> Response:
    raw = await read_body(request, LARGE_BODY)
    await operator(central, request)
    body = json_body(request, raw)
    snapshot = await run_in_threadpool(publish_request, central, name, body)
    return Response(snapshot, status_code=201, media_type="application/json")


@router.get("/v1/feed-keys", response_class=CanonicalJSON)
async def get_feed_keys(central: CentralDep) -> CanonicalJSON:
    return CanonicalJSON({"rotations": await run_in_threadpool(rotations, central)})
