"""What changed on each list since the last run, so that staff work only what is new.

A nightly run starts from a copy of the current published version, so the previous run's lists
and their history are still in the warehouse when the lists are rebuilt. Each list names its
rows by a key (KEYS: what a worker acts on) and each row's actionable content by a hash of the
whole row. marts.list_history keeps, per list and key, when the row was first and last on the
list, its content hash and its status in the latest run:

- new: on the list now and not in the last run (or back after it was resolved);
- changed: on both, its content differs;
- unchanged: on both, the same;
- resolved: on the last run's list, not on this one (kept, with when it was resolved).

Each list gets `first_listed` and `status` columns, and marts.<list>_resolved holds the rows
resolved by this run as they last stood, so that a report can show them.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from linkage.warehouse import literal, quote, table_columns, table_exists

HISTORY = "marts.list_history"
KEYS: dict[str, tuple[str, ...]] = {
    "joint_families": ("family_id",),
    "absent_parent_leads": ("child_person_id", "parent_person_id"),
    "supportive_housing_eligible": ("family_id",),
    "support_in_error": ("cs_case_id",),
}
STATUSES = ("new", "changed", "unchanged", "resolved")


def key_sql(name: str, alias: str | None = None) -> str:
    """SQL naming a row of list `name` across runs."""
    prefix = f"{alias}." if alias else ""
    return "concat_ws('|', " + ", ".join(f"coalesce({prefix}{c}::VARCHAR, '')"
                                         for c in KEYS[name]) + ")"


def _previous(name: str) -> str:
    return f"_previous_{name}"  # a temporary table


def keep_previous(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Before list `name` is rebuilt: keep the last run's rows, for those that leave it.
    Whether there was a last run's list."""
    con.execute(f"DROP TABLE IF EXISTS {_previous(name)}")
    if not table_exists(con, f"marts.{name}"):
        return False
    con.execute(f"CREATE TEMP TABLE {_previous(name)} AS SELECT * FROM marts.{name}")
    return True


def record(con: duckdb.DuckDBPyConnection, name: str, run_at: datetime, kept: bool) -> None:
    """After list `name` is built: carry its history forward to `run_at`, add `first_listed`
    and `status` to it, and write marts.<name>_resolved (`kept`: whether keep_previous kept
    the last run's list)."""
    table, at = f"marts.{name}", f"TIMESTAMP {literal(run_at.isoformat(sep=' '))}"
    columns = list(table_columns(con, table))
    # the row as JSON, spelled out so that either engine can make it (DuckDB's own to_json(t)
    # gives the same text)
    row = "struct_pack(" + ", ".join(f"{quote(c)} := t.{quote(c)}" for c in columns) + ")"
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {HISTORY} (
            list_name VARCHAR, row_key VARCHAR, first_listed TIMESTAMP, last_listed TIMESTAMP,
            status VARCHAR, content_hash VARCHAR, resolved_at TIMESTAMP);
        CREATE OR REPLACE TEMP TABLE _history_now AS
        WITH cur AS (SELECT {key_sql(name, 't')} AS row_key,
                            md5(CAST(to_json({row}) AS VARCHAR)) AS content_hash
                     FROM {table} t),
        prev AS (SELECT * FROM {HISTORY} WHERE list_name = {literal(name)})
        SELECT {literal(name)} AS list_name, row_key,
               CASE WHEN c.row_key IS NULL OR p.status IN ('new', 'changed', 'unchanged')
                    THEN p.first_listed ELSE {at} END AS first_listed,
               CASE WHEN c.row_key IS NULL THEN p.last_listed ELSE {at} END AS last_listed,
               CASE WHEN c.row_key IS NULL THEN 'resolved'
                    WHEN p.row_key IS NULL OR p.status = 'resolved' THEN 'new'
                    WHEN p.content_hash <> c.content_hash THEN 'changed'
                    ELSE 'unchanged' END AS status,
               coalesce(c.content_hash, p.content_hash) AS content_hash,
               CASE WHEN c.row_key IS NOT NULL THEN NULL
                    WHEN p.status = 'resolved' THEN p.resolved_at ELSE {at} END AS resolved_at
        FROM cur c FULL JOIN prev p USING (row_key);
        DELETE FROM {HISTORY} WHERE list_name = {literal(name)};
        INSERT INTO {HISTORY} SELECT * FROM _history_now;
        CREATE OR REPLACE TABLE {table} AS
        SELECT {', '.join(f'l.{quote(c)}' for c in columns)}, h.first_listed, h.status
        FROM (SELECT *, row_number() OVER () AS _n FROM {table}) l
        JOIN _history_now h ON h.row_key = {key_sql(name, 'l')}
        ORDER BY l._n;
        DROP TABLE _history_now""")
    _write_resolved(con, name, at, kept)


def _write_resolved(con: duckdb.DuckDBPyConnection, name: str, at: str, kept: bool) -> None:
    """marts.<name>_resolved: the rows this run resolved as the last run had them, in the
    list's columns (a column the last run's list lacked, or held with another type, empty)."""
    table = f"marts.{name}"
    columns = table_columns(con, table)
    had = table_columns(con, _previous(name)) if kept else {}
    select = ", ".join(
        "'resolved' AS status" if c == "status"
        else f"p.{c}" if had.get(c) == t else f"NULL::{t} AS {c}"
        for c, t in columns.items())
    source = _previous(name) if had else f"(SELECT * FROM {table} LIMIT 0)"
    key = key_sql(name, "p") if had else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TABLE {table}_resolved AS
        SELECT {select} FROM {source} p
        WHERE {key} IN (SELECT row_key FROM {HISTORY} WHERE list_name = {literal(name)}
                        AND status = 'resolved' AND resolved_at = {at})""")
    con.execute(f"DROP TABLE IF EXISTS {_previous(name)}")
