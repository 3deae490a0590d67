"""`famlink report`: any list (or families table) out of the warehouse as CSV, XLSX, Parquet or
JSON, for staff who work from a spreadsheet or another system; `report all` writes every list
as a sheet of one workbook.

A list's report holds its rows and, after them, the rows this run resolved (status
'resolved', as the last run had them: linkage.marts.history). CSV and XLSX go through the web
app's writers (linkage.marts.lists): flat columns, a nested value as JSON text, dates as dates
in XLSX. Every file is written private to its owner (0600): it names children and parents.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from linkage.marts.build import MARTS
from linkage.marts.history import KEYS
from linkage.marts.lists import write_csv, write_sheets
from linkage.warehouse import cursor, literal, table_exists

FORMATS = ("csv", "xlsx", "parquet", "json")
COPY = {"parquet": "(FORMAT parquet)", "json": "(FORMAT json, ARRAY true)"}
REPORTS = {**{name: f"marts.{name}" for name in MARTS},
           "families": "families.families", "family_members": "families.members",
           "relationships": "families.relationships", "review_queue": "review.queue"}
ALL = "all"  # every list, one sheet each


class ReportError(ValueError):
    """A report that cannot be written, with what to do instead."""


def _query(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The report's rows: a list's, then the rows this run resolved."""
    table = REPORTS[name]
    if not table_exists(con, table):
        raise ReportError(f"{table} is not in the warehouse yet: run `famlink families` "
                          f"(or the nightly flow) first")
    if name in KEYS and table_exists(con, f"{table}_resolved"):
        return f"SELECT * FROM {table} UNION ALL SELECT * FROM {table}_resolved"
    return f"SELECT * FROM {table}"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], Iterator[dict]]:
    rows_of = cursor(con).execute(sql)
    columns = [d[0] for d in rows_of.description]

    def rows() -> Iterator[dict]:
        while batch := rows_of.fetchmany(2048):
            for values in batch:
                yield dict(zip(columns, values, strict=True))
    return columns, rows()


def _private(out: Path, mode: str):  # noqa: ANN202 - a file object
    """`out` opened for writing, readable by its owner only, whatever the umask."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that was there keeps its mode otherwise
    return os.fdopen(fd, mode, **({"newline": "", "encoding": "utf-8"} if "b" not in mode
                                  else {}))


def export(con: duckdb.DuckDBPyConnection, name: str, fmt: str, out: Path) -> int:
    """Write report `name` (or ALL lists, as XLSX) to `out`; return its row count."""
    if fmt not in FORMATS:
        raise ReportError(f"no format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if name != ALL and name not in REPORTS:
        raise ReportError(f"no report {name!r}; choose one of {', '.join(REPORTS)}, or {ALL}")
    if out.suffix.lower() != f".{fmt}":
        raise ReportError(f"--out must end in .{fmt} for --format {fmt} (or give the format "
                          f"its extension names)")
    if name == ALL and fmt != "xlsx":
        raise ReportError(f"report {ALL} writes one workbook, a sheet per list: use "
                          f"--format xlsx")
    names = list(MARTS) if name == ALL else [name]
    queries = {n: _query(con, n) for n in names}  # every table checked before writing
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt in COPY:
        con.execute(f"COPY ({queries[name]}) TO {literal(str(out))} {COPY[fmt]}")
        out.chmod(0o600)
        return con.execute(f"SELECT count(*) FROM ({queries[name]})").fetchall()[0][0]
    if fmt == "csv":
        with _private(out, "w") as fh:
            return write_csv(*_rows(con, queries[name]), fh, new_column=False)
    with _private(out, "wb") as fh:
        return write_sheets(((n, *_rows(con, q)) for n, q in queries.items()), fh,
                            new_column=False)
