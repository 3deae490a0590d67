"""Pages: the lists program staff act on, their filters, what is new, and their downloads.

Filters by category (a system, a priority, a kind) may travel in a URL: they name no one. Text
in a name is sent by POST only (with the session's CSRF token), and so is every download: the
form carries the filters, and the audit records the list, the format and the number of rows.
What a viewer may see of each row is decided in linkage.marts.lists, before rendering or
writing a file.
"""

from __future__ import annotations

import io
from typing import Annotated

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, QueryParams

from linkage.marts.lists import (
    HIDDEN,
    LISTS,
    PAGE_SIZE,
    Changes,
    ListError,
    ListSpec,
    Query,
    changes,
    fetch,
    offered_filters,
    spec_of,
    write_csv,
    write_xlsx,
)
from webapp.deps import Viewer, checked, render, require, warehouse

router = APIRouter()
Lists = Annotated[Viewer, Depends(require("lists"))]
Checked = Annotated[Viewer, Depends(checked)]
Warehouse = Annotated[duckdb.DuckDBPyConnection, Depends(warehouse)]
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def _form(request: Request) -> FormData:
    """The posted form (an async dependency, so that the page itself runs in a thread)."""
    return await request.form()


Posted = Annotated[FormData, Depends(_form)]


def _spec(name: str) -> ListSpec:
    try:
        return spec_of(name)
    except ListError:
        raise HTTPException(404, "no such list") from None


def _query(spec: ListSpec, params: QueryParams | FormData, with_text: bool) -> Query:
    """The filters of a request: the list's categories, 'new only', and (from a POST form
    only) text in a name."""
    categories = {f.name: str(params.get(f.name) or "") for f in spec.filters}
    text = str(params.get("name_text") or "").strip() if with_text else ""
    return Query({k: v for k, v in categories.items() if v}, text or None,
                 params.get("new") == "1")


def _describe(query: Query) -> str:
    """The filters for the audit: categories by value, a name text only as used."""
    parts = [f"{k}={v}" for k, v in sorted(query.categories.items())]
    parts += ["new only"] * query.only_new + ["name text"] * bool(query.name_text)
    return ", ".join(parts) or "none"


def _page(request: Request, who: Viewer, con: duckdb.DuckDBPyConnection, spec: ListSpec,
          query: Query, page: int) -> Response:
    change = changes(request.app.state.reader.db, spec.name)
    try:
        columns, rows, total = fetch(con, who.access, spec, query, change, page=page)
    except ListError as exc:
        raise HTTPException(400, str(exc)) from None
    shown = list(rows)
    who.audit(request, "view_list", spec.name,
              f"rows={len(shown)} of {total}; filters: {_describe(query)}")
    return render(request, "lists_list.html", who, spec=spec, columns=columns, rows=shown,
                  total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                  query=query, filters=offered_filters(spec, who.access), change=change,
                  hidden=HIDDEN, text_allowed=spec.name_text is not None
                  and spec.name_rule.visible(who.access))


@router.get("/lists")
def index(request: Request, who: Lists, con: Warehouse) -> Response:
    db = request.app.state.reader.db
    lists = []
    for spec in LISTS.values():
        rows = con.execute(f"SELECT count(*) FROM {spec.table}").fetchall()[0][0]
        lists.append({"spec": spec, "rows": rows, "change": changes(db, spec.name)})
    return render(request, "lists.html", who, lists=lists)


@router.get("/lists/{name}")
def view(request: Request, name: str, who: Lists, con: Warehouse, page: int = 0) -> Response:
    spec = _spec(name)
    return _page(request, who, con, spec, _query(spec, request.query_params, False), page)


@router.post("/lists/{name}")
def view_filtered(request: Request, name: str, who: Lists, _checked: Checked, con: Warehouse,
                  form: Posted, page: Annotated[int, Form()] = 0) -> Response:
    spec = _spec(name)
    return _page(request, who, con, spec, _query(spec, form, True), page)


@router.post("/lists/{name}/download")
def download(request: Request, name: str, who: Lists, _checked: Checked, con: Warehouse,
             form: Posted, format: Annotated[str, Form()] = "csv") -> Response:  # noqa: A002
    spec = _spec(name)
    if format not in FORMATS:
        raise HTTPException(400, "download as csv or xlsx")
    query = _query(spec, form, True)
    change: Changes = changes(request.app.state.reader.db, spec.name)
    try:
        columns, rows, _total = fetch(con, who.access, spec, query, change)
    except ListError as exc:
        raise HTTPException(400, str(exc)) from None
    if format == "csv":
        text = io.StringIO()
        n = write_csv(columns, rows, text)
        body = text.getvalue().encode("utf-8")
    else:
        data = io.BytesIO()
        n = write_xlsx(columns, rows, data, spec.name)
        body = data.getvalue()
    who.audit(request, "download", spec.name,
              f"format={format} rows={n}; filters: {_describe(query)}")
    filename = f"{spec.name}.{format}"
    return Response(body, media_type=FORMATS[format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
