"""A list's priority: the first rule of configs/marts.yaml (SQL over the row) that holds gives
the rank and its name the reason. Every row must get a named reason, so that staff know why a
row comes where it does: the last rule names what the rest have in common, and a row no rule
holds for fails the build instead of showing as "other"."""

from __future__ import annotations

import duckdb

from linkage.config import ConfigError
from linkage.families.settings import Priority, check_sql
from linkage.warehouse import literal


def rank(con: duckdb.DuckDBPyConnection, name: str, rules: list[Priority], order: str) -> None:
    """Add `priority` (1 = most urgent) and `priority_reason` to marts.<name>, sorted by
    priority then `order`."""
    table = f"marts.{name}"
    for i, rule in enumerate(rules):
        check_sql(con, f"{name}.priority.{i}.sql",
                  f"SELECT ({rule.sql})::BOOLEAN FROM {table} LIMIT 0")
    cases = " ".join(f"WHEN {rule.sql} THEN {i + 1}" for i, rule in enumerate(rules))
    names = ", ".join(literal(rule.name) for rule in rules)
    con.execute(f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT *, [{names}][priority] AS priority_reason
        FROM (SELECT *, CASE {cases} END AS priority FROM {table})
        ORDER BY priority, {order}""")
    unmatched = con.execute(f"SELECT count(*) FROM {table} WHERE priority IS NULL").fetchall()
    if unmatched[0][0]:
        raise ConfigError(f"{name}.priority: {unmatched[0][0]} rows match no rule; end the "
                          f"rules with one that holds for the rest, named for what they have "
                          f"in common")
