"""POST /v1/enroll (no device auth)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import SMALL_BODY, CanonicalJSON, CentralDep, json_body, read_body, request_schema
from sync.central.enrollment import enroll

router = APIRouter(tags=["enrollment"])

ENROLL_SCHEMA = {"type": "object", "required": ["signed", "sig"], "properties": {
    "signed": {"type": "object", "required": ["token", "device_key", "hardware_id", "software_version"],
               "properties": {k: {"type": "string"} for k in ("token", "device_key", "hardware_id",
                                                              "software_version")}},
    "sig": {"type": "string"}}}


@router.post("/v1/enroll", response_class=CanonicalJSON, openapi_extra=request_schema(ENROLL_SCHEMA))
async def post_enroll(request: Request, central: CentralDep) -> CanonicalJSON:
    body = json_body(request, await read_body(request, SMALL_BODY))
    status, answer = await run_in_threadpool(enroll, central, body)
    return CanonicalJSON(answer, status_code=status)
