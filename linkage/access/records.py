"""Records as a person may see them: each one's identity, cases and events, filtered by the
viewer's access (linkage.access.settings.Access) before anything is shown or written.

One query per kind for any number of records (a pair, a person's records, a family), so a page
costs a handful of queries whatever it shows. Names are shown as the agency recorded them
(the raw fields), SSNs masked unless the role sees them whole.
"""

from __future__ import annotations

import json

import duckdb

from linkage.access.settings import Access

_IDENTITY = """
    SELECT record_id, system, first_name_raw AS first_name, middle_name_raw AS middle_name,
           last_name_raw AS last_name, suffix_raw AS suffix, dob::VARCHAR AS dob, sex, ssn,
           address_street, city, zip5, first_seen::VARCHAR AS seen
    FROM staged.person_records WHERE record_id IN (SELECT unnest(?::VARCHAR[]))"""
# Memberships by record id, then their groups by group id: two lookups the version's indexes
# answer (linkage.publish.indexes), where a join would read every group.
_MEMBERSHIPS = """
    SELECT record_id, system, group_type, group_id, role, start_date::VARCHAR AS start_date,
           end_date::VARCHAR AS end_date
    FROM staged.memberships WHERE record_id IN (SELECT unnest(?::VARCHAR[]))
    ORDER BY record_id, start_date NULLS LAST"""
_GROUPS = """
    SELECT system, group_type, group_id, attributes::VARCHAR AS attributes
    FROM staged.groups WHERE group_id IN (SELECT unnest(?::VARCHAR[]))"""
_EVENTS = """
    SELECT record_id, system, event_type, group_id, start_date::VARCHAR AS start_date,
           end_date::VARCHAR AS end_date, details::VARCHAR AS details
    FROM staged.events WHERE record_id IN (SELECT unnest(?::VARCHAR[]))
    ORDER BY record_id, start_date NULLS LAST"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, ids: list[str]) -> list[dict]:
    cursor = con.execute(sql, [ids])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _membership(access: Access, row: dict) -> dict | None:
    """A case or household the person is in, as far as the viewer sees it: that it exists
    (cases), when (dates), what kind and in what state (details)."""
    system = row["system"]
    if not access.sees(system, "cases"):
        return None
    kept = {"group_type": row["group_type"], "group_id": row["group_id"], "role": row["role"]}
    if access.sees(system, "dates"):
        kept |= {"start_date": row["start_date"], "end_date": row["end_date"]}
    if access.sees(system, "details") and row["attributes"]:
        kept["details"] = json.loads(row["attributes"])
    return kept


def _event(access: Access, row: dict) -> dict | None:
    """An event (a removal, a placement, a shelter stay, a TANF month, a CS order): that it
    happened and when (dates), what it was (details)."""
    system = row["system"]
    if not access.sees(system, "dates"):
        return None
    kept = {"event_type": row["event_type"], "start_date": row["start_date"],
            "end_date": row["end_date"]}
    if access.sees(system, "cases"):
        kept["group_id"] = row["group_id"]
    if access.sees(system, "details") and row["details"]:
        kept["details"] = json.loads(row["details"])
    return kept


def records_view(con: duckdb.DuckDBPyConnection, access: Access,
                 record_ids: list[str]) -> dict[str, dict]:
    """Each record of `record_ids` that the viewer may know of (its system's `exists`), as
    they may see it: the allowed fields, `memberships` and `events`."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    views: dict[str, dict] = {}
    for row in _rows(con, _IDENTITY, ids):
        if access.sees(row["system"], "exists"):
            views[row["record_id"]] = {**access.record(row), "memberships": [], "events": []}
    memberships = [row for row in _rows(con, _MEMBERSHIPS, ids) if row["record_id"] in views]
    attributes = {(g["system"], g["group_type"], g["group_id"]): g["attributes"]
                  for g in _rows(con, _GROUPS, sorted({m["group_id"] for m in memberships}))}
    for row in memberships:
        row["attributes"] = attributes.get((row["system"], row["group_type"], row["group_id"]))
        if kept := _membership(access, row):
            views[row["record_id"]]["memberships"].append(kept)
    for row in _rows(con, _EVENTS, ids):
        if row["record_id"] in views and (kept := _event(access, row)):
            views[row["record_id"]]["events"].append(kept)
    return views
