"""Stable ids (linkage.stable_ids): a new cluster whose id, drawn from its smallest member,
is already taken gets a salted one, on either engine."""

from __future__ import annotations

import duckdb

from linkage.stable_ids import IdTables, assign_stable_ids

IDS = IdTables("t.ids", "t.history", "member", "key", "P")


def run(con: duckdb.DuckDBPyConnection, clusters: list[tuple[str, int]], run_id: str) -> dict:
    """Assign ids to `clusters` ((member, cluster) pairs) as run `run_id`: {member: id}."""
    con.execute("CREATE SCHEMA IF NOT EXISTS t")
    rows = ", ".join(f"('{member}', {cluster})" for member, cluster in clusters)
    con.execute(f"CREATE OR REPLACE TABLE t.now AS SELECT * FROM (VALUES {rows}) "
                f"v(member, cluster)")
    assign_stable_ids(con, "t.now", IDS, run_id)
    return dict(con.execute("SELECT member, key FROM t.ids").fetchall())


def split_where_the_smaller_member_loses_its_id(con: duckdb.DuckDBPyConnection
                                                ) -> tuple[dict, dict]:
    """Run 1: {a, b} is one cluster, its id drawn from a. Run 2: they split, b (cluster 0)
    keeps the id, and a's new id, drawn from a again, is the one b holds: it is salted."""
    first = run(con, [("a", 0), ("b", 0)], "r1")
    second = run(con, [("b", 0), ("a", 1)], "r2")
    return first, second


def test_a_new_id_already_taken_is_salted() -> None:
    con = duckdb.connect()
    first, second = split_where_the_smaller_member_loses_its_id(con)
    assert first["a"] == first["b"]
    assert second["b"] == first["a"]  # b's cluster inherits the id
    assert second["a"] != second["b"] and second["a"].startswith("P")
    events = dict(con.execute("SELECT key, event FROM t.history WHERE run_id = 'r2' "
                              "ORDER BY key").fetchall())
    assert events == {second["b"]: "split"}
