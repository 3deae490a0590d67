"""Find a person, a person, a family: what the web app's eFind-like pages show, filtered by the
viewer's access (linkage.access.settings.Access) before anything leaves this module.

A search matches only through fields the viewer may see: a name or birth date only on records
whose `identity` they see, the SSN's last four only where they see `ssn`, a case id only where
they see `cases`, and never on a record whose system's `exists` they lack. Otherwise a search
that finds someone would tell the viewer what they may not be shown (that the SSN they typed is
this person's). Each criterion is an exact match on a standardized column or a prefix of one
(DuckDB scans those at memory speed, with no function over every row), one query for all of
them, then one query for the persons found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import duckdb

from linkage.access.records import records_view
from linkage.access.settings import SYSTEMS, Access
from linkage.standardize.dob import standardize_dob
from linkage.standardize.names import canonical_given, standardize_name, surname_squashed
from linkage.warehouse import literal

LIMIT = 100  # persons a search shows; more means the search should be narrower


class SearchError(ValueError):
    """A search that cannot run as typed (the message never repeats what was typed)."""


@dataclass(frozen=True)
class Search:
    """What was typed into the search form, standardized as the warehouse standardizes."""

    first_name: str | None = None
    last_name: str | None = None
    dob: date | None = None
    ssn4: str | None = None
    case_id: str | None = None

    @classmethod
    def parse(cls, first_name: str = "", last_name: str = "", dob: str = "", ssn4: str = "",
              case_id: str = "") -> Search:
        born = None
        if dob.strip():
            born, _flag = standardize_dob(dob.strip())
            if born is None:
                raise SearchError("the birth date is not a date (use YYYY-MM-DD)")
        ssn4 = ssn4.strip()
        if ssn4 and not re.fullmatch(r"\d{4}", ssn4):
            raise SearchError("the last four of the SSN are four digits")
        search = cls(standardize_name(first_name), standardize_name(last_name), born,
                     ssn4 or None, case_id.strip() or None)
        if not search.kinds:
            raise SearchError("type a name, a birth date, the last four of an SSN or a case id")
        if search.kinds == ["first_name"]:
            raise SearchError("a first name alone finds too many: add a last name, a birth "
                              "date, the last four of an SSN or a case id")
        return search

    @property
    def kinds(self) -> list[str]:
        """Which fields the search uses (what the audit records: never their values)."""
        return [kind for kind in ("first_name", "last_name", "dob", "ssn4", "case_id")
                if getattr(self, kind) is not None]


@dataclass(frozen=True)
class Found:
    person_id: str
    names: list[str]
    births: list[str]
    systems: list[str]


def _systems(access: Access, group: str) -> list[str]:
    """The systems on whose records the viewer may see `group` (and that the record exists)."""
    return [s for s in SYSTEMS if access.sees(s, "exists") and access.sees(s, group)]


def _criteria(search: Search, access: Access) -> list[tuple[str, list]]:
    """One SQL query of record ids per criterion, with its parameters: each a scan of one
    table with plain comparisons DuckDB pushes into the scan (no join, no function per row)."""
    records = "SELECT record_id FROM staged.person_records WHERE system = ANY(?)"
    criteria: list[tuple[str, list]] = []
    if search.first_name or search.last_name:
        sql, params = records, [_systems(access, "identity")]
        if search.last_name:  # a prefix, with its parts run together (GARCIA LOPEZ)
            sql += " AND last_name_squashed LIKE ?"
            params.append((surname_squashed(search.last_name) or search.last_name) + "%")
        if search.first_name:  # a prefix, or the same formal name (BILL finds WILLIAM)
            sql += " AND (first_name LIKE ? OR first_name_canonical = ?)"
            params += [search.first_name + "%", canonical_given(search.first_name)]
        criteria.append((sql, params))
    if search.dob:
        criteria.append((records + " AND dob = ?", [_systems(access, "identity"), search.dob]))
    if search.ssn4:
        criteria.append((records + " AND ssn_last4 = ?", [_systems(access, "ssn"), search.ssn4]))
    if search.case_id:
        criteria.append(("SELECT record_id FROM staged.memberships WHERE system = ANY(?) "
                         "AND group_id = ?", [_systems(access, "cases"), search.case_id]))
    return criteria


# Record ids looked up at once, written into the query as a list of literals: DuckDB answers
# `IN ('a', 'b', ...)` of a hundred ids from the index in under 10 ms at 1M persons, where a
# list passed as a parameter (`IN (SELECT unnest(?))`, `= ANY(?)`) of more than about fifty
# reads the whole table (100 ms).
CHUNK = 100


def _ids_in(ids: list[str] | set[str]) -> str:
    return "(" + ", ".join(literal(i) for i in sorted(ids)) + ")"


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def find_persons(con: duckdb.DuckDBPyConnection, access: Access,
                 search: Search) -> tuple[list[Found], bool]:
    """The persons matching every criterion of `search` (each through some record the viewer
    may see), at most LIMIT, and whether there were more.

    The records each criterion matches come from one scan each; persons are then looked up
    through the version's indexes (linkage.publish.indexes), a hundred records at a time,
    starting with the criterion that matched fewest, and each candidate's other records checked
    against the other criteria, until more than LIMIT persons are found: a common surname
    costs one batch, not a join of thousands of ids against every person.
    """
    hits = sorted(({row[0] for row in con.execute(sql, params).fetchall()}
                   for sql, params in _criteria(search, access)), key=len)
    matched: set[str] = set()
    for chunk in _chunks(sorted(hits[0])):
        persons = {row[0] for row in con.execute(
            f"SELECT DISTINCT person_id FROM linked.persons WHERE record_id IN {_ids_in(chunk)}"
        ).fetchall()}
        if len(hits) > 1 and persons:
            records: dict[str, set[str]] = {}
            for person_id, record_id in con.execute(
                    f"SELECT person_id, record_id FROM linked.persons "
                    f"WHERE person_id IN {_ids_in(persons)}").fetchall():
                records.setdefault(person_id, set()).add(record_id)
            persons = {p for p in persons if all(records[p] & h for h in hits[1:])}
        matched |= persons
        if len(matched) > LIMIT:
            break
    ids = sorted(matched)
    more = len(ids) > LIMIT
    rows = con.execute(f"""
        SELECT p.person_id, r.system, r.first_name_raw, r.middle_name_raw, r.last_name_raw,
               r.dob::VARCHAR
        FROM linked.persons p JOIN staged.person_records r USING (record_id)
        WHERE p.person_id IN {_ids_in(ids[:LIMIT])}""").fetchall() if ids else []
    found: dict[str, dict[str, set[str]]] = {}
    for person_id, system, first, middle, last, dob in rows:
        if not access.sees(system, "exists"):
            continue
        person = found.setdefault(person_id, {"names": set(), "births": set(),
                                              "systems": set()})
        person["systems"].add(system)
        if access.sees(system, "identity"):
            if name := " ".join(part for part in (first, middle, last) if part):
                person["names"].add(name)
            if dob:
                person["births"].add(dob)
    persons = [Found(pid, sorted(v["names"]), sorted(v["births"]), sorted(v["systems"]))
               for pid, v in found.items()]
    persons.sort(key=lambda f: (f.names[0].split()[-1] if f.names else "~", f.names,
                                f.person_id))
    return persons, more


def _name_of(views: list[dict]) -> str | None:
    """A person's name as the viewer may see it: the first record that shows one."""
    for view in views:
        name = " ".join(view[k] for k in ("first_name", "middle_name", "last_name")
                        if view.get(k))
        if name:
            return name
    return None


def person_view(con: duckdb.DuckDBPyConnection, access: Access, person_id: str) -> dict | None:
    """A person's records (as records_view shows them) and families; None if the viewer may
    see none of their records (the page then says no more than an unknown id would)."""
    ids = [row[0] for row in con.execute(
        "SELECT record_id FROM linked.persons WHERE person_id = ?", [person_id]).fetchall()]
    views = records_view(con, access, ids)
    if not views:
        return None
    records = sorted(views.values(), key=lambda v: (v["system"], v["record_id"]))
    families = con.execute("""
        SELECT family_id, list(DISTINCT system ORDER BY system) FROM families.members
        WHERE person_id = ? AND record_id IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY family_id ORDER BY family_id""", [person_id, list(views)]).fetchall()
    return {"person_id": person_id, "name": _name_of(records), "records": records,
            "families": [{"family_id": f, "systems": s} for f, s in families]}


def _system_of_group(group_type: str) -> str:
    """'cw_case' -> 'cw', 'hmis_household' -> 'hmis': the system a group belongs to."""
    return group_type.split("_", 1)[0]


def family_view(con: duckdb.DuckDBPyConnection, access: Access, family_id: str) -> dict | None:
    """A family as the viewer may see it: members (with their roles in the groups whose cases
    the viewer sees), relationships (through those groups only), each system's cases, and one
    timeline of the members' events sorted by date. None if no member record is visible."""
    members = con.execute("""
        SELECT person_id, record_id FROM families.members WHERE family_id = ?
        GROUP BY ALL""", [family_id]).fetchall()
    views = records_view(con, access, [record_id for _, record_id in members])
    if not views:
        return None
    person_of = {record_id: person_id for person_id, record_id in members
                 if record_id in views}
    by_person: dict[str, list[dict]] = {}
    for record_id, person_id in person_of.items():
        by_person.setdefault(person_id, []).append(views[record_id])
    names = {pid: _name_of(records) or pid for pid, records in by_person.items()}

    people, cases, timeline = [], {}, {}
    for person_id, records in sorted(by_person.items(), key=lambda kv: names[kv[0]]):
        births = sorted({r["dob"] for r in records if r.get("dob")})
        roles = []
        for record in records:
            for m in record["memberships"]:
                roles.append(f"{m['role']} ({m['group_type']} {m['group_id']})")
                case = cases.setdefault((record["system"], m["group_type"], m["group_id"]), {
                    "system": record["system"], "group_type": m["group_type"],
                    "group_id": m["group_id"], "start_date": m.get("start_date"),
                    "end_date": m.get("end_date"), "details": m.get("details"),
                    "members": []})
                case["members"].append(f"{names[person_id]}: {m['role']}")
            for e in record["events"]:
                key = (record["system"], e["event_type"], e.get("group_id"), e["start_date"],
                       e["end_date"], json.dumps(e.get("details"), sort_keys=True))
                timeline.setdefault(key, {**e, "system": record["system"], "who": []})
                if names[person_id] not in timeline[key]["who"]:
                    timeline[key]["who"].append(names[person_id])
        people.append({"person_id": person_id, "name": names[person_id], "births": births,
                       "systems": sorted({r["system"] for r in records}),
                       "roles": sorted(set(roles))})

    relationships = []
    for parent, child, relation, systems, groups in con.execute("""
            SELECT parent_person_id, child_person_id, relation, systems, groups
            FROM families.relationships WHERE family_id = ?
            ORDER BY parent_person_id, child_person_id""", [family_id]).fetchall():
        seen = [s for s in systems if access.sees(s, "cases")]
        if not seen or parent not in names or child not in names:
            continue  # known only through groups the viewer may not see
        relationships.append({
            "parent": parent, "parent_name": names[parent], "child": child,
            "child_name": names[child], "relation": relation, "systems": seen,
            "groups": [g for g in groups if access.sees(_system_of_group(g), "cases")]})
    return {
        "family_id": family_id, "members": people, "relationships": relationships,
        "cases": sorted(cases.values(), key=lambda c: (c["system"], c["group_id"])),
        "timeline": sorted(timeline.values(),
                           key=lambda e: (e["start_date"] or "9999", e["system"],
                                          e["event_type"])),
    }
