"""Stable person ids: a person whose records stay together keeps their id from run to run.

Each new cluster inherits the previous id that shares the most records with it (each previous
id goes to one cluster at most); a cluster with none gets a new id derived from its smallest
record id, so that rerunning on the same inputs gives the same ids. Merges (a cluster taking
records of several previous ids), splits (a previous id's records spread over several
clusters), new and retired ids are appended to linked.person_id_history.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
import pyarrow as pa


def _new_id(record_id: str, taken: set[str]) -> str:
    salt = 0
    while True:
        digest = hashlib.sha256(f"{record_id}#{salt}".encode()).hexdigest()[:12].upper()
        candidate = f"P{digest}"
        if candidate not in taken:
            return candidate
        salt += 1


def assign_person_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Write linked.persons(record_id, person_id) from linked.clusters, keeping ids stable
    against the previous linked.persons; append to linked.person_id_history."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS linked.person_id_history (
            run_id VARCHAR, changed_at TIMESTAMP, person_id VARCHAR, event VARCHAR,
            other_ids VARCHAR[], n_records INTEGER);
        CREATE TABLE IF NOT EXISTS linked.persons (record_id VARCHAR, person_id VARCHAR);
        CREATE OR REPLACE TEMP TABLE _now AS
        SELECT r.record_id, c.cluster FROM linked.clusters c JOIN linked.records r USING (rid);
        CREATE OR REPLACE TEMP TABLE _overlap AS
        SELECT n.cluster, p.person_id, count(*) AS shared
        FROM _now n JOIN linked.persons p USING (record_id) GROUP BY ALL;
    """)
    # Unchanged people, the common case, settle in SQL: all their records, and only theirs.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _kept AS
        SELECT o.cluster, o.person_id FROM _overlap o
        JOIN (SELECT cluster, count(*) AS n FROM _now GROUP BY cluster) c USING (cluster)
        JOIN (SELECT person_id, count(*) AS n FROM linked.persons GROUP BY person_id) p
          USING (person_id)
        WHERE o.shared = c.n AND o.shared = p.n""")
    changed = con.execute("""
        SELECT cluster, person_id, shared FROM _overlap
        WHERE cluster NOT IN (SELECT cluster FROM _kept)
          AND person_id NOT IN (SELECT person_id FROM _kept)
        ORDER BY shared DESC, person_id, cluster""").fetchall()
    given: dict[int, str] = {}
    used: set[str] = set()
    for cluster, person_id, _ in changed:
        if cluster not in given and person_id not in used:
            given[cluster] = person_id
            used.add(person_id)
    con.register("_inherited", pa.table({
        "cluster": pa.array(list(given), pa.int64()),
        "person_id": pa.array(list(given.values()), pa.string())}))
    # New people: an id from their smallest record id, in SQL; the rare id already taken
    # (or drawn twice) is salted in Python.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fresh AS
        SELECT cluster, first, 'P' || upper(left(sha256(first || '#0'), 12)) AS person_id
        FROM (SELECT cluster, min(record_id) AS first FROM _now
              WHERE cluster NOT IN (SELECT cluster FROM _kept)
                AND cluster NOT IN (SELECT cluster FROM _inherited)
              GROUP BY cluster)""")
    clashes = con.execute("""
        SELECT cluster, first FROM _fresh
        WHERE person_id IN (SELECT person_id FROM linked.person_id_history
                            UNION ALL SELECT person_id FROM linked.persons
                            UNION ALL SELECT person_id FROM _inherited)
        UNION
        SELECT cluster, first FROM (
            SELECT cluster, first,
                   row_number() OVER (PARTITION BY person_id ORDER BY first) AS k
            FROM _fresh) WHERE k > 1
        ORDER BY first""").fetchall()
    if clashes:
        taken = {row[0] for row in con.execute(
            "SELECT person_id FROM linked.person_id_history UNION SELECT person_id "
            "FROM linked.persons UNION SELECT person_id FROM _inherited UNION "
            "SELECT person_id FROM _fresh").fetchall()}
        for cluster, first in clashes:
            new = _new_id(first, taken)
            taken.add(new)
            con.execute("UPDATE _fresh SET person_id = ? WHERE cluster = ?", [new, cluster])
    created = con.execute("SELECT count(*) FROM _fresh").fetchall()[0][0]
    at = datetime.now().isoformat(sep=" ", timespec="seconds")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ids AS
        SELECT cluster, person_id FROM _kept UNION ALL SELECT cluster, person_id FROM _inherited
        UNION ALL SELECT cluster, person_id FROM _fresh;
        INSERT INTO linked.person_id_history
        SELECT '{run_id}', TIMESTAMP '{at}', i.person_id,
               CASE WHEN count(DISTINCT o.person_id) > 1 THEN 'merged' ELSE 'created' END,
               list(DISTINCT o.person_id ORDER BY o.person_id)
                   FILTER (WHERE o.person_id IS NOT NULL AND o.person_id <> i.person_id),
               any_value(n.n)
        FROM (SELECT cluster FROM _inherited UNION ALL SELECT cluster FROM _fresh) g
        JOIN _ids i USING (cluster)
        JOIN (SELECT cluster, count(*) AS n FROM _now GROUP BY cluster) n USING (cluster)
        LEFT JOIN _overlap o USING (cluster)
        GROUP BY i.person_id
        HAVING count(DISTINCT o.person_id) > 1 OR count(o.person_id) = 0;
        INSERT INTO linked.person_id_history
        SELECT '{run_id}', TIMESTAMP '{at}', o.person_id,
               CASE WHEN o.person_id IN (SELECT person_id FROM _ids) THEN 'split'
                    ELSE 'retired' END,
               list(DISTINCT i.person_id ORDER BY i.person_id)
                   FILTER (WHERE i.person_id <> o.person_id),
               sum(o.shared)::INTEGER
        FROM _overlap o JOIN _ids i USING (cluster)
        GROUP BY o.person_id
        HAVING count(DISTINCT o.cluster) > 1
            OR o.person_id NOT IN (SELECT person_id FROM _ids);
        INSERT INTO linked.person_id_history
        SELECT '{run_id}', TIMESTAMP '{at}', person_id, 'retired', []::VARCHAR[], 0
        FROM (SELECT DISTINCT person_id FROM linked.persons)
        WHERE person_id NOT IN (SELECT person_id FROM _overlap);
        CREATE OR REPLACE TABLE linked.persons AS
        SELECT n.record_id, i.person_id FROM _now n JOIN _ids i USING (cluster)
        ORDER BY n.record_id;
    """)
    con.unregister("_inherited")
    counts = con.execute(f"""
        SELECT event, count(*) FROM linked.person_id_history WHERE run_id = '{run_id}'
        GROUP BY event""").fetchall()
    con.execute("DROP TABLE _now; DROP TABLE _overlap; DROP TABLE _kept; DROP TABLE _ids; "
                "DROP TABLE _fresh")
    return dict(counts) | {"persons": con.execute(
        "SELECT count(DISTINCT person_id) FROM linked.persons").fetchall()[0][0],
        "new_ids": created}
