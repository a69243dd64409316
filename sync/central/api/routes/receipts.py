"""POST /v1/receipt-tokens/check (operator): is a resident's printed receipt genuine, and has its record arrived?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import SMALL_BODY, CanonicalJSON, CentralDep, json_body, operator, read_body, request_schema
from sync.central.errors import ApiError
from sync.central.receipt_tokens import check_receipt_token
from sync.central.service import Central

router = APIRouter(tags=["operator"])


def _check(central: Central, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) != {"token"} or not isinstance(body["token"], str):
        raise ApiError(400, "invalid_request", "body must be exactly {\"token\": \"ES1:...\"}")
    return check_receipt_token(central, body["token"])


@router.post("/v1/receipt-tokens/check", response_class=CanonicalJSON, openapi_extra=request_schema(
    {"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}))
async def check_token(request: Request, central: CentralDep) -> CanonicalJSON:
    raw = await read_body(request, SMALL_BODY)
    await operator(central, request)
    return CanonicalJSON(await run_in_threadpool(_check, central, json_body(request, raw)))
