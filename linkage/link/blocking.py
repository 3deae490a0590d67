"""Candidate pairs: records that agree on every key of at least one blocking rule.

Each rule is a hash self-join in DuckDB on its key. A key value held by more than
`max_block_size` records (a placeholder SSN that slipped through, a shelter) is skipped: it
would pair strangers by the thousand and slow every later step.
"""

from __future__ import annotations

import duckdb

from linkage.link.settings import BlockingRule, LinkageConfig


def _keyed(rule: BlockingRule) -> str:
    """Records with their key for `rule`, list columns unnested, null keys dropped."""
    parts = [f"unnest({expr})" if expr in rule.unnest else f"({expr})" for expr in rule.keys]
    keys = ", ".join(f"{part} AS k{i}" for i, part in enumerate(parts))
    not_null = " AND ".join(f"k{i} IS NOT NULL" for i in range(len(parts)))
    return f"SELECT * FROM (SELECT rid, {keys} FROM linked.records) WHERE {not_null}"


def rule_pairs_sql(rule: BlockingRule, max_block_size: int, n: int = 0) -> str:
    """SQL for the (rid_l < rid_r) pairs one rule finds; `n` numbers its CTEs, which must
    differ from rule to rule where an engine lifts them all into one WITH (Spark)."""
    keys = ", ".join(f"k{i}" for i in range(len(rule.keys)))
    return f"""
        WITH keyed_{n} AS ({_keyed(rule)}),
        usable_{n} AS (SELECT * FROM keyed_{n}
                       QUALIFY count(*) OVER (PARTITION BY {keys}) <= {max_block_size})
        SELECT DISTINCT l.rid AS rid_l, r.rid AS rid_r
        FROM usable_{n} l JOIN usable_{n} r USING ({keys})
        WHERE l.rid < r.rid"""


def build_candidates(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> dict[str, int]:
    """Write linked.candidates(rid_l, rid_r, rule): each pair once, credited to the first rule
    that finds it. Returns the number of pairs credited to each rule."""
    size = config.blocking.max_block_size
    found = " UNION ALL ".join(
        f"SELECT rid_l, rid_r, {i} AS i "
        f"FROM ({rule_pairs_sql(rule, rule.max_block_size or size, i)})"
        for i, rule in enumerate(config.blocking.rules))
    names = " ".join(f"WHEN {i} THEN '{rule.name}'"
                     for i, rule in enumerate(config.blocking.rules))
    con.execute(f"""
        CREATE OR REPLACE TABLE linked.candidates AS
        SELECT rid_l, rid_r, CASE min(i) {names} END AS rule
        FROM ({found}) GROUP BY rid_l, rid_r""")
    counts = dict(con.execute("SELECT rule, count(*) FROM linked.candidates GROUP BY rule")
                  .fetchall())
    return {rule.name: counts.get(rule.name, 0) for rule in config.blocking.rules}
