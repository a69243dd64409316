"""The FastAPI app: routes per resource, SYNC.md error bodies for every failure."""

from __future__ import annotations


from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.central.api.fast_records import RecordsFastPath
from sync.central.api.http import DeclaredBodyLimit, error_response, storage_error
from sync.central.api.routes import dashboard, devices, enroll, feeds, health, heartbeats, keys, receipts, records
from sync.central.errors import ApiError
from sync.central.service import Central
from sync.central.settings import Settings
from sync.central.storage import StorageUnavailable, ValueRefused

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def create_app(central: Central) -> FastAPI:
    app = FastAPI(title="e-Station central", version="1", description="SYNC.md protocol v1")
    app.state.central = central
    app.add_middleware(DeclaredBodyLimit)
    for module in (enroll, records, heartbeats, keys, devices, feeds, receipts, health, dashboard):
        app.include_router(module.router)

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError):
        return error_response(exc)

    @app.exception_handler(StorageUnavailable)
    @app.exception_handler(ValueRefused)
    async def on_storage_error(request: Request, exc: Exception):
        return error_response(storage_error(exc, request.url.path))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):
        return error_response(ApiError(400, "invalid_request", "request parameters are invalid"))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "invalid_request")
        return error_response(ApiError(exc.status_code, code, str(exc.detail)))

    return app


def serving_app(central: Central) -> RecordsFastPath:
    """What uvicorn serves: the FastAPI app behind the POST /v1/records fast path."""
    return RecordsFastPath(create_app(central), central)


def app_from_env() -> RecordsFastPath:
    """uvicorn factory for `serve --workers N` (each worker builds its own Central)."""
    return serving_app(Central(Settings.from_env()))
