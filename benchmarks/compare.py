"""Whether two warehouses hold the same tables, row for row: one built on DuckDB, one on
Spark (configs/linkage.yaml, `engine`). Used by benchmarks/families_speed.py at scale and by
tests/test_spark_engine.py on a small population."""

from __future__ import annotations

from pathlib import Path

import duckdb

# When a run happened, which differs between two runs whatever the engine.
RUN_TIMES = frozenset({"first_listed", "last_listed", "resolved_at", "changed_at", "run_id"})


def tables(db: Path, *schemas: str) -> dict[str, dict[str, str]]:
    """Every table of `schemas` in `db`: its columns and their types."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("""
        SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns()
        WHERE list_contains(?, schema_name)
        ORDER BY schema_name, table_name, column_index""", [list(schemas)]).fetchall()
    con.close()
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        found.setdefault(table, {})[column] = kind
    return found


def same(a: Path, b: Path, query: str) -> tuple[int, int]:
    """(rows, rows that differ) of `query` (naming each warehouse `{db}`) over a and b."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY); ATTACH '{b}' AS b (READ_ONLY)")
    qa, qb = query.format(db="a"), query.format(db="b")
    rows = con.execute(f"SELECT count(*) FROM ({qa})").fetchall()[0][0]
    differ = con.execute(f"""SELECT count(*) FROM (
        (SELECT * FROM ({qa}) EXCEPT ALL SELECT * FROM ({qb}))
        UNION ALL (SELECT * FROM ({qb}) EXCEPT ALL SELECT * FROM ({qa})))""").fetchall()[0][0]
    con.close()
    return rows, differ


def differences(a: Path, b: Path, *schemas: str) -> dict[str, dict[str, int]]:
    """Each table of `schemas` in `a`: its rows and the rows that differ in `b`, whole rows
    but for the times of the runs. A table missing from `b`, or with other columns or types,
    differs in every row."""
    theirs = tables(b, *schemas)
    found = {}
    for table, columns in tables(a, *schemas).items():
        if theirs.get(table) != columns:
            con = duckdb.connect(str(a), read_only=True)
            rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            con.close()
            found[table] = {"rows": rows, "differ": rows, "columns_differ": 1}
            continue
        kept = ", ".join(f'"{c}"' for c in columns if c not in RUN_TIMES)
        rows, differ = same(a, b, f"SELECT {kept} FROM {{db}}.{table}")
        found[table] = {"rows": rows, "differ": differ}
    return found
