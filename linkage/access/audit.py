"""The audit trail: every view of a person, family, pair or list, every download, every
decision and every login, in `<workdir>/audit.sqlite`.

Append-only: triggers refuse UPDATE and DELETE, so the app (or anyone using the file through
SQLite) cannot rewrite it. It names what was seen by its ids and the search by what kind of
search it was, never by the values searched for: the trail is read by more people than the data.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from linkage.access.store import now, open_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT NOT NULL,
    role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL,
    client TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
-- REPLACE deletes the row it conflicts with without firing the delete trigger: an insert
-- naming a seq already used is refused (a new row's seq is -1 here)
CREATE TRIGGER IF NOT EXISTS audit_no_replace BEFORE INSERT ON audit
WHEN NEW.seq > 0 AND NEW.seq <= (SELECT coalesce(max(seq), 0) FROM audit)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
COLUMNS = ("seq", "at", "username", "role", "action", "target", "detail", "client")


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    username: str
    role: str
    action: str  # login, login_failed, logout, view_pair, decide, search, view_person, ...
    target: str  # what: a pair's record ids, a person id, a list's name
    detail: str  # e.g. the decision, the kind of search, the download's format and rows
    client: str  # the address the request came from


class Audit:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, username: str, role: str, action: str, target: str = "",
               detail: str = "", client: str = "") -> None:
        with open_store(self.path, SCHEMA) as con:
            con.execute("INSERT INTO audit (at, username, role, action, target, detail, client) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [now(), username, role, action, target, detail, client])

    def entries(self, since: str | None = None, limit: int | None = None) -> list[Entry]:
        """Entries at or after `since` (a date or timestamp), newest first."""
        if not self.path.exists():
            return []
        sql = f"SELECT {', '.join(COLUMNS)} FROM audit WHERE at >= ? ORDER BY seq DESC"
        params: list = [since or ""]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with open_store(self.path, SCHEMA) as con:
            return [Entry(*row) for row in con.execute(sql, params).fetchall()]

    def write_csv(self, out: TextIO, since: str | None = None) -> int:
        rows = list(reversed(self.entries(since)))
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows((e.seq, e.at, e.username, e.role, e.action, e.target, e.detail,
                          e.client) for e in rows)
        return len(rows)
