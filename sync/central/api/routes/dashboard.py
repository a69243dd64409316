"""Fleet dashboard routes: GET /dashboard and GET /dashboard/receipt (a resident's receipt token
checked; operator token as Bearer header, or a login session's cookie),
POST /dashboard/login (form with the token → a server-side session, its id in an HttpOnly cookie:
the token itself never sits in a browser profile, and a session ends on logout, after 12 h, or
when its token is revoked), POST /dashboard/logout.

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
from sync.central.service import DASHBOARD_SESSION_S

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
    """The login page unless the request carries an operator token (header) or a live session (cookie)."""
    authorization = request.headers.get("authorization")
    if authorization:
        if await run_in_threadpool(_is_operator, central, authorization):
            return None
        return _login_page("token not accepted")
    session = request.cookies.get(COOKIE, "")
    if session and await run_in_threadpool(central.dashboard_session_ok, session):
        return None
    return _login_page("session ended: log in again" if session else "")


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
    session = await run_in_threadpool(central.start_dashboard_session, token)
    if session is None:
        return _login_page("token not accepted")
    response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https", max_age=DASHBOARD_SESSION_S)
    return response


@router.post("/dashboard/logout")
async def logout(request: Request, central: CentralDep) -> Response:
    """Ends the session the cookie names.  A request without the cookie changes nothing: the cookie
    is SameSite=Strict, so another site's form posting here arrives without it and logs no one out."""
    response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
    session = request.cookies.get(COOKIE, "")
    if session:
        await run_in_threadpool(central.end_dashboard_session, session)
        response.delete_cookie(COOKIE, path="/dashboard")
    return response
