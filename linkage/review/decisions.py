"""Reviewer decisions: an append-only log that no rebuild of the warehouse can erase.

Each decision is one JSON line (who, when, which pair, match / no_match / unsure, why) in a
file beside the warehouse, never inside it: dropping and rebuilding every schema leaves it
whole. The latest decision on a pair wins; the next run turns "match" into a must-link and
"no_match" into a cannot-link.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from linkage.warehouse import literal

DECISIONS = ("match", "no_match", "unsure")


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
    path = Path(configured)
    return path if path.is_absolute() else Path(db).resolve().parent / path


def normalize_decision(value: str | None) -> str:
    """A decision as typed in a spreadsheet ("No match", " MATCH") -> its recorded form."""
    return (value or "").strip().lower().replace(" ", "_")


def record(path: Path, decision: Decision) -> Decision:
    """Append one decision (the pair's ids in sorted order) and make it durable."""
    if decision.decision not in DECISIONS:
        raise DecisionError(f"decision must be one of {', '.join(DECISIONS)}, "
                            f"not {decision.decision!r}")
    if not decision.reviewer.strip():
        raise DecisionError("a decision needs the reviewer's name (--by)")
    if decision.record_id_l == decision.record_id_r:
        raise DecisionError(f"a pair needs two different records, not {decision.record_id_l}")
    left, right = sorted((decision.record_id_l, decision.record_id_r))
    at = decision.at or datetime.now().isoformat(sep=" ", timespec="seconds")
    kept = Decision(left, right, decision.decision, decision.reviewer.strip(), decision.note, at)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(kept), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return kept


def import_csv(path: Path, source: Path, known: set[str] | None = None) -> list[Decision]:
    """Append the decisions of a spreadsheet (columns record_id_l, record_id_r, decision, reviewer,
    and optionally note). Every row is checked first; one bad row records nothing and the
    error names its line and field."""
    problems: list[str] = []
    rows: list[Decision] = []
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
            for field in ("record_id_l", "record_id_r"):
                value = (row[field] or "").strip()
                if known is not None and value and value not in known:
                    problems.append(f"{source}: line {line}: {field} {value!r} is not a record "
                                    f"in the warehouse")
            rows.append(Decision((row["record_id_l"] or "").strip(),
                                 (row["record_id_r"] or "").strip(), decision,
                                 (row["reviewer"] or "").strip(), (row.get("note") or "").strip()))
    if problems:
        raise DecisionError("\n".join(problems))
    return [record(path, row) for row in rows]


def load_latest(con: duckdb.DuckDBPyConnection, path: Path, table: str = "_decisions",
                until: str | None = None) -> int:
    """Create temp `table` (record_id_l, record_id_r, decision, reviewer, note, at): the latest
    decision on each pair. Returns how many pairs have one. `until` (a timestamp) keeps only
    decisions recorded by then: what a link run that started at that time applied."""
    columns = ("record_id_l VARCHAR, record_id_r VARCHAR, decision VARCHAR, reviewer VARCHAR, "
               "note VARCHAR, \"at\" VARCHAR")
    by_then = "" if until is None else \
        f"WHERE try_cast(\"at\" AS TIMESTAMP) <= {literal(until)}::TIMESTAMP"
    if path.exists() and path.stat().st_size:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT * EXCLUDE (seq) FROM (
                SELECT *, row_number() OVER () AS seq  -- file order: the last line wins
                FROM read_json({literal(str(path))}, format='newline_delimited',
                    columns={{'record_id_l': 'VARCHAR', 'record_id_r': 'VARCHAR',
                              'decision': 'VARCHAR', 'reviewer': 'VARCHAR', 'note': 'VARCHAR',
                              'at': 'VARCHAR'}}))
            {by_then}
            QUALIFY row_number() OVER (PARTITION BY record_id_l, record_id_r
                                       ORDER BY seq DESC) = 1""")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({columns})")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
