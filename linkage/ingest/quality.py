"""`staged.quality`: per file and column, the values that were there but did not survive into
`staged`: dates no format reads, placeholder or impossible birth dates and SSNs, codes the
mapping does not know, ZIP codes and states that are none, names with no letter.

Why: a value that standardization turns into NULL is not a reject (the row is staged), so the
per-file balance never shows it, yet a column of unreadable birth dates blinds the linkage as
surely as a missing file. The agency needs to know which column of which file to fix.

Examples are line numbers, never values. This is child-welfare data, and the table is printed
after every ingest (and so lands in terminals, CI logs and Prefect's run logs, read by more
people than may see the records); a masked value still gives away a birth date's year or a
short code. The line leads an authorized person to the value in `raw.*` (`_line`). What is
shown besides is the *shape* of the commonest lost values (every letter `A`, every digit `9`,
punctuation kept, so `08-MAY-67` is `99-AAA-99`): it says why a format failed without any
value in it.

Two kinds of rows meet in the view:

* what the mapping loses (`staging.map_persons`, `insert_memberships`, ...): checked where the
  rows are mapped, since only there are the file's own values at hand (a TANF birth date is
  cut out of a fixed-width line), and stored in `staged.value_problems`;
* what standardization nulls with a flag (`dob_flag`, `ssn_flag`): read from
  `staged.person_records`, with the column each came from (`staged.person_columns`), so that
  nothing is computed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from linkage.warehouse import literal, quote

if TYPE_CHECKING:
    from rich.table import Table

EXAMPLES = 3
# the mask of a value: letters (any script) A, digits 9, the rest kept; cut at 24 characters
_SHAPE = ("CASE WHEN length({v}) > 24 THEN left(regexp_replace(regexp_replace({v}, '\\pL', 'A', "
          "'g'), '\\pN', '9', 'g'), 24) || '...' ELSE regexp_replace(regexp_replace({v}, '\\pL', "
          "'A', 'g'), '\\pN', '9', 'g') END")

DDL = f"""
CREATE TABLE IF NOT EXISTS staged.value_problems (
    source VARCHAR, system VARCHAR, file VARCHAR, field VARCHAR, target VARCHAR,
    problem VARCHAR, n_values BIGINT, example_lines BIGINT[], example_shapes VARCHAR[]);
CREATE TABLE IF NOT EXISTS staged.person_columns (
    source VARCHAR, target VARCHAR, field VARCHAR);
CREATE OR REPLACE VIEW staged.quality AS
WITH flagged AS (
    SELECT source, system, source_file, source_line, 'dob' AS target, dob_raw AS v,
           CASE dob_flag WHEN 'invalid' THEN 'unreadable date'
                ELSE 'placeholder or impossible date' END
    FROM staged.person_records WHERE dob_flag IN ('invalid', 'placeholder')
    UNION ALL
    SELECT source, system, source_file, source_line, 'ssn', ssn_raw,
           CASE ssn_flag WHEN 'invalid' THEN 'not an SSN'
                WHEN 'partial' THEN 'partial SSN: last four kept'
                ELSE 'placeholder SSN' END
    FROM staged.person_records WHERE ssn_flag IN ('invalid', 'placeholder', 'partial')
    UNION ALL
    SELECT source, system, source_file, source_line, name, raw, 'no letter in the name'
    FROM (SELECT source, system, source_file, source_line,
                 unnest(['first_name', 'middle_name', 'last_name']) AS name,
                 unnest([first_name_raw, middle_name_raw, last_name_raw]) AS raw
          FROM staged.person_records)
    WHERE raw IS NOT NULL AND NOT regexp_matches(raw, '\\pL')),
shapes AS (
    SELECT source, system, source_file, target, problem, {_SHAPE.format(v='v')} AS shape,
           count(*) AS n, min(source_line, {EXAMPLES}) AS lines
    FROM flagged r(source, system, source_file, source_line, target, v, problem)
    GROUP BY ALL),
standardized AS (
    SELECT s.source, s.system, s.source_file AS file, c.field,
           'person_records.' || s.target AS target, s.problem, sum(s.n)::BIGINT AS n_values,
           list_sort(flatten(list(s.lines)))[1:{EXAMPLES}] AS example_lines,
           list(s.shape ORDER BY s.n DESC, s.shape)[1:{EXAMPLES}] AS example_shapes
    FROM shapes s
    JOIN (SELECT DISTINCT source, target, field FROM staged.person_columns) c
      USING (source, target)
    GROUP BY ALL),
mapped AS (
    SELECT source, system, file, field, string_agg(DISTINCT target, ', ' ORDER BY target),
           problem, max(n_values),
           list_sort(list_distinct(flatten(list(example_lines))))[1:{EXAMPLES}],
           min(example_shapes)
    FROM staged.value_problems GROUP BY source, system, file, field, problem)
SELECT * FROM standardized
UNION ALL SELECT * FROM mapped;
"""
TABLES = ("value_problems", "person_columns")


@dataclass(frozen=True)
class Check:
    """One way a column's values are lost while mapped: `lost` is SQL over `v` (the value,
    trimmed and not empty) that is true when the staged value will not be there; or, for
    rules that live in Python twins of standardization macros (ZIP codes, states: a macro of
    theirs costs DuckDB tens of milliseconds to bind, the twin microseconds for the few
    distinct values), `judge`, a predicate on the value."""

    field: str
    target: str
    problem: str
    lost: str = ""
    judge: Callable[[str], bool] | None = None


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the view and its tables (`staging.reset` creates them again)."""
    con.execute("DROP VIEW IF EXISTS staged.quality")
    for table in TABLES:
        con.execute(f"DROP TABLE IF EXISTS staged.{table}")


def record_person_columns(con: duckdb.DuckDBPyConnection, source: str,
                          columns: dict[str, str | None]) -> None:
    """Note which column of a source's person file fills each standardized field (`dob`,
    `ssn`, the names), for the view to name it."""
    rows = [(source, target, field) for target, field in columns.items() if field]
    if rows:
        con.executemany("INSERT INTO staged.person_columns VALUES (?, ?, ?)", rows)


def check(con: duckdb.DuckDBPyConnection, source: str, system: str, relation: str,
          checks: list[Check], where: str = "") -> None:
    """Count, per file of `relation` (one with `_file` and `_line`; `where` keeps the rows
    that are mapped), the values each check finds lost, into `staged.value_problems`.

    Why it is built this way: the checks run on every ingest, next to work measured in
    tenths of a second. `relation` may be a view that does real work for each row it gives
    (HMIS evens out vendors' dates in one), so one query reads it for all the checks and
    keeps each column's distinct values (a file holds far fewer distinct dates or codes than
    rows), judged once each; lines and shapes are looked up only for a column that lost
    something, which in a clean extract is none. A column checked for two targets (a date
    that is a membership's start and an event's) is one entry of the view.
    """
    if not checks:
        return
    # per check: how many distinct values SQL finds lost, or the distinct values to judge.
    # The column's values as they are are grouped, and only those trimmed: trimming every
    # row's value cost more than the grouping.
    distinct = "list_transform(list(DISTINCT {}), lambda r: nullif(trim(r), ''))"
    found = ", ".join(
        (f"len(list_filter({distinct.format(quote(item.field))}, lambda v: v IS NOT NULL "
         f"AND ({item.lost})))" if item.judge is None else distinct.format(quote(item.field)))
        for item in checks)
    judged = con.execute(f"SELECT {found} FROM {relation} {where}").fetchall()[0]
    lost: list[list[str] | None] = []
    for item, result in zip(checks, judged, strict=True):
        if item.judge is None:
            lost.append([] if result else None)  # SQL says again which, in `_record`
        else:
            lost.append(sorted({v for v in result or [] if v is not None and item.judge(v)})
                        or None)
    for item, bad in zip(checks, lost, strict=True):
        if bad is not None:
            _record(con, source, system, relation, item, where, bad)


def _value(field: str) -> str:
    """SQL: a column's value as mapped (trimmed; empty is no value)."""
    return f"nullif(trim({quote(field)}), '')"


def _record(con: duckdb.DuckDBPyConnection, source: str, system: str, relation: str,
            item: Check, where: str, judged: list[str]) -> None:
    """The values `item` finds lost in `relation` (`judged`: those its `judge` found), per
    file: how many, the commonest shapes and the first lines."""
    column = _value(item.field)
    rows = f"FROM {relation} {where or 'WHERE true'} AND {column} IS NOT NULL"
    lost = item.lost if item.judge is None else "list_contains($judged, v)"
    con.execute(f"""
        INSERT INTO staged.value_problems
        WITH lost AS (SELECT * FROM (SELECT _file, {column} AS v, count(*) AS n {rows}
                                     GROUP BY ALL) WHERE {lost}),
        shapes AS (SELECT _file, {_SHAPE.format(v='v')} AS shape, sum(n) AS n FROM lost
                   GROUP BY ALL),
        lines AS (SELECT _file, min(_line, {EXAMPLES}) AS lines {rows}
                  AND {column} IN (SELECT v FROM lost) GROUP BY _file)
        SELECT {literal(source)}, {literal(system)}, _file, {literal(item.field)},
               {literal(item.target)}, {literal(item.problem)}, sum(n)::BIGINT,
               any_value(lines), list(shape ORDER BY n DESC, shape)[1:{EXAMPLES}]
        FROM shapes JOIN lines USING (_file) GROUP BY _file""",
                {"judged": judged} if item.judge else None)


def top(con: duckdb.DuckDBPyConnection, limit: int = 10) -> tuple[list[tuple], int]:
    """The `limit` entries of `staged.quality` that lost the most values, and how many
    entries there are in all."""
    rows = con.execute(f"""
        SELECT file, field, problem, n_values, example_lines, example_shapes
        FROM staged.quality ORDER BY n_values DESC, file, field, problem
        LIMIT {int(limit)}""").fetchall()
    total = con.execute("SELECT count(*) FROM staged.quality").fetchall()[0][0]
    return rows, total


def quality_table(con: duckdb.DuckDBPyConnection, limit: int = 10) -> Table | None:
    """The ingest summary's data-quality table (rich), or None when nothing was lost."""
    from pathlib import Path

    from rich.table import Table

    rows, total = top(con, limit)
    if not rows:
        return None
    more = f"; {total - len(rows)} more" if total > len(rows) else ""
    table = Table(title="values lost in mapping and standardization",
                  caption=f"SELECT * FROM staged.quality{more}; look a line up in raw.* by "
                          f"_line")
    for column in ("file", "field", "problem", "values", "example lines", "shapes"):
        table.add_column(column, justify="right" if column == "values" else "left",
                         overflow="fold")
    for file, field, problem, n, lines, shapes in rows:
        table.add_row(Path(file).name, field, problem, f"{n:,}",
                      ", ".join(str(line) for line in lines or []),
                      "  ".join(shapes or []))
    return table
