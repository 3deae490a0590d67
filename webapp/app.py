"""The FastAPI app: login and logout, the home page, the audit page, and the page modules.

Every response carries a content security policy that allows only the app's own scripts and
styles (no inline script: a value that slipped through escaping could still not run), forbids
framing, and is never cached (the pages hold personal data).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkage.access.audit import Audit
from linkage.access.settings import load_access_config, stores
from linkage.access.users import Users
from webapp import admin, lists, people, review
from webapp.deps import (
    SESSION_COOKIE,
    LoginRequired,
    Viewer,
    client_of,
    render,
    users_of,
    viewer,
)
from webapp.reader import NoWarehouse, Reader

LOG = logging.getLogger("famlink.web")
LOGIN_CSRF_COOKIE = "famlink_login"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}


def create_app(db: Path, access_config: Path | None = None) -> FastAPI:
    """The app over the warehouse at `db` (a work folder's famlink.duckdb)."""
    config = load_access_config(access_config)
    users_path, audit_path = stores(db)  # beside the versions, never inside one
    app = FastAPI(title="famlink", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.access_config = config
    app.state.users = Users(users_path, config)
    app.state.audit = Audit(audit_path)
    app.state.reader = Reader(Path(db))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - any failure: a page, and no values logged
            # caught here, before the server's own handler would log the traceback: the log
            # gets the error's kind and the page, never its message (a database error may
            # quote a record's values)
            LOG.error("%s on %s", type(exc).__name__, request.url.path)
            response = _error(request, StarletteHTTPException(
                500, "something went wrong; the administrator can see when in the log"))
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(_request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        session = users_of(request).session(request.cookies.get(SESSION_COOKIE))
        if session is None:  # an unknown page says nothing to a stranger: log in first
            return RedirectResponse("/login", status_code=303)
        return _error(request, exc)

    @app.exception_handler(NoWarehouse)
    async def no_warehouse(request: Request, exc: NoWarehouse) -> Response:
        return _error(request, StarletteHTTPException(503, str(exc)))

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="static")

    @app.get("/login")
    def login_page(request: Request, failed: bool = False, stale: bool = False) -> Response:
        # the token a form already on screen carries stays valid (a second tab, a request
        # the browser makes by itself), so that opening /login again never spoils it
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = render(request, "login.html", None, login_csrf=token, failed=failed,
                          stale=stale)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=True,
                            samesite="strict")
        return response

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf_token: str = Form("")) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        audit = request.app.state.audit
        if not expected or not hmac.compare_digest(expected, csrf_token):
            return RedirectResponse("/login?stale=1", status_code=303)
        result = users_of(request).login(username.strip(), password)
        if result is None:
            # a name no user has is often a password typed into the wrong field: not kept
            name = username.strip() if users_of(request).known(username.strip()) \
                else "(not a user name)"
            audit.record(name, "", "login_failed", client=client_of(request))
            return RedirectResponse("/login?failed=1", status_code=303)
        token, session = result
        audit.record(session.user.username, session.user.role, "login",
                     client=client_of(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True,
                            samesite="strict")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        who = viewer(request)
        if hmac.compare_digest(csrf_token, who.csrf):
            who.audit(request, "logout")
            users_of(request).logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        who = viewer(request)
        return render(request, "home.html", who)

    for module in (review, people, lists, admin):
        app.include_router(module.router)
    return app


def _error(request: Request, exc: StarletteHTTPException) -> Response:
    """An error page, with the menu for a logged-in viewer."""
    try:
        who: Viewer | None = viewer(request)
    except LoginRequired:
        who = None
    response = render(request, "error.html", who, status=exc.status_code,
                      message=str(exc.detail))
    response.status_code = exc.status_code
    return response
