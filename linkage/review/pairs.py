"""Queued pairs as a reviewer sees them: both records side by side and why the model
scored them as it did."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from linkage.link.explain import Explanation, explain
from linkage.link.settings import LinkageConfig
from linkage.warehouse import literal

# What a reviewer compares; SSNs show their last four only.
FIELDS = ("system", "first_name_raw", "middle_name_raw", "last_name_raw", "suffix", "dob",
          "ssn_masked", "sex", "address_street", "city", "zip5", "groups")


@dataclass
class QueuedPair:
    pair_id: str
    position: int
    probability: float
    urgent: bool
    left: dict
    right: dict
    explanation: Explanation
    fields: tuple[str, ...] = FIELDS


def resolve_pair(con: duckdb.DuckDBPyConnection, pair: str) -> tuple[str, str]:
    """A queue pair id, or two record ids joined by a comma -> the two record ids."""
    if "," in pair:
        left, right = (part.strip() for part in pair.split(",", 1))
        return tuple(sorted((left, right)))  # type: ignore[return-value]
    rows = con.execute(f"SELECT record_id_l, record_id_r FROM review.queue "
                       f"WHERE pair_id = {literal(pair.upper())}").fetchall()
    if not rows:
        raise LookupError(f"no pair {pair} in the review queue (ids change only when the "
                          f"queue is rebuilt by `famlink link`)")
    return rows[0]


def review_records(con: duckdb.DuckDBPyConnection, record_ids: list[str]) -> dict[str, dict]:
    """Records as a reviewer sees them, by record id, fetched in one query (a sample for review
    asks for hundreds). Only `FIELDS` are for showing: the rest of the dict is the staged row."""
    if not record_ids:
        return {}
    wanted = ", ".join(literal(r) for r in sorted(set(record_ids)))
    result = con.execute(f"""
        SELECT p.* REPLACE (p.dob::VARCHAR AS dob), '***-**-' || p.ssn_last4 AS ssn_masked,
               (SELECT list(DISTINCT m.group_key ORDER BY m.group_key)
                FROM linked.memberships m WHERE m.rid = r.rid) AS groups
        FROM staged.person_records p JOIN linked.records r USING (record_id)
        WHERE record_id IN ({wanted})""")
    names = [column[0] for column in result.description]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    return {row["record_id"]: row for row in rows}


def _record(con: duckdb.DuckDBPyConnection, record_id: str) -> dict:
    return review_records(con, [record_id])[record_id]


def next_pairs(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
               limit: int) -> list[QueuedPair]:
    from linkage.link.run import load_model

    model = load_model(con)[-1]
    rows = con.execute(f"SELECT pair_id, position, match_probability, urgent, record_id_l, "
                       f"record_id_r FROM review.queue ORDER BY position LIMIT {limit}") \
        .fetchall()
    return [QueuedPair(pid, pos, p, urgent, _record(con, left), _record(con, right),
                       explain(con, config, model, left, right))
            for pid, pos, p, urgent, left, right in rows]
