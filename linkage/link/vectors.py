"""Comparison vectors: for each candidate pair, the level it reaches in every comparison.

They are computed once, in one DuckDB pass over the candidate pairs, and kept: training
aggregates them into patterns, scoring joins the patterns' weights back, and explanations read
a pair's levels from them. Levels are small integers: 0 is the most alike listed level, the
last is "different", -1 is "no evidence" (a value missing on either side).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from linkage.link.records import co_present
from linkage.link.settings import Comparison, LinkageConfig
from linkage.warehouse import quote

HOUSEHOLD = "household"
HOUSEHOLD_LABELS = ["two_or_more_linked", "one_linked", "none_linked"]
HOUSEHOLD_EXCLUSIVE = "linked_to_another"  # see linkage.link.household._add_level


@dataclass(frozen=True)
class Scheme:
    """What the model compares: names and level labels (with "different" last), and which
    level of which comparison carries a term-frequency adjustment."""

    names: list[str]
    labels: list[list[str]]
    tf_levels: dict[str, tuple[int, str]]  # comparison -> (level index, tf column)
    # per comparison, the labels that are categories rather than degrees of agreement: their
    # weights are not held in order with the others
    unranked: dict[str, set[str]] = field(default_factory=dict)

    def ranked(self) -> list[list[bool]]:
        """For each comparison, whether each level (with "different") is held in order."""
        return [[label not in self.unranked.get(name, set()) for label in labels]
                for name, labels in zip(self.names, self.labels, strict=True)]

    def column(self, name: str) -> str:
        return quote(f"g_{name}")

    def pattern_sql(self, alias: str = "") -> str:
        """One BIGINT that encodes a pair's levels (mixed radix), to group and join on."""
        terms, radix = [], 1
        for name, labels in zip(self.names, self.labels, strict=True):
            terms.append(f"({alias}{self.column(name)} + 1) * {radix}")
            radix *= len(labels) + 1
        return " + ".join(terms)

    def with_household(self, exclusive: bool = False) -> Scheme:
        """The scheme with the household comparison. Its levels count co-members, not
        agreement on a field, and are categories rather than degrees: more linked co-members
        are often a larger family, whose siblings meet the same count (measured: one linked
        co-member weighed 4 bits more than two), and a record already linked to another
        member of the other's group may be a relative or the same person. The data decide,
        with no order held."""
        labels = HOUSEHOLD_LABELS + ([HOUSEHOLD_EXCLUSIVE] if exclusive else [])
        return Scheme([*self.names, HOUSEHOLD], [*self.labels, labels], self.tf_levels,
                      {**self.unranked, HOUSEHOLD: set(labels)})


def scheme_of(config: LinkageConfig) -> Scheme:
    tf = {c.name: (i, level.tf_column) for c in config.comparisons
          for i, level in enumerate(c.levels) if level.tf_column}
    return Scheme([c.name for c in config.comparisons],
                  [[lv.label for lv in c.levels] + ["different"] for c in config.comparisons],
                  tf, {c.name: {lv.label for lv in c.levels if lv.unranked}
                       for c in config.comparisons})


def gamma_sql(comparison: Comparison) -> str:
    whens = "".join(f" WHEN ({level.sql}) THEN {i}" for i, level in enumerate(comparison.levels))
    return (f"CASE WHEN ({comparison.null_when}) THEN -1{whens} "
            f"ELSE {len(comparison.levels)} END::TINYINT")


def pair_columns(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """The record columns renamed <col>_l and <col>_r, for the two sides of a pair."""
    cols = [row[0] for row in con.execute("DESCRIBE linked.records").fetchall()
            if row[0] != "rid"]
    left = ", ".join(f"{quote(c)} AS {quote(c + '_l')}" for c in cols)
    right = ", ".join(f"{quote(c)} AS {quote(c + '_r')}" for c in cols)
    return left, right


def vectors_sql(con: duckdb.DuckDBPyConnection, config: LinkageConfig, pairs: str) -> str:
    """SELECT of rid_l, rid_r, rule, one g_<comparison> per comparison, the term frequency of
    the agreed value where a tf level is reached (tf_<comparison>) and `apart`: the two
    records are present in one case or household at the same time, so certainly two people
    (training counts such pairs among the non-matches; clustering never merges them)."""
    scheme = scheme_of(config)
    left, right = pair_columns(con)
    gammas = ", ".join(f"{gamma_sql(c)} AS {scheme.column(c.name)}" for c in config.comparisons)
    tf_sides = "".join(f", greatest({quote('tf_' + col + '_l')}, {quote('tf_' + col + '_r')}) "
                       f"AS {quote('tfv_' + name)}"
                       for name, (_, col) in scheme.tf_levels.items())
    tfs = "".join(f", CASE WHEN {scheme.column(name)} = {i} THEN {quote('tfv_' + name)} END "
                  f"AS {quote('tf_' + name)}" for name, (i, _) in scheme.tf_levels.items())
    tf_drop = ", ".join(quote("tfv_" + name) for name in scheme.tf_levels)
    exclude = f" EXCLUDE ({tf_drop})" if tf_drop else ""
    return f"""
        SELECT *{exclude}{tfs} FROM (
            SELECT p.rid_l, p.rid_r, p.rule, {gammas}{tf_sides},
                   coalesce(s.apart, false) AS apart
            FROM {pairs} p
            JOIN (SELECT rid, {left} FROM linked.records) l ON l.rid = p.rid_l
            JOIN (SELECT rid, {right} FROM linked.records) r ON r.rid = p.rid_r
            LEFT JOIN (SELECT DISTINCT p.rid_l, p.rid_r, true AS apart FROM {pairs} p
                       JOIN linked.memberships a ON a.rid = p.rid_l
                       JOIN linked.memberships b ON b.rid = p.rid_r AND b.gid = a.gid
                       WHERE {co_present("a", "b")}) s
              ON s.rid_l = p.rid_l AND s.rid_r = p.rid_r)"""


def build_vectors(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> None:
    """Write linked.vectors for every pair in linked.candidates."""
    con.execute(f"CREATE OR REPLACE TABLE linked.vectors AS "
                f"{vectors_sql(con, config, 'linked.candidates')}")


def build_sample(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> float:
    """Write linked.sample_vectors: comparison vectors of random record pairs that are not
    candidates, standing for all the pairs blocking never looks at. Returns the weight of one
    sampled pair (how many non-candidate pairs it represents)."""
    t = config.training
    seed = t.seed
    n = con.execute("SELECT count(*) FROM linked.records").fetchall()[0][0]
    candidates = con.execute("SELECT count(*) FROM linked.candidates").fetchall()[0][0]
    others = n * (n - 1) // 2 - candidates
    size = min(t.random_pairs, max(t.min_random_pairs, round(t.random_pairs_per_record * n)))
    draws = min(size, max(others, 0))
    # drawn in NumPy, so that every engine compares the same pairs (SQL hash functions
    # differ from one engine to the next)
    rng = np.random.default_rng(seed)
    con.register("_draws", {"a": rng.integers(1, n + 1, draws, dtype=np.int64),
                            "b": rng.integers(1, n + 1, draws, dtype=np.int64)})
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sample AS
        SELECT DISTINCT CAST(least(a, b) AS INTEGER) AS rid_l,
               CAST(greatest(a, b) AS INTEGER) AS rid_r, 'random' AS rule
        FROM _draws WHERE a <> b
        EXCEPT SELECT rid_l, rid_r, 'random' FROM linked.candidates;
        CREATE OR REPLACE TABLE linked.sample_vectors AS {vectors_sql(con, config, '_sample')};
        DROP TABLE _sample;
    """)
    con.unregister("_draws")
    kept = con.execute("SELECT count(*) FROM linked.sample_vectors").fetchall()[0][0]
    return others / kept if kept else 0.0
