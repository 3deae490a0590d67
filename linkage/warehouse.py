"""The DuckDB warehouse: one file, one schema per layer (raw, staged, ...), one writer.

DuckDB lets one process write a file at a time; a second writer fails at once with "Could not
set lock", which `connect` turns into a message that says what to do.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

LAYERS = ("raw", "staged")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file open for writing."""


def connect(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at `path` with every layer's schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"{path} is open in another process (DuckDB allows one writer): close that "
                f"process or use another --db path") from None
        raise
    # DuckDB's own progress bar would write into the CLI's output; famlink reports progress.
    con.execute("SET enable_progress_bar = false")
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    return con


def quote(name: str) -> str:
    """A SQL identifier, safely quoted (source column names come from files and configs)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal, safely quoted."""
    return "'" + value.replace("'", "''") + "'"
