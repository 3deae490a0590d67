"""The current warehouse version, read-only, for the app's requests.

The stable path `<workdir>/famlink.duckdb` links to the current version; each request gets a
cursor on a read-only connection to the version the link names *now*, so that pages show the
new version as soon as a run is published, and never hold a run up (a published version is
never written). A connection to an earlier version is let go when the link moves on, and
closes once the last request using it ends.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from linkage.warehouse import connect
from linkage.warehouse import cursor as warehouse_cursor


class NoWarehouse(RuntimeError):
    """Nothing published yet at the configured path."""


class Reader:
    def __init__(self, db: Path) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._version: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one request (DuckDB's cursors may run in parallel)."""
        if not self.db.exists():
            raise NoWarehouse(f"{self.db}: no warehouse yet (run `famlink nightly`)")
        version = self.db.resolve()
        with self._lock:
            if version != self._version or self._con is None:
                # the version itself, not the link: DuckDB 1.4 would hand back the
                # database it already has open under the link's name
                self._con = connect(version, read_only=True)
                self._version = version
            return warehouse_cursor(self._con)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
