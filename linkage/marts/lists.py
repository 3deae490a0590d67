"""The lists (marts) as program staff see them in the web app: each column's value only where
the viewer's access allows it, simple filters by category, what is new since the previous
published version, and the CSV and XLSX files they download.

Access is decided per cell from the system the value comes from: a column holds one system's
field (a CW case id is CW `cases`), or the row says which system (a lead's sighting: `seen_in`),
or a list holds several systems' values (`open_cases`: each element is filtered on its own). A
column the viewer can see for no system is left out of the page and the file; a cell they may
not see on one row is left empty. Nothing here knows about the web: the app, a future command
or a test call it alike.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import duckdb

from linkage.access.settings import SYSTEMS, Access
from linkage.families.settings import load_marts_config
from linkage.marts.history import key_sql
from linkage.publish.workdir import Workdir
from linkage.warehouse import attach, scratch

PAGE_SIZE = 100
HIDDEN = object()  # a cell the viewer may not see


@dataclass(frozen=True)
class Rule:
    """Who may see a column: `visible` (may the viewer see it on some row?) and `cell` (the
    value on one row as the viewer may see it, or HIDDEN)."""

    visible: Callable[[Access], bool]
    cell: Callable[[Access, dict, Any], Any]


def own() -> Rule:
    """famlink's own finding (ids it made, counts, ranks): shown to every viewer of the list."""
    return Rule(lambda a: True, lambda a, row, v: v)


def of(group: str, *systems: str) -> Rule:
    """One or more systems' field: the viewer must see `group` of each."""
    def sees(a: Access) -> bool:
        return all(a.sees(s, group) for s in systems)
    return Rule(sees, lambda a, row, v: v if sees(a) else HIDDEN)


def of_row(group: str, column: str) -> Rule:
    """A field of the system the row names in `column` (a system, or a list of systems: the
    viewer must see `group` of each)."""
    def cell(a: Access, row: dict, v: Any) -> Any:
        named = row.get(column)
        systems = named if isinstance(named, list) else [named] if named else []
        return v if all(a.sees(s, group) for s in systems) else HIDDEN
    return Rule(lambda a: any(a.sees(s, group) for s in SYSTEMS), cell)


def each(group: str, system_of: Callable[[Any], str]) -> Rule:
    """A list of several systems' values: each element kept only if the viewer sees `group`
    of its system."""
    def cell(a: Access, row: dict, v: Any) -> Any:
        return None if v is None else [x for x in v if a.sees(system_of(x), group)]
    return Rule(lambda a: any(a.sees(s, group) for s in SYSTEMS), cell)


def all_of(*rules: Rule) -> Rule:
    """A value drawn from several fields (a row's `why` in words): shown only where each of
    them would be."""
    def cell(a: Access, row: dict, v: Any) -> Any:
        return HIDDEN if any(r.cell(a, row, v) is HIDDEN for r in rules) else v
    return Rule(lambda a: all(r.visible(a) for r in rules), cell)


def _tracked(columns: dict[str, Rule]) -> dict[str, Rule]:
    """A list's columns plus its triage and history: `priority` and `priority_reason` are
    decided by rules over the same evidence as `why` (configs/marts.yaml: a child removed, the case
    goal), so they show only where `why` would; `status` (new, changed) compares a hash of the
    whole row, so it shows only to a viewer who sees every field of it (a row "changed"
    while every visible cell is the same would tell of a hidden change)."""
    evidence = columns.get("why")
    tracked = dict(columns)
    if evidence is not None:
        tracked |= {"priority": evidence, "priority_reason": evidence}

    def status(a: Access, row: dict, v: Any) -> Any:  # each column judged on its own value
        hidden = any(rule.cell(a, row, row.get(name)) is HIDDEN
                     for name, rule in columns.items())
        return HIDDEN if hidden else v

    every = Rule(lambda a: all(rule.visible(a) for rule in columns.values()), status)
    return tracked | {"first_listed": own(), "status": every}


def identity() -> Rule:
    """A person's name or birth date: drawn from any of their records, so shown only to a
    viewer who sees identity in every system."""
    return of("identity", *SYSTEMS)


def fields(rules: dict[str, Rule]) -> Rule:
    """A list of structs (a family's children): each field kept where its rule allows (one
    not in `rules` is famlink's own)."""
    def cell(a: Access, row: dict, v: Any) -> Any:
        if v is None:
            return None
        return [{k: x for k, x in item.items()
                 if k not in rules or rules[k].cell(a, row, x) is not HIDDEN} for item in v]
    return Rule(lambda a: True, cell)


#: a sighting's fields: (group, system or None for the sighting's own system)
_SIGHTING = {"seen_on": ("dates", None), "seen_case_id": ("cases", None),
             "address": ("address", None), "employer": ("details", "cs"),
             "hmis_project": ("details", "hmis"), "hmis_exit": ("dates", "hmis")}


def _sightings(a: Access, row: dict, sightings: Any) -> Any:
    """absent_parent_leads.sightings: each sighting only if the viewer knows of its system's
    records, each field by its system's group."""
    if sightings is None:
        return None
    kept = []
    for s in sightings:
        system = s["seen_in"]
        if not a.sees(system, "exists"):
            continue
        kept.append({k: v for k, v in s.items() if k not in _SIGHTING
                     or a.sees(_SIGHTING[k][1] or system, _SIGHTING[k][0])})
    return kept


def _prefix(text: str) -> str:
    """'cw:000001' -> 'cw', 'hmis_household:HH1' -> 'hmis'."""
    return text.split(":", 1)[0].split("_", 1)[0]


def _members(a: Access, row: dict, members: Any) -> Any:
    """joint_families.members: a person's name and birth date come from any of their records,
    so they show only to a viewer who sees identity in every system; roles ('cw:child') each
    by their system's cases."""
    if members is None:
        return None
    identity = all(a.sees(s, "identity") for s in SYSTEMS)
    kept = []
    for m in members:
        person = {"person_id": m["person_id"]}
        if identity:
            person |= {"name": m["name"], "dob": m["dob"]}
        person["roles"] = [r for r in m["roles"] or [] if a.sees(_prefix(r), "cases")]
        kept.append(person)
    return kept


@dataclass(frozen=True)
class Filter:
    """A filter by category: its values are categories (never a person's), so it may travel
    in a URL. `sql` is a predicate with one parameter; `column` must be visible to offer it."""

    name: str
    label: str
    column: str
    sql: str
    choices: Callable[[Access], list[str]]


def _priorities(name: str) -> Callable[[Access], list[str]]:
    """A list's ranks: one per priority rule of configs/marts.yaml (they cover every row)."""
    return lambda a: [str(p) for p in range(
        1, len(getattr(load_marts_config(), name).priority) + 1)]


def _priority(name: str) -> Filter:
    return Filter("priority", "Priority", "priority", "priority::VARCHAR = ?",
                  _priorities(name))


#: since the last run (linkage.marts.history): a row's status on its list
STATUS = Filter("status", "Since the last run", "status", "status = ?",
                lambda a: ["new", "changed", "unchanged"])


def _systems_seen(a: Access) -> list[str]:
    return [s for s in SYSTEMS if a.sees(s, "exists")]


@dataclass(frozen=True)
class ListSpec:
    name: str
    title: str
    about: str
    columns: dict[str, Rule]
    key: str  # a SQL expression naming a row across runs (what "new" compares)
    order: str
    filters: tuple[Filter, ...] = ()
    name_text: str | None = None  # SQL over the row's names, for a text filter (sent by POST)
    name_rule: Rule = field(default_factory=own)  # who may filter by that text

    @property
    def table(self) -> str:
        return f"marts.{self.name}"


LISTS: dict[str, ListSpec] = {spec.name: spec for spec in (
    ListSpec(
        "joint_families", "Families in two systems or more",
        "Families active in two systems or more, open child-welfare cases first.",
        _tracked({"family_id": own(), "systems": each("exists", str), "n_systems": own(),
         "n_persons": own(), "open_cw_case": of("cases", "cw"),
         "members": Rule(lambda a: True, _members),
         "open_cases": each("cases", _prefix),
         "latest_by_system": each("dates", lambda x: x["system"]),
         "records": each("exists", _prefix),
         "first_seen": of("dates", *SYSTEMS), "last_seen": of("dates", *SYSTEMS),
         "oversized": own()}),
        key=key_sql("joint_families"),
        order="open_cw_case DESC, n_systems DESC, last_seen DESC, family_id",
        filters=(
            Filter("system", "In system", "systems", "list_contains(systems, ?)",
                   _systems_seen),
            Filter("open_cw_case", "Open CW case", "open_cw_case", "open_cw_case = (? = 'yes')",
                   lambda a: ["yes", "no"]),
            STATUS,
        ),
        name_text="(SELECT string_agg(m.name, ' | ') FROM (SELECT unnest(members) AS m))",
        name_rule=of("identity", *SYSTEMS)),
    ListSpec(
        "absent_parent_leads", "Absent parent leads",
        "A child on a CW case whose parent is on none of the child's CW cases: one row per "
        "child and parent, the best sighting of the parent in the other systems first, every "
        "sighting ranked in `sightings`.",
        _tracked({"cw_case_id": of("cases", "cw"), "cw_case_ids": of("cases", "cw"),
         "cw_county_fips": of("cases", "cw"), "family_id": own(),
         "child_person_id": own(), "child_name": identity(), "child_dob": identity(),
         "parent_person_id": own(), "parent_name": identity(), "parent_dob": identity(),
         "relation": of_row("cases", "named_by"), "named_by": each("exists", str),
         "found_in": each("exists", str), "parent_cases": each("cases", _prefix),
         "seen_in": of_row("exists", "seen_in"), "seen_on": of_row("dates", "seen_in"),
         "address": of_row("address", "seen_in"), "employer": of("details", "cs"),
         "hmis_project": of("details", "hmis"), "hmis_exit": of("dates", "hmis"),
         "seen_recently": of_row("dates", "seen_in"), "n_sightings": of_row("exists", "found_in"),
         "sightings": Rule(lambda a: True, _sightings), "link_confidence": own(),
         "cs_names_a_father_cw_calls_alleged": of("cases", "cw", "cs"),
         "why": all_of(of("cases", "cw"), of_row("cases", "named_by"),
                       of_row("dates", "found_in")),
        }),
        key=key_sql("absent_parent_leads"),
        order="priority, cw_case_id, child_person_id, parent_person_id",
        filters=(
            Filter("seen_in", "Best seen in", "seen_in", "seen_in = ?", _systems_seen),
            _priority("absent_parent_leads"), STATUS,
        ),
        name_text="concat_ws(' | ', child_name, parent_name)", name_rule=identity()),
    ListSpec(
        "supportive_housing_eligible", "Supportive housing eligible",
        "Families with an open CW case and literal homelessness in HMIS overlapping it, one "
        "row per family, most urgent first.",
        _tracked({
         "family_id": own(), "cw_case_id": of("cases", "cw"), "cw_case_ids": of("cases", "cw"),
         "cw_county_fips": of("cases", "cw"), "cw_case_opened": of("dates", "cw"),
         "case_plan_goal": of("details", "cw"), "parent_name": identity(),
         "parent_dob": identity(), "parent_role": of("cases", "cw"),
         "children": fields({"name": identity(), "dob": identity(),
                             "removed": of("dates", "cw")}),
         "child_removed": of("dates", "cw"), "hmis_household_id": of("cases", "hmis"),
         "hmis_households": of("cases", "hmis"), "hmis_project": of("details", "hmis"),
         "hmis_organization": of("details", "hmis"), "entry_date": of("dates", "hmis"),
         "exit_date": of("dates", "hmis"), "project_type": of("details", "hmis"),
         "living_situation": of("details", "hmis"), "stays": of("dates", "hmis"),
         "homeless_now": of("dates", "hmis"),
         "why": all_of(of("cases", "cw"), of("details", "cw", "hmis"),
                       of("dates", "cw", "hmis")),
        }),
        key=key_sql("supportive_housing_eligible"),
        order="priority, cw_case_opened, cw_case_id",
        filters=(_priority("supportive_housing_eligible"), STATUS),
        name_text="concat_ws(' | ', parent_name, "
                  "(SELECT string_agg(c.name, ' | ') FROM (SELECT unnest(children) AS c)))",
        name_rule=identity()),
    ListSpec(
        "support_in_error", "Child support in error",
        "Support paid to a custodial parent while her child is in foster care: one row per "
        "CS order.",
        _tracked({"cs_case_id": of("cases", "cs"), "cs_case_opened": of("dates", "cs"),
         "custodial_person_id": own(), "custodial_name": identity(),
         "custodial_dob": identity(), "payer_name": identity(), "payer_dob": identity(),
         "child_name": identity(), "child_dob": identity(), "cw_case_id": of("cases", "cw"),
         "cw_county_fips": of("cases", "cw"), "cw_removal_id": of("details", "cw"),
         "removal_date": of("dates", "cw"), "removal_reason": of("details", "cw"),
         "children_in_care": of("dates", "cw"),
         "children": fields({"name": identity(), "dob": identity(),
                             "cw_case_id": of("cases", "cw"),
                             "cw_removal_id": of("details", "cw"),
                             "removal_date": of("dates", "cw"),
                             "removal_reason": of("details", "cw")}),
         "why": all_of(of("cases", "cs", "cw"), of("dates", "cw"), of("details", "cw")),
        }),
        key=key_sql("support_in_error"),
        order="priority, removal_date, cs_case_id",
        filters=(_priority("support_in_error"), STATUS),
        name_text="concat_ws(' | ', custodial_name, payer_name, "
                  "(SELECT string_agg(c.name, ' | ') FROM (SELECT unnest(children) AS c)))",
        name_rule=identity()),
)}


class ListError(ValueError):
    """An unknown list or filter value (the message names only categories)."""


def spec_of(name: str) -> ListSpec:
    if name not in LISTS:
        raise ListError(f"no list {name!r}")
    return LISTS[name]


def visible_columns(spec: ListSpec, access: Access) -> list[str]:
    return [c for c, rule in spec.columns.items() if rule.visible(access)]


def offered_filters(spec: ListSpec, access: Access) -> list[tuple[Filter, list[str]]]:
    """The filters the viewer may use (on columns they may see) with their choices."""
    return [(f, f.choices(access)) for f in spec.filters
            if spec.columns[f.column].visible(access)]


# ---------------------------------------------------------------------------------------------
# What is new since the previous published version
# ---------------------------------------------------------------------------------------------

def previous_version(db: Path) -> tuple[str, Path] | None:
    """The published version before the current one, if its file is still kept (the work
    folder keeps the newest `keep_versions`): (run id, path)."""
    workdir = Workdir(Path(db).absolute().parent)
    current = workdir.current_run()
    if current is None:
        return None
    runs = [r.run_id for r in workdir.registry.runs("published")]
    if current not in runs:
        return None
    for run_id in runs[runs.index(current) + 1:]:
        if workdir.version_path(run_id).exists():
            return run_id, workdir.version_path(run_id)
    return None


@lru_cache(maxsize=32)
def _new_keys(current: Path, previous: Path, name: str) -> tuple[frozenset[str], int]:
    """Keys of `name` in `current` that `previous` lacks, and how many rows left. Versions
    are never written once published, so the answer for a pair of files never changes."""
    spec = spec_of(name)
    with scratch() as con:
        attach(con, current, "cur")  # with the key, when the versions are encrypted
        attach(con, previous, "prev")
        had = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'prev' "
                          "AND schema_name = 'marts' AND table_name = ?", [name]).fetchall()
        before = f"SELECT {spec.key} FROM prev.{spec.table}" if had[0][0] else \
            "SELECT NULL::VARCHAR WHERE false"
        new = con.execute(f"SELECT {spec.key} FROM cur.{spec.table} EXCEPT {before}").fetchall()
        gone = con.execute(f"SELECT count(*) FROM ({before} EXCEPT "
                           f"SELECT {spec.key} FROM cur.{spec.table})").fetchall()[0][0]
    return frozenset(row[0] for row in new), gone


@dataclass(frozen=True)
class Changes:
    """What is new in a list since the previous published run (None: nothing to compare)."""

    previous_run: str | None
    new: frozenset[str]
    gone: int


def changes(db: Path, name: str) -> Changes:
    """`name`'s changes between the current version behind `db` and the one before it."""
    previous = previous_version(db)
    if previous is None:
        return Changes(None, frozenset(), 0)
    new, gone = _new_keys(Path(db).resolve(), previous[1].resolve(), name)
    return Changes(previous[0], new, gone)


# ---------------------------------------------------------------------------------------------
# Rows, as the viewer may see them
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """A list's filters: category values (checked against the choices offered) and an
    optional text in a name (sent by POST only)."""

    categories: dict[str, str] = field(default_factory=dict)
    name_text: str | None = None
    only_new: bool = False


def _where(spec: ListSpec, access: Access, query: Query,
           change: Changes) -> tuple[str, list]:
    offered = {f.name: (f, choices) for f, choices in offered_filters(spec, access)}
    clauses, params = ["true"], []
    for name, value in query.categories.items():
        if not value:
            continue
        if name not in offered or value not in offered[name][1]:
            raise ListError(f"no filter {name!r} with that value on {spec.name}")
        clauses.append(offered[name][0].sql)
        params.append(value)
    if query.name_text and spec.name_text and spec.name_rule.visible(access):
        clauses.append(f"{spec.name_text} ILIKE '%' || ? || '%' ESCAPE '\\'")
        params.append(query.name_text.upper().replace("\\", "\\\\").replace("%", "\\%")
                      .replace("_", "\\_"))
    if query.only_new:
        clauses.append(f"{spec.key} IN (SELECT unnest(?::VARCHAR[]))")
        params.append(sorted(change.new))
    return " AND ".join(clauses), params


def fetch(con: duckdb.DuckDBPyConnection, access: Access, spec: ListSpec, query: Query,
          change: Changes, page: int | None = None) -> tuple[list[str], Iterator[dict], int]:
    """The visible columns, the rows as the viewer may see them (a page of them, or all with
    page=None), and how many rows the filters keep. Each row carries `_new`."""
    columns = visible_columns(spec, access)
    where, params = _where(spec, access, query, change)
    total = con.execute(f"SELECT count(*) FROM {spec.table} WHERE {where}",
                        params).fetchall()[0][0]
    limit = "" if page is None else f"LIMIT {PAGE_SIZE} OFFSET {PAGE_SIZE * max(page, 0)}"
    cursor = con.execute(f"SELECT *, {spec.key} AS _key FROM {spec.table} WHERE {where} "
                         f"ORDER BY {spec.order} {limit}", params)
    names = [d[0] for d in cursor.description]

    def rows() -> Iterator[dict]:
        while batch := cursor.fetchmany(2048):
            for values in batch:
                raw = dict(zip(names, values, strict=True))
                shown = {"_new": change.previous_run is not None and raw["_key"] in change.new}
                for column in columns:
                    shown[column] = spec.columns[column].cell(access, raw, raw[column])
                yield shown
    return columns, rows(), total


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def _flat(value: Any) -> Any:
    """A cell of a file: nested values (lists, structs) as JSON text, a hidden one empty."""
    if value is HIDDEN or value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def _inert(value: Any) -> Any:
    """A text a spreadsheet would take for a formula ('=HYPERLINK(...)' in a record id from
    an agency file) starts with an apostrophe in a CSV, so that it stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _header(columns: list[str], new_column: bool) -> list[str]:
    return ["new", *columns] if new_column else columns


def _values(row: dict, columns: list[str], new_column: bool) -> list[Any]:
    """A row's cells: the web page's "new" mark first where it has one."""
    values = [_flat(row[c]) for c in columns]
    return [("yes" if row["_new"] else None), *values] if new_column else values


def write_csv(columns: list[str], rows: Iterable[dict], out: IO[str],
              new_column: bool = True) -> int:
    """Flat columns: a nested value as JSON text, a formula-like text made inert."""
    writer = csv.writer(out)
    writer.writerow(_header(columns, new_column))
    n = 0
    for row in rows:
        writer.writerow([_inert(v) for v in _values(row, columns, new_column)])
        n += 1
    return n


def write_xlsx(columns: list[str], rows: Iterable[dict], out: IO[bytes],
               title: str, new_column: bool = True) -> int:
    """One sheet (write_sheets)."""
    return write_sheets([(title, columns, rows)], out, new_column)


def write_sheets(sheets: Iterable[tuple[str, list[str], Iterable[dict]]], out: IO[bytes],
                 new_column: bool = True) -> int:
    """A workbook of one sheet per (title, columns, rows): each header frozen, dates as dates,
    every text stored as text (never a formula), a nested value as JSON text. Returns the
    rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    n = 0
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.freeze_panes = "A2"

        def cell(value: Any, sheet=sheet) -> Any:  # noqa: ANN001 - the sheet being written
            if isinstance(value, str):
                c = WriteOnlyCell(sheet, value=None)
                c.value, c.data_type = value, "s"  # a '=' text would otherwise be a formula
                return c
            if isinstance(value, date) and not isinstance(value, datetime):
                c = WriteOnlyCell(sheet, value=value)
                c.number_format = "yyyy-mm-dd"
                return c
            return value

        sheet.append([cell(h) for h in _header(columns, new_column)])
        for row in rows:
            sheet.append([cell(v) for v in _values(row, columns, new_column)])
            n += 1
    book.save(out)
    return n
