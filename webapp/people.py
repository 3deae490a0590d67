"""Pages: find a person (eFind-like), a person, a family.

The search is a POST form (with the session's CSRF token): what was typed (a name, a birth date,
an SSN's last four) never travels in a URL, so it stays out of browser history, proxies and
server logs. The audit records the kinds of search and the number of persons found, never the
values. What the pages show is filtered in linkage.access.people, before rendering.
"""

from __future__ import annotations

from typing import Annotated

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from linkage.access.people import (
    LIMIT,
    Search,
    SearchError,
    family_view,
    find_persons,
    person_view,
)
from webapp.deps import Viewer, checked, render, require, warehouse

router = APIRouter()
People = Annotated[Viewer, Depends(require("people"))]
Warehouse = Annotated[duckdb.DuckDBPyConnection, Depends(warehouse)]


@router.get("/people")
def search_page(request: Request, who: People) -> Response:
    return render(request, "people.html", who, form={}, persons=None, limit=LIMIT)


@router.post("/people")
def search(request: Request, who: People, _checked: Annotated[Viewer, Depends(checked)],
           con: Warehouse, first_name: Annotated[str, Form()] = "",
           last_name: Annotated[str, Form()] = "", dob: Annotated[str, Form()] = "",
           ssn4: Annotated[str, Form()] = "", case_id: Annotated[str, Form()] = "") -> Response:
    form = {"first_name": first_name, "last_name": last_name, "dob": dob, "ssn4": ssn4,
            "case_id": case_id}
    try:
        query = Search.parse(**form)
    except SearchError as exc:
        response = render(request, "people.html", who, form=form, persons=None,
                          error=str(exc), limit=LIMIT)
        response.status_code = 400
        return response
    persons, more = find_persons(con, who.access, query)
    who.audit(request, "search", "", f"by {'+'.join(query.kinds)}: {len(persons)}"
              f"{'+' if more else ''} results")
    return render(request, "people.html", who, form=form, persons=persons, more=more,
                  limit=LIMIT)


@router.get("/people/{person_id}")
def person(request: Request, person_id: str, who: People, con: Warehouse) -> Response:
    view = person_view(con, who.access, person_id)
    if view is None:
        raise HTTPException(404, "no such person (or none of their records is yours to see)")
    who.audit(request, "view_person", person_id)
    return render(request, "people_person.html", who, person=view)


@router.get("/families/{family_id}")
def family(request: Request, family_id: str, who: People, con: Warehouse) -> Response:
    view = family_view(con, who.access, family_id)
    if view is None:
        raise HTTPException(404, "no such family (or none of its records is yours to see)")
    who.audit(request, "view_family", family_id)
    return render(request, "family.html", who, family=view)
