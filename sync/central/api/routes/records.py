"""POST /v1/records (device auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import (LARGE_BODY, CanonicalJSON, CentralDep, authenticated_device, json_body,
                                   read_body, request_schema)
from sync.central.ingest import check_batch, ingest

router = APIRouter(tags=["records"])


@router.post("/v1/records", response_class=CanonicalJSON, openapi_extra=request_schema(
    {"type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": {}}}}))
async def post_records(request: Request, central: CentralDep) -> CanonicalJSON:
    body = await read_body(request, LARGE_BODY)
    device_id = await authenticated_device(central, request, body)
    records = check_batch(json_body(request, body))
    return CanonicalJSON(await run_in_threadpool(ingest, central, device_id, records))
