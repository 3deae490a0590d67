"""The audit page, for admins: who saw or did what, when, from where (newest first)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from webapp.deps import Viewer, audit_of, render, require

router = APIRouter()


@router.get("/admin/audit")
def audit_page(request: Request, since: str = "", who: Viewer = Depends(require("audit"))  # noqa: B008
               ) -> Response:
    entries = audit_of(request).entries(since or None, limit=500)
    who.audit(request, "view_audit", detail=f"since {since}" if since else "")
    return render(request, "audit.html", who, entries=entries, since=since)
