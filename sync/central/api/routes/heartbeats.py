"""POST /v1/heartbeats (device auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sync.central.api.http import SMALL_BODY, CanonicalJSON, CentralDep, as_device, json_body, read_body, request_schema
from sync.central.fleet import record_heartbeat

router = APIRouter(tags=["heartbeats"])


@router.post("/v1/heartbeats", response_class=CanonicalJSON, openapi_extra=request_schema({"type": "object"}))
async def post_heartbeat(request: Request, central: CentralDep) -> CanonicalJSON:
    body = await read_body(request, SMALL_BODY)
    return CanonicalJSON(await as_device(central, request, body, lambda device_id: record_heartbeat(
        central, device_id, json_body(request, body))))
