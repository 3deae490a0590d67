"""`review.queue`: the pairs the model is unsure about, most urgent first.

A pair whose probability lies in [review_low, review_high) is queued unless a reviewer has
already decided it: a latest decision of match or no_match settles it; "unsure" leaves it
queued, an open question (`famlink review queue` shows the notes left on it).

Pairs that touch an open child-welfare case come first (a child may be in care while the
other agencies' records of the family stay unconnected); then the pairs nearest the link
threshold, where a decision changes most.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.link.settings import LinkageConfig
from linkage.review.decisions import read_decisions


def build_queue(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                decisions: str = "_decisions") -> int:
    """Build review.queue from linked.pairs, leaving out the pairs `decisions` (the latest
    decision on each pair, `load_latest`) settled. Returns how many pairs are queued."""
    t, r = config.thresholds, config.review
    con.execute(f"""
        CREATE SCHEMA IF NOT EXISTS review;
        CREATE OR REPLACE TABLE review.queue AS
        WITH urgent AS (
            SELECT DISTINCT rid FROM linked.memberships
            WHERE group_key IN (SELECT group_type || ':' || group_id FROM staged.groups
                                WHERE {r.priority_groups})),
        queued AS (
            SELECT a.record_id AS record_id_l, b.record_id AS record_id_r,
                   -- kept here so that a reader filtering the queue by what it may see
                   -- needs no join with a million records
                   a.system AS system_l, b.system AS system_r,
                   p.match_probability, p.match_weight,
                   p.rid_l IN (SELECT rid FROM urgent) OR p.rid_r IN (SELECT rid FROM urgent)
                       AS urgent,
                   ca.cluster = cb.cluster AS linked_now
            FROM linked.pairs p
            JOIN linked.records a ON a.rid = p.rid_l
            JOIN linked.records b ON b.rid = p.rid_r
            JOIN linked.clusters ca ON ca.rid = p.rid_l
            JOIN linked.clusters cb ON cb.rid = p.rid_r
            WHERE p.match_probability >= {t.review_low} AND p.match_probability < {t.review_high}
              AND NOT p.apart)
        SELECT row_number() OVER (ORDER BY urgent DESC, abs(match_weight
                   - log2({t.link} / (1 - {t.link}))), record_id_l, record_id_r) AS position,
               upper(left(md5(record_id_l || '|' || record_id_r), 10)) AS pair_id, q.*
        FROM queued q
        ANTI JOIN (SELECT * FROM {decisions} WHERE decision IN ('match', 'no_match')) d
            USING (record_id_l, record_id_r)
        ORDER BY position LIMIT {r.queue_limit}""")
    return con.execute("SELECT count(*) FROM review.queue").fetchall()[0][0]


def settled_pairs(decisions: Path) -> list[list[str]]:
    """The pairs (record_id_l, record_id_r) whose latest decision is match or no match: a
    reviewer settled them since the queue was built, so the queue's pages and the next pair
    after a decision skip them until the next run takes them out."""
    return [[left, right] for _, left, right, decision, *_ in read_decisions(decisions,
                                                                             latest=True)
            if decision in ("match", "no_match")]
