"""What every reader hands on: the files it loaded, where their valid rows are, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from linkage.ingest.reading import FileInfo
from linkage.warehouse import literal

Progress = Callable[[str], None]


class IngestError(RuntimeError):
    """An extract that cannot be read at all (missing file, unreadable folder)."""


@dataclass
class LoadedFile:
    """One file in raw, with the relation of its rows that passed every check."""

    source: str
    system: str
    table: str
    info: FileInfo
    raw: str  # raw.<name>
    valid: str  # a view over raw without rejected lines
    label: str
    format: str
    version: str = ""
    warnings: list[str] = field(default_factory=list)
    # a WHERE clause keeping the raw lines that are records: empty (all of them) for most
    # files; a TANF report leaves out its HEADER and TRAILER
    records: str = ""
    # the mapped columns its valid rows must have (not marked optional): one missing fails the
    # ingest once every file is in (`run.account`)
    expected_columns: list[str] = field(default_factory=list)
    # why no row of the file can be staged (a required column missing), worded for the file
    problem: str | None = None


def without_rejects(con: duckdb.DuckDBPyConnection, label: str) -> str:
    """A WHERE clause leaving out the file's rejected lines (none, in the usual case)."""
    rejected = con.execute("SELECT count(*) FROM staged.rejects WHERE file = ? AND line IS NOT "
                           "NULL", [label]).fetchall()[0][0]
    if not rejected:
        return ""
    return (f"WHERE _line NOT IN (SELECT line FROM staged.rejects WHERE file = {literal(label)} "
            f"AND line IS NOT NULL)")
