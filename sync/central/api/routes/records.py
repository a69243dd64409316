"""POST /v1/records (device auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync.central.api.http import LARGE_BODY, CanonicalJSON, CentralDep, as_device, json_body, read_body, request_schema
from sync.central.ingest import check_batch, ingest

router = APIRouter(tags=["records"])


@router.post("/v1/records", response_class=CanonicalJSON, openapi_extra=request_schema(
    {"type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": {}}}}))
async def post_records(request: Request, central: CentralDep) -> Response:
    body = await read_body(request, LARGE_BODY)
    answer = await as_device(central, request, body,
                             lambda device_id: ingest(central, device_id, check_batch(json_body(request, body))))
    return Response(answer, media_type="application/json")  # already C(x)
