"""Reviewer decisions: an append-only store that no rebuild of the warehouse can erase.

Decisions live in their own SQLite file beside the warehouse, never inside it: dropping or
replacing a warehouse version leaves them whole, and recording one never takes the
warehouse's lock (DuckDB allows one writer; SQLite in WAL mode lets liaisons record while a
run reads). Each decision (who, when, which pair, match / no_match / unsure, why) is one row
with an ever-growing `seq`; triggers refuse UPDATE and DELETE, so a change of mind is a new
row. The latest decision on a pair wins: the next run turns "match" into a must-link and
"no_match" into a cannot-link; "unsure" keeps the pair in the review queue with its note.

A run reads the decisions as they were when it started: it takes `latest_seq` first and loads
with `as_of`, so a decision recorded while it runs waits for the next run.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

import duckdb
import numpy as np

from linkage.warehouse import quote

DECISIONS = ("match", "no_match", "unsure")
COLUMNS = ("record_id_l", "record_id_r", "decision", "reviewer", "note", "at")
# The JSON-lines log earlier versions appended to: the store's own name with this suffix
# (review_decisions.jsonl beside review_decisions.sqlite), imported once.
LEGACY_SUFFIX = ".jsonl"
STORE_SUFFIX = ".sqlite"
# How long a writer waits for another's transaction before giving up (milliseconds).
BUSY_TIMEOUT_MS = 60_000


class DecisionError(ValueError):
    """A decision that cannot be recorded, with what to fix."""


@dataclass(frozen=True)
class Decision:
    record_id_l: str
    record_id_r: str
    decision: str
    reviewer: str
    note: str = ""
    at: str = ""


def decisions_path(db: Path, configured: str) -> Path:
    """The store's file: `configured` as is when absolute, else beside the warehouse file.
    The warehouse path is made absolute but not resolved, so that a stable path linking to
    the current warehouse version keeps the store beside the runs, not inside a version. A
    config still naming the old JSON-lines log gets the store of the same name."""
    path = Path(configured)
    if path.suffix == LEGACY_SUFFIX:
        path = path.with_suffix(STORE_SUFFIX)
    return path if path.is_absolute() else Path(os.path.abspath(db)).parent / path


def normalize_decision(value: str | None) -> str:
    """A decision as typed in a spreadsheet ("No match", " MATCH") -> its recorded form."""
    return (value or "").strip().lower().replace(" ", "_")


# ---------------------------------------------------------------------------------------------
# the store's SQL


def _schema_sql() -> list[str]:
    """The table and its guards, one statement each (sqlite3 runs a script only outside a
    transaction). The CHECKs repeat `checked`'s rules so that no writer, famlink or not, can
    store a decision famlink would refuse; the triggers make the table append-only."""
    allowed = ", ".join(f"'{d}'" for d in DECISIONS)
    refuse = ("SELECT RAISE(ABORT, 'review decisions are append-only: record a new decision "
              "instead');")
    return [f"""
        CREATE TABLE IF NOT EXISTS decisions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            record_id_l TEXT NOT NULL,
            record_id_r TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ({allowed})),
            reviewer TEXT NOT NULL CHECK (reviewer <> ''),
            note TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            CHECK (record_id_l < record_id_r))""",
        "CREATE INDEX IF NOT EXISTS decisions_pair ON decisions (record_id_l, record_id_r, seq)",
        f"CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions "
        f"BEGIN {refuse} END",
        f"CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions "
        f"BEGIN {refuse} END",
        # REPLACE deletes the row it conflicts with without firing the delete trigger: an
        # insert naming a seq already used is refused (a new row's seq is -1 here)
        f"CREATE TRIGGER IF NOT EXISTS decisions_no_replace BEFORE INSERT ON decisions "
        f"WHEN NEW.seq > 0 AND NEW.seq <= (SELECT coalesce(max(seq), 0) FROM decisions) "
        f"BEGIN {refuse} END",
        # legacy logs already imported, by file name: each is imported once
        "CREATE TABLE IF NOT EXISTS imported (source TEXT PRIMARY KEY, decisions INTEGER, "
        "at TEXT NOT NULL)"]


def _insert_sql() -> str:
    return (f"INSERT INTO decisions ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})")


def _select_sql(latest: bool, as_of: int | None) -> tuple[str, list]:
    """Decisions in the order they were recorded; with `latest`, the last one on each pair.
    `as_of` (a seq) keeps those recorded by then, before choosing."""
    where, params = ["1 = 1"], []
    if as_of is not None:
        where.append("seq <= ?")
        params.append(as_of)
    kept = " AND ".join(where)
    last = (f" AND seq IN (SELECT max(seq) FROM decisions WHERE {kept} "
            f"GROUP BY record_id_l, record_id_r)") if latest else ""
    return (f"SELECT seq, {', '.join(COLUMNS)} FROM decisions WHERE {kept}{last} ORDER BY seq",
            params + (params if latest else []))


# ---------------------------------------------------------------------------------------------
# opening


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite opens it: decisions name records and carry
    reviewers' notes. SQLite gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


@contextlib.contextmanager
def _immediate(con: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at its start so that concurrent writers queue on the busy
    timeout instead of failing halfway; rolled back whole on any error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _use_wal(con: sqlite3.Connection) -> None:
    """Put the store in WAL mode. Switching needs the file to itself, and SQLite refuses at
    once (no busy wait) while another process is opening the same new store: two liaisons
    recording their first decisions together. Retried until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                # a store that cannot be WAL at all answers with its own mode, no error
                con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextlib.contextmanager
def open_store(path: Path) -> Iterator[sqlite3.Connection]:
    """The store at `path`, created (private, WAL) with its schema if needed, and the legacy
    JSON-lines log beside it imported if it has not been yet."""
    _create_private(path)
    # timeout: SQLite's busy_timeout, so that a writer waits for another instead of failing
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        _use_wal(con)
        con.execute("PRAGMA synchronous = FULL")  # a recorded decision survives a power cut
        with _immediate(con):
            for statement in _schema_sql():
                con.execute(statement)
            _import_legacy(con, path.with_suffix(LEGACY_SUFFIX))
        yield con
    finally:
        con.close()


def store_exists(path: Path) -> bool:
    """Whether there is anything to read: the store, or a legacy log it would import."""
    return path.exists() or path.with_suffix(LEGACY_SUFFIX).exists()


# ---------------------------------------------------------------------------------------------
# recording


def _timestamp(value: str = "") -> str:
    """`value` (or now) as the store writes every timestamp, so that they compare as text."""
    try:
        moment = datetime.fromisoformat(value) if value else datetime.now()
    except ValueError:
        raise DecisionError(f"{value!r} is not a timestamp (YYYY-MM-DD HH:MM:SS)") from None
    return moment.isoformat(sep=" ", timespec="seconds")


def checked(decision: Decision) -> Decision:
    """The decision as the store keeps it (the pair's ids sorted, the time set), or why it
    cannot be kept."""
    if decision.decision not in DECISIONS:
        raise DecisionError(f"decision must be one of {', '.join(DECISIONS)}, "
                            f"not {decision.decision!r}")
    if not decision.reviewer.strip():
        raise DecisionError("a decision needs the reviewer's name (--by)")
    if not decision.record_id_l or not decision.record_id_r:
        raise DecisionError("a decision needs two record ids")
    if decision.record_id_l == decision.record_id_r:
        raise DecisionError(f"a pair needs two different records, not {decision.record_id_l}")
    left, right = sorted((decision.record_id_l, decision.record_id_r))
    return Decision(left, right, decision.decision, decision.reviewer.strip(),
                    decision.note.strip(), _timestamp(decision.at))


def _row(decision: Decision) -> tuple[str, ...]:
    return tuple(getattr(decision, column) for column in COLUMNS)


def record_many(path: Path, decisions: Iterable[Decision]) -> list[Decision]:
    """Append decisions in one transaction: all of them, in order, or (on any error) none."""
    kept = [checked(d) for d in decisions]
    with open_store(path) as con, _immediate(con):
        con.executemany(_insert_sql(), [_row(d) for d in kept])
    return kept


def record(path: Path, decision: Decision) -> Decision:
    """Append one decision; it is durable when this returns."""
    return record_many(path, [decision])[0]


def _legacy_decisions(path: Path) -> list[Decision]:
    """The decisions of an earlier version's JSON-lines log, in file order. A line that is not
    a decision stops the import (nothing is imported), naming the line and the reason."""
    kept = []
    with open(path, encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                fields = json.loads(text)
                kept.append(checked(Decision(**{c: str(fields.get(c) or "") for c in COLUMNS})))
            except (ValueError, AttributeError) as exc:
                reason = str(exc) if isinstance(exc, DecisionError) else type(exc).__name__
                raise DecisionError(f"{path}: line {line}: not a decision ({reason}); fix or "
                                    f"remove the line and retry: nothing was imported") from None
    return kept


def _import_legacy(con: sqlite3.Connection, legacy: Path) -> None:
    """Import the legacy log once (inside the caller's transaction): its name is kept in
    `imported`, so a second open, or a second process, skips it."""
    if not legacy.exists() or con.execute("SELECT 1 FROM imported WHERE source = ?",
                                           [legacy.name]).fetchone():
        return
    rows = [_row(d) for d in _legacy_decisions(legacy)]
    con.executemany(_insert_sql(), rows)
    con.execute("INSERT INTO imported VALUES (?, ?, ?)", [legacy.name, len(rows), _timestamp()])


def missing_records(warehouse: duckdb.DuckDBPyConnection, record_ids: Iterable[str]) -> set[str]:
    """The ids among `record_ids` that name no record in staged.person_records."""
    wanted = sorted(set(record_ids))
    found = warehouse.execute(
        "SELECT record_id FROM staged.person_records "
        "WHERE record_id IN (SELECT unnest(?::VARCHAR[]))", [wanted]).fetchall()
    return set(wanted) - {row[0] for row in found}


def require_records(warehouse: duckdb.DuckDBPyConnection, record_ids: Iterable[str]) -> None:
    """Refuse a decision that names a record the warehouse does not hold (a typo would
    otherwise be stored and counted as applied)."""
    missing = missing_records(warehouse, record_ids)
    if missing:
        raise DecisionError(f"no record {', '.join(sorted(missing))} in the warehouse "
                            f"(staged.person_records): nothing recorded")


def import_csv(path: Path, source: Path,
               warehouse: duckdb.DuckDBPyConnection | None = None) -> list[Decision]:
    """Append the decisions of a spreadsheet (columns record_id_l, record_id_r, decision,
    reviewer, and optionally note). Every row is checked first, and with a `warehouse` every
    record id must name a staged record; one bad row records nothing and the error names its
    line and field."""
    problems: list[str] = []
    rows: list[tuple[int, Decision]] = []
    with open(source, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        needed = {"record_id_l", "record_id_r", "decision", "reviewer"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise DecisionError(f"{source}: no column {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            decision = normalize_decision(row["decision"])
            for field in ("record_id_l", "record_id_r", "reviewer"):
                if not (row[field] or "").strip():
                    problems.append(f"{source}: line {line}: {field} is empty")
            if decision not in DECISIONS:
                problems.append(f"{source}: line {line}: decision {row['decision']!r} is not "
                                f"one of {', '.join(DECISIONS)}")
            rows.append((line, Decision((row["record_id_l"] or "").strip(),
                                        (row["record_id_r"] or "").strip(), decision,
                                        (row["reviewer"] or "").strip(),
                                        (row.get("note") or "").strip())))
    if warehouse is not None:
        problems += _unknown_in_sheet(source, rows, warehouse)
    if problems:
        raise DecisionError("\n".join(problems))
    return record_many(path, [d for _, d in rows])


def _unknown_in_sheet(source: Path, rows: list[tuple[int, Decision]],
                      warehouse: duckdb.DuckDBPyConnection) -> list[str]:
    """A problem line for each record id of the sheet that names no staged record."""
    unknown = missing_records(warehouse, [r for _, d in rows
                                          for r in (d.record_id_l, d.record_id_r) if r])
    return [f"{source}: line {line}: {field} {value!r} is not a record in the warehouse"
            for line, d in rows for field, value in (("record_id_l", d.record_id_l),
                                                     ("record_id_r", d.record_id_r))
            if value in unknown]


# ---------------------------------------------------------------------------------------------
# reading


def latest_seq(path: Path) -> int:
    """The seq of the last decision recorded (0 if none): a run takes it when it starts and
    loads `as_of` it, so that it applies the decisions as they were then."""
    if not store_exists(path):
        return 0
    with open_store(path) as con:
        return con.execute("SELECT coalesce(max(seq), 0) FROM decisions").fetchone()[0]


def read_decisions(path: Path, latest: bool = False,
                   as_of: int | None = None) -> list[tuple]:
    """Rows (seq, record_id_l, record_id_r, decision, reviewer, note, at) in the order they
    were recorded: all of them, or with `latest` the last on each pair; `as_of` (a seq) keeps
    only those recorded by then."""
    if not store_exists(path):
        return []
    sql, params = _select_sql(latest, as_of)
    with open_store(path) as con:
        return con.execute(sql, params).fetchall()


def write_csv(path: Path, out: TextIO, latest: bool = False) -> int:
    """The decisions as CSV (`famlink review decisions`): seq, when, who, which pair, what and
    why, in the order they were recorded; with `latest`, the last on each pair. Returns how
    many rows were written."""
    rows = read_decisions(path, latest=latest)
    writer = csv.writer(out)
    writer.writerow(("seq", "at", "reviewer", "record_id_l", "record_id_r", "decision", "note"))
    writer.writerows((seq, at, reviewer, left, right, decision, note)
                     for seq, left, right, decision, reviewer, note, at in rows)
    return len(rows)


def history(path: Path, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                   list[Decision]]:
    """The decisions on each of `pairs` (sorted record ids), oldest first: what a reviewer
    sees again of a pair left unsure."""
    if not store_exists(path):
        return {}
    found: dict[tuple[str, str], list[Decision]] = {}
    with open_store(path) as con:
        for pair in pairs:
            rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM decisions "
                               f"WHERE record_id_l = ? AND record_id_r = ? ORDER BY seq",
                               list(pair)).fetchall()
            if rows:
                found[pair] = [Decision(*row) for row in rows]
    return found


def load_latest(con: duckdb.DuckDBPyConnection, path: Path, table: str = "_decisions",
                as_of: int | None = None) -> int:
    """Create temp `table` (record_id_l, record_id_r, decision, reviewer, note, at): the latest
    decision on each pair. Returns how many pairs have one. `as_of` (a seq from `latest_seq`)
    keeps the decisions recorded before a run started. DuckDB cannot read SQLite here, so the
    rows travel as NumPy columns (Arrow would import pandas: half a second of a run)."""
    rows = read_decisions(path, latest=True, as_of=as_of)
    con.register("_decision_rows", {column: np.array([row[i + 1] for row in rows], object)
                                    for i, column in enumerate(COLUMNS)})
    columns = ", ".join(f"{quote(column)}::VARCHAR AS {quote(column)}" for column in COLUMNS)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                    f"SELECT {columns} FROM _decision_rows")
    finally:
        con.unregister("_decision_rows")
    return len(rows)
