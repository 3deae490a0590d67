"""Pages: review, for liaisons (issue 15, item 2).

The queue in its order (open child-welfare cases first), a pair side by side in plain words
with the evidence and the household links behind its score and the waterfall chart, and the
decision form (match / not a match / unsure, with a note; keys m, n, u). Everything shown is
built by linkage.review.pairs for the viewer's access, worded by linkage.review.wording (the
words `famlink review queue` prints too). Decisions go to the decision store beside the
stable warehouse path, never into the warehouse, which the app only reads. Every view of the
queue or of a pair, and every decision, is audited.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from linkage.access.records import records_view
from linkage.link.explain import ASSETS, VEGA
from linkage.link.run import load_model
from linkage.link.settings import LinkageConfig, load_linkage_config
from linkage.review import wording
from linkage.review.decisions import (
    DECISIONS,
    Decision,
    DecisionError,
    decisions_path,
    history,
    record,
)
from linkage.review.pairs import QueueEntry, find_entry, pair_view, queue_entries
from linkage.review.queue import settled_pairs
from webapp.deps import Viewer, checked, render, require, warehouse

router = APIRouter()
PAGE_SIZE = 25
PAIR_ID = re.compile(r"^[0-9A-Fa-f]{10}$")
# The charting code the pair page loads, in order; served from the package's own copy.
INTERPRETER = "vega-interpreter-1.0.5.js"
CHART_SCRIPTS = (*VEGA, INTERPRETER)


@cache
def _linkage_config() -> LinkageConfig:
    return load_linkage_config()


def _store(request: Request) -> Path:
    """The decision store beside the stable warehouse path (beside the versions, so that no
    published version ever holds a decision)."""
    return decisions_path(request.app.state.reader.db, _linkage_config().review.decisions_file)


def _entry(request: Request, pair_id: str) -> QueueEntry:
    """The queued pair, or 404 (an id the queue does not hold: decided and relinked, or
    mistyped)."""
    entry = find_entry(warehouse(request), pair_id) if PAIR_ID.match(pair_id) else None
    if entry is None:
        raise HTTPException(404, "no such pair in the review queue: it may have been settled "
                                 "by the last run")
    return entry


@router.get("/review")
def queue(request: Request, page: int = 1,
          who: Viewer = Depends(require("review"))) -> Response:  # noqa: B008
    con = warehouse(request)
    page = max(page, 1)
    entries, total = queue_entries(con, who.access, settled_pairs(_store(request)), PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE)
    views = records_view(con, who.access, [r for e in entries
                                           for r in (e.record_id_l, e.record_id_r)])
    rows = [{"entry": e, "left": wording.describe(views[e.record_id_l]),
             "right": wording.describe(views[e.record_id_r])} for e in entries]
    who.audit(request, "view_queue", detail=f"page {page}")
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "review.html", who, rows=rows, total=total, page=page, pages=pages)


@router.get("/review/pair/{pair_id}")
def pair(request: Request, pair_id: str,
         who: Viewer = Depends(require("review"))) -> Response:  # noqa: B008
    entry = _entry(request, pair_id)
    con = warehouse(request)
    view = pair_view(con, _linkage_config(), load_model(con)[-1], who.access, entry)
    if view is None:  # a record of a system the viewer may not know of: as if it were not
        raise HTTPException(404, "no such pair in the review queue")
    ids = (entry.record_id_l, entry.record_id_r)
    decided = history(_store(request), [ids]).get(ids, [])
    who.audit(request, "view_pair", ",".join(ids), entry.pair_id)
    return render(request, "review_pair.html", who, view=view, words=wording,
                  decided=decided, disagreement=_disagreement(decided),
                  chart_scripts=CHART_SCRIPTS)


def _disagreement(decided: list[Decision]) -> list[Decision]:
    """Each reviewer's latest decision, when they do not all say the same: the page shows
    them side by side (the store applies the latest one)."""
    latest = {d.reviewer: d for d in decided}
    return list(latest.values()) if len({d.decision for d in latest.values()}) > 1 else []


@router.post("/review/pair/{pair_id}/decide")
def decide(request: Request, pair_id: str, decision: str = Form(""),
           note: str = Form(""),
           who: Viewer = Depends(require("review")),  # noqa: B008
           _form: Viewer = Depends(checked)) -> Response:  # noqa: B008
    entry = _entry(request, pair_id)
    con = warehouse(request)
    ids = (entry.record_id_l, entry.record_id_r)
    if len(records_view(con, who.access, list(ids))) < 2:
        raise HTTPException(404, "no such pair in the review queue")
    if decision not in DECISIONS:
        raise HTTPException(400, f"a decision is one of {', '.join(DECISIONS)}")
    try:
        record(_store(request), Decision(*ids, decision, who.user.username, note))
    except DecisionError as exc:
        raise HTTPException(400, str(exc)) from None
    who.audit(request, "decide", ",".join(ids), decision)
    following, _ = queue_entries(con, who.access, settled_pairs(_store(request)), 1,
                                 after=entry.position)
    target = f"/review/pair/{following[0].pair_id}" if following else "/review"
    return RedirectResponse(target, status_code=303)


@router.get("/review/vega/{name}")
def chart_script(name: str) -> Response:
    """The charting code famlink ships (linkage/assets/vega): the content security policy lets
    pages load scripts from the app only, and the app runs with no internet."""
    if name not in CHART_SCRIPTS:
        raise HTTPException(404, "no such script")
    return FileResponse(ASSETS / name, media_type="text/javascript")
