"""What every page needs: who is asking (or a redirect to /login), what they may see, the
CSRF check of a form, the audit, the warehouse, and rendering a template.

Page modules (review, people, lists, admin) take these as FastAPI dependencies; the app
(`webapp.app`) puts the shared objects on `app.state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from fastapi import Depends, Form, HTTPException, Request
from fastapi.templating import Jinja2Templates

from linkage.access.audit import Audit
from linkage.access.settings import Access, AccessConfig, User
from linkage.access.users import Users
from webapp.reader import Reader

SESSION_COOKIE = "famlink_session"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


class LoginRequired(Exception):
    """No live session: the app answers with a redirect to /login."""


@dataclass(frozen=True)
class Viewer:
    """The person behind a request, what they may see, and their session's CSRF token."""

    user: User
    access: Access
    csrf: str
    client: str

    def audit(self, request: Request, action: str, target: str = "", detail: str = "") -> None:
        audit_of(request).record(self.user.username, self.user.role, action, target, detail,
                                 self.client)


def users_of(request: Request) -> Users:
    return request.app.state.users


def audit_of(request: Request) -> Audit:
    return request.app.state.audit


def access_config_of(request: Request) -> AccessConfig:
    return request.app.state.access_config


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def viewer(request: Request) -> Viewer:
    session = users_of(request).session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginRequired()
    return Viewer(session.user, Access(access_config_of(request), session.user), session.csrf,
                  client_of(request))


def require(page: str):  # noqa: ANN201 - a FastAPI dependency
    """A dependency: the viewer, if their role may use `page` (configs/access.yaml), else 403."""

    def dependency(request: Request, who: Viewer = Depends(viewer)) -> Viewer:  # noqa: B008
        if not who.access.may_use(page):
            who.audit(request, "refused", page)
            raise HTTPException(403, f"your role ({who.user.role}) may not use {page}")
        return who

    return dependency


def checked(request: Request, csrf_token: str = Form(""),  # noqa: B008
            who: Viewer = Depends(viewer)) -> Viewer:  # noqa: B008
    """A dependency for every form that changes something: its CSRF token must be the
    session's."""
    import hmac

    if not hmac.compare_digest(csrf_token, who.csrf):
        who.audit(request, "refused", request.url.path, "bad CSRF token")
        raise HTTPException(403, "the form is stale or was not sent by famlink: reload the page")
    return who


def warehouse(request: Request) -> duckdb.DuckDBPyConnection:
    reader: Reader = request.app.state.reader
    return reader.cursor()


def render(request: Request, template: str, who: Viewer | None, **context: object):  # noqa: ANN201
    """A page: `template` with the viewer (for the menu and the CSRF token of its forms)."""
    return TEMPLATES.TemplateResponse(request, template, {"viewer": who, **context})
