"""Fleet dashboard routes: GET /dashboard and GET /dashboard/receipt (a resident's receipt token
checked; operator token as Bearer header or cookie),
POST /dashboard/login (form with the token → HttpOnly cookie), POST /dashboard/logout.

Without a valid token the answer is 401 with the login form and no fleet data.
The form body is parsed by hand (urlencoded), so no python-multipart dependency.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sync.central.api.http import SMALL_BODY, CentralDep, read_body
from sync.central.dashboard import render_dashboard, render_login, render_receipt_check
from sync.central.errors import ApiError
from sync.central.receipt_tokens import MAX_TOKEN_CHARS, check_receipt_token

router = APIRouter(tags=["dashboard"], include_in_schema=False)
COOKIE = "estation_operator"
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


def _login_page(message: str = "", status: int = 401) -> HTMLResponse:
    return HTMLResponse(render_login(message), status_code=status,
                        headers={**HEADERS, "WWW-Authenticate": 'Bearer realm="estation-operator"'})


def _is_operator(central, authorization: str | None) -> bool:
    try:
        central.check_operator(authorization)
    except ApiError:
        return False
    return True


async def _refused(request: Request, central) -> HTMLResponse | None:
    """The login page unless the request carries an operator token (header or cookie)."""
    authorization = request.headers.get("authorization")
    cookie = request.cookies.get(COOKIE)
    if not authorization and cookie:
        authorization = f"Bearer {cookie}"
    if not await run_in_threadpool(_is_operator, central, authorization):
        return _login_page("token not accepted" if authorization else "")
    return None


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, central: CentralDep) -> Response:
    if refused := await _refused(request, central):
        return refused
    status, problem = request.query_params.get("status"), request.query_params.get("problem")
    page = await run_in_threadpool(render_dashboard, central, status=status, problem=problem)
    return HTMLResponse(page, headers=HEADERS)


@router.get("/dashboard/receipt", response_class=HTMLResponse)
async def receipt(request: Request, central: CentralDep) -> Response:
    if refused := await _refused(request, central):
        return refused
    token = request.query_params.get("token", "").strip()
    result = await run_in_threadpool(check_receipt_token, central, token) if token else None
    return HTMLResponse(render_receipt_check(token[:MAX_TOKEN_CHARS], result), headers=HEADERS)


@router.post("/dashboard/login")
async def login(request: Request, central: CentralDep) -> Response:
    try:
        raw = await read_body(request, SMALL_BODY)
    except ApiError:
        return _login_page("request too large")
    try:
        token = parse_qs(raw.decode("utf-8"), max_num_fields=4).get("token", [""])[0].strip()
    except (UnicodeDecodeError, ValueError):
        token = ""
    if not token or not await run_in_threadpool(_is_operator, central, f"Bearer {token}"):
        return _login_page("token not accepted")
    response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https", max_age=12 * 3600)
    return response


@router.post("/dashboard/logout")
async def logout() -> Response:
    response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response
