"""The DuckDB warehouse: one file, one schema per layer (raw, staged, ...), one writer.

DuckDB lets one process write a file at a time; a second writer fails at once with "Could not
set lock", which `connect` turns into a message that says what to do.
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb

LAYERS = ("raw", "staged")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file open for writing."""


class OutOfMemory(RuntimeError):
    """A step needed more memory than DuckDB was allowed: one line naming the step and the
    setting to change, instead of DuckDB's traceback after minutes of work."""

    def __init__(self, step: str, limit: str) -> None:
        super().__init__(
            f"{step} ran out of memory (DuckDB's limit: {limit}). Raise resources.memory_limit "
            f"in configs/linkage.yaml (`auto` is 80% of this machine's memory), or free memory "
            f"on the machine, and run again; nothing was published")


def use_resources(con: duckdb.DuckDBPyConnection, db: Path, memory_limit: str,
                  temp_directory: str | None) -> None:
    """DuckDB's memory limit for this connection (`auto`: its own default) and where it
    spills: beside the warehouse unless configured."""
    if memory_limit != "auto":
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    spill = Path(temp_directory) if temp_directory else \
        Path(db).absolute().parent / f".{Path(db).name}.spill"
    con.execute(f"SET temp_directory = {literal(str(spill))}")


@contextlib.contextmanager
def out_of_memory_as(step: str, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Turn DuckDB's out-of-memory error inside `step` into OutOfMemory."""
    try:
        yield
    except duckdb.OutOfMemoryException:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        raise OutOfMemory(step, limit) from None


class PublishedVersion(WarehouseBusy):
    """A published warehouse version (read-only on disk): never written again, since readers
    rely on it staying as it was published."""


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at `path` with every layer's schema; or, with
    `read_only`, open an existing one to read: any number of readers share a file, and
    temporary tables still work (a reader's explanations build some)."""
    path = Path(path)
    if not read_only:
        if path.exists() and not path.resolve().stat().st_mode & stat.S_IWUSR:
            raise PublishedVersion(
                f"{path} is a published version (read-only): it is never written again. "
                f"Build a new version with `famlink nightly --workdir {path.parent}`, or "
                f"work on a copy")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"{path} is open in another process (DuckDB allows one writer): close that "
                f"process or use another --db path") from None
        raise
    # DuckDB's own progress bar would write into the CLI's output; famlink reports progress.
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        for layer in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    return con


@contextlib.contextmanager
def bulk_load(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Write large tables without DuckDB's checkpoint vacuum, then checkpoint once.

    At every checkpoint DuckDB merges the part-full row groups that each INSERT leaves behind,
    decompressing and compressing them again. A load that deletes no rows (the ingest drops
    whole tables and writes them anew) gains nothing from it and paid for it twice: at the
    automatic checkpoints along the way and at the final one (at 1M persons, ingest took 11.9 s
    with it and 9.9 s without; see benchmarks/README.md). The setting is DuckDB's, for the
    whole database: famlink has one writer per warehouse, so one bulk load at a time.
    """
    before = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()[0][0]
    con.execute("SET max_vacuum_tasks = 0")
    try:
        yield
        # Everything is committed; a checkpoint refused (another transaction open) comes later.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("CHECKPOINT")
    finally:
        con.execute(f"SET max_vacuum_tasks = {int(before)}")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` ('schema.name', or a schema alone) is in the warehouse: the steps
    run in order, and a later one says which to run first instead of failing in SQL."""
    schema, _, name = table.partition(".")
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND (? = '' OR "
        "table_name = ?)", [schema, name, name]).fetchall()[0][0])


def quote(name: str) -> str:
    """A SQL identifier, safely quoted (source column names come from files and configs)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal, safely quoted."""
    return "'" + value.replace("'", "''") + "'"
