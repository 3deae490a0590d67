"""Every run of a work folder and what became of it, in `<workdir>/runs.sqlite`.

SQLite (in WAL mode, with a busy timeout) because a run, `famlink runs` and `famlink publish`
may touch it at once, and a row must never be half written. What a run *is* lives in its
warehouse version; here is only its life: started, finished, its status, the gates it met,
who published a held run and why.

Statuses: `building` (a run under way, or killed: the next run marks it `abandoned`), `failed`
(a step raised; its error, which never holds a record's values), `held` (built, but a gate
failed), `published` (became current), `removed` (its version deleted: superseded beyond
`keep_versions`, or a failed or abandoned run's partial file).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STATUSES = ("building", "failed", "held", "published", "abandoned", "removed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
    version TEXT NOT NULL, pid INTEGER, metrics TEXT, gates TEXT, error TEXT,
    published_at TEXT, published_by TEXT, reason TEXT, base TEXT)"""


def now() -> str:
    return datetime.now().isoformat(sep=" ", timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    started_at: str
    finished_at: str | None
    status: str
    version: str  # file name under <workdir>/versions/
    pid: int | None
    metrics: dict | None
    gates: list[dict] | None
    error: str | None
    published_at: str | None
    published_by: str | None
    reason: str | None
    base: str | None = None  # the run whose version this one started from

    @property
    def failed_gates(self) -> list[dict]:
        return [g for g in self.gates or [] if not g["passed"]]


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        new = not self.path.exists()
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if new:
            self.path.chmod(0o600)
        con.execute("PRAGMA journal_mode = WAL")
        con.execute(_SCHEMA)
        if "base" not in {row[1] for row in con.execute("PRAGMA table_info(runs)")}:
            con.execute("ALTER TABLE runs ADD COLUMN base TEXT")  # a registry from before it
        return con

    def add(self, run_id: str, version: str, pid: int, base: str | None = None) -> None:
        """Register a run under way; `base`: the run whose version it was copied from."""
        with closing(self._connect()) as con:
            con.execute("INSERT INTO runs (run_id, started_at, status, version, pid, base) "
                        "VALUES (?, ?, 'building', ?, ?, ?)", [run_id, now(), version, pid, base])

    def update(self, run_id: str, **fields: object) -> None:
        """Set `fields` of a run (dicts and lists stored as JSON)."""
        if not fields:
            return
        for key, value in fields.items():
            if isinstance(value, dict | list):
                fields[key] = json.dumps(value)
        assignments = ", ".join(f"{key} = ?" for key in fields)
        with closing(self._connect()) as con:
            con.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?",
                        [*fields.values(), run_id])

    def runs(self, status: str | None = None) -> list[RunRecord]:
        """Every run, newest first (in the order they started: ids made within one second, or
        a warehouse adopted with an older date, do not sort by name), or those with
        `status`."""
        if not self.path.exists():
            return []
        where = "" if status is None else "WHERE status = ?"
        with closing(self._connect()) as con:
            rows = con.execute(f"SELECT * FROM runs {where} ORDER BY rowid DESC",
                               [] if status is None else [status]).fetchall()
        return [RunRecord(*row[:6], *(json.loads(v) if v else None for v in row[6:8]),
                          *row[8:]) for row in rows]

    def get(self, run_id: str) -> RunRecord | None:
        return next((r for r in self.runs() if r.run_id == run_id), None)
