"""A small SQLite store in the work folder, private to its owner, safe for several processes.

The web app's users, sessions and audit trail sit beside the runs (never inside a warehouse
version, which is read-only once published): SQLite in WAL mode with a busy timeout, so that
requests writing at once wait for each other instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path


def now() -> str:
    return datetime.now().isoformat(sep=" ", timespec="seconds")


@contextmanager
def open_store(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to the store at `path` (created 0600 with `schema` if new); commits when
    the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as con:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(schema)
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
