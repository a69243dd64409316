"""GET /healthz and GET /metrics (no auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import CanonicalJSON, CentralDep, error_response
from sync.central.errors import ApiError
from sync.central.fleet import metrics_text

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_class=CanonicalJSON)
async def healthz(central: CentralDep) -> CanonicalJSON:
    if await run_in_threadpool(central.repo.healthy):
        return CanonicalJSON({"status": "ok"})
    return error_response(ApiError(503, "unavailable", "storage unavailable", headers={"Retry-After": "5"}))


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(central: CentralDep) -> PlainTextResponse:
    text = await run_in_threadpool(metrics_text, central)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
