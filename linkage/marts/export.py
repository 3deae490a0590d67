"""`famlink report`: any mart (or families table) out of the warehouse as CSV, Parquet or JSON,
for staff who work from a spreadsheet or another system."""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.marts.build import MARTS
from linkage.warehouse import literal, table_exists

FORMATS = {"csv": "(FORMAT csv, HEADER true)", "parquet": "(FORMAT parquet)",
           "json": "(FORMAT json, ARRAY true)"}
REPORTS = {**{name: f"marts.{name}" for name in MARTS},
           "families": "families.families", "family_members": "families.members",
           "relationships": "families.relationships", "review_queue": "review.queue"}


class ReportError(ValueError):
    """A report that cannot be written, with what to do instead."""


def export(con: duckdb.DuckDBPyConnection, name: str, fmt: str, out: Path) -> int:
    """Write report `name` to `out`; return its row count."""
    if name not in REPORTS:
        raise ReportError(f"no report {name!r}; choose one of {', '.join(REPORTS)}")
    if fmt not in FORMATS:
        raise ReportError(f"no format {fmt!r}; choose one of {', '.join(FORMATS)}")
    table = REPORTS[name]
    if not table_exists(con, table):
        raise ReportError(f"{table} is not in the warehouse yet: run `famlink families` "
                          f"(or the nightly flow) first")
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM {table}) TO {literal(str(out))} {FORMATS[fmt]}")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
