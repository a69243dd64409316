"""Operator endpoints (SYNC.md §8): devices, revocation, enroll tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import (SMALL_BODY, CanonicalJSON, CentralDep, json_body, operator, read_body,
                                   request_schema)
from sync.central.errors import ApiError
from sync.central.fleet import all_device_views, device_view
from sync.central.service import Central
from sync.protocol.jsonprofile import MAX_SAFE_INT
from sync.protocol.timefmt import format_unix

router = APIRouter(tags=["operator"])


def _one_device(central: Central, device_id: str) -> dict[str, Any]:
    device = central.repo.device(device_id=device_id)
    if device is None:
        raise ApiError(404, "not_found", "no such device")
    return device_view(central, device, central.repo.record_counts(device_id=device_id).get(device_id))


@router.get("/v1/devices", response_class=CanonicalJSON)
async def list_devices(request: Request, central: CentralDep) -> CanonicalJSON:
    await operator(central, request)
    return CanonicalJSON({"devices": await run_in_threadpool(all_device_views, central)})


@router.get("/v1/devices/{device_id}", response_class=CanonicalJSON)
async def get_device(device_id: str, request: Request, central: CentralDep) -> CanonicalJSON:
    await operator(central, request)
    return CanonicalJSON(await run_in_threadpool(_one_device, central, device_id))


def _revoke(central: Central, device_id: str, body: Any) -> dict[str, Any]:
    if body is not None and (not isinstance(body, dict) or set(body) - {"reason"} or
                             not isinstance(body.get("reason", ""), str)):
        raise ApiError(400, "invalid_request", "body is empty or {\"reason\": str}")
    reason = body.get("reason") if isinstance(body, dict) else None
    if not central.repo.revoke(device_id=device_id, reason=reason, now_text=central.now_text()):
        raise ApiError(404, "not_found", "no such device")
    return _one_device(central, device_id)


@router.post("/v1/devices/{device_id}/revoke", response_class=CanonicalJSON,
             openapi_extra={"requestBody": {"required": False, "content": {"application/json": {"schema": {
                 "type": "object", "properties": {"reason": {"type": "string"}}}}}}})
async def revoke_device(device_id: str, request: Request, central: CentralDep) -> CanonicalJSON:
    raw = await read_body(request, SMALL_BODY)
    await operator(central, request)
    body = json_body(request, raw, optional=True)
    return CanonicalJSON(await run_in_threadpool(_revoke, central, device_id, body))


def _int_field(body: dict[str, Any], name: str, default: int, low: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_SAFE_INT:
        raise ApiError(400, "invalid_request", f"{name} must be an integer ≥ {low}")
    return value


def _new_token(central: Central, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) - {"uses", "ttl_s", "label"}:
        raise ApiError(400, "invalid_request", "body is {uses?, ttl_s?, label?}")
    uses = _int_field(body, "uses", 1, 1)
    ttl = _int_field(body, "ttl_s", 86400, 60)
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > 128:
        raise ApiError(400, "invalid_request", "label must be a string of at most 128 characters")
    if central.now() + ttl > 253402300799:  # year 9999: beyond the time format
        raise ApiError(400, "invalid_request", "ttl_s too large")
    token, expires = central.create_enroll_token(uses=uses, ttl_s=ttl, label=label)
    return {"token": token, "expires_at": format_unix(expires), "uses": uses}


@router.post("/v1/enroll-tokens", response_class=CanonicalJSON, status_code=201,
             openapi_extra=request_schema(required=False, schema={"type": "object", "properties": {
                 "uses": {"type": "integer", "minimum": 1}, "ttl_s": {"type": "integer", "minimum": 60},
                 "label": {"type": "string"}}}))
async def create_enroll_token(request: Request, central: CentralDep) -> CanonicalJSON:
    raw = await read_body(request, SMALL_BODY)
    await operator(central, request)
    body = json_body(request, raw, optional=True)  # §8: every field optional, so the body too
    return CanonicalJSON(await run_in_threadpool(_new_token, central, {} if body is None else body),
                         status_code=201)
