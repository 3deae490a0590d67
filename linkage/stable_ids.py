"""Stable ids for clusters that change from run to run (persons, families): a cluster whose
members stay together keeps its id.

Each new cluster inherits the previous id that shares the most members with it (each previous
id goes to one cluster at most); a cluster with none gets a new id derived from its smallest
member, so that rerunning on the same inputs gives the same ids. Merges (a cluster taking
members of several previous ids), splits (a previous id's members spread over several
clusters), new and retired ids are appended to a history table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np


@dataclass(frozen=True)
class IdTables:
    table: str  # (member, key): the current ids
    history: str  # append-only: run_id, changed_at, key, event, other_ids, n_members
    member: str  # member column (record_id, person_id)
    key: str  # id column (person_id, family_id)
    prefix: str  # first letter of new ids


PERSON_IDS = IdTables("linked.persons", "linked.person_id_history", "record_id", "person_id",
                      "P")


def _new_id(member: str, taken: set[str], prefix: str) -> str:
    salt = 0
    while True:
        digest = hashlib.sha256(f"{member}#{salt}".encode()).hexdigest()[:12].upper()
        candidate = f"{prefix}{digest}"
        if candidate not in taken:
            return candidate
        salt += 1


def assign_person_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """linked.persons(record_id, person_id) from linked.clusters, ids kept stable."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _clustered AS
        SELECT r.record_id, c.cluster FROM linked.clusters c JOIN linked.records r USING (rid)""")
    counts = assign_stable_ids(con, "_clustered", PERSON_IDS, run_id)
    con.execute("DROP TABLE _clustered")
    counts["persons"] = counts.pop("ids")
    return counts


def assign_stable_ids(con: duckdb.DuckDBPyConnection, now: str, ids: IdTables,
                      run_id: str) -> dict[str, int]:
    """Write `ids.table`(member, id) from `now` (a relation of member, cluster), keeping ids
    stable against the previous `ids.table`; append to `ids.history`."""
    table, history, member, key, prefix = (ids.table, ids.history, ids.member, ids.key,
                                           ids.prefix)
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {history} (
            run_id VARCHAR, changed_at TIMESTAMP, {key} VARCHAR, event VARCHAR,
            other_ids VARCHAR[], n_members INTEGER);
        CREATE TABLE IF NOT EXISTS {table} ({member} VARCHAR, {key} VARCHAR);
        CREATE OR REPLACE TEMP TABLE _now AS SELECT {member}, cluster FROM {now};
        CREATE OR REPLACE TEMP TABLE _overlap AS
        SELECT n.cluster, p.{key}, count(*) AS shared
        FROM _now n JOIN {table} p USING ({member}) GROUP BY ALL;
    """)
    # Unchanged clusters, the common case, settle in SQL: all their members, and only theirs.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _kept AS
        SELECT o.cluster, o.{key} FROM _overlap o
        JOIN (SELECT cluster, count(*) AS n FROM _now GROUP BY cluster) c USING (cluster)
        JOIN (SELECT {key}, count(*) AS n FROM {table} GROUP BY {key}) p USING ({key})
        WHERE o.shared = c.n AND o.shared = p.n""")
    changed = con.execute(f"""
        SELECT cluster, {key}, shared FROM _overlap
        WHERE cluster NOT IN (SELECT cluster FROM _kept)
          AND {key} NOT IN (SELECT {key} FROM _kept)
        ORDER BY shared DESC, {key}, cluster""").fetchall()
    given: dict[int, str] = {}
    used: set[str] = set()
    for cluster, old_id, _ in changed:
        if cluster not in given and old_id not in used:
            given[cluster] = old_id
            used.add(old_id)
    con.register("_inherited", {"cluster": np.array(list(given), np.int64),
                                key: np.array(list(given.values()), object)})
    # New ones: an id from their smallest member, in SQL; the rare id already taken (or drawn
    # twice) is salted in Python.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fresh AS
        SELECT cluster, first, '{prefix}' || upper(left(sha256(first || '#0'), 12)) AS {key}
        FROM (SELECT cluster, min({member}) AS first FROM _now
              WHERE cluster NOT IN (SELECT cluster FROM _kept)
                AND cluster NOT IN (SELECT cluster FROM _inherited)
              GROUP BY cluster)""")
    clashes = con.execute(f"""
        SELECT cluster, first FROM _fresh
        WHERE {key} IN (SELECT {key} FROM {history} UNION ALL SELECT {key} FROM {table}
                        UNION ALL SELECT {key} FROM _inherited)
        UNION
        SELECT cluster, first FROM (
            SELECT cluster, first,
                   row_number() OVER (PARTITION BY {key} ORDER BY first, cluster) AS k
            FROM _fresh WHERE {key} IN (SELECT {key} FROM _fresh GROUP BY {key}
                                        HAVING count(*) > 1)) WHERE k > 1
        ORDER BY first, cluster""").fetchall()
    if clashes:
        taken = {row[0] for row in con.execute(
            f"SELECT {key} FROM {history} UNION SELECT {key} FROM {table} UNION "
            f"SELECT {key} FROM _inherited UNION SELECT {key} FROM _fresh").fetchall()}
        salted: dict[int, str] = {}
        for cluster, first in clashes:
            salted[cluster] = _new_id(first, taken, prefix)
            taken.add(salted[cluster])
        # a table joined in, not UPDATEs: the same statements on either engine
        con.register("_salted", {"cluster": np.array(list(salted), np.int64),
                                 key: np.array(list(salted.values()), object)})
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _fresh AS
            SELECT f.cluster, f.first, coalesce(s.{key}, f.{key}) AS {key}
            FROM _fresh f LEFT JOIN _salted s USING (cluster)""")
        con.unregister("_salted")
    created = con.execute("SELECT count(*) FROM _fresh").fetchall()[0][0]
    at = datetime.now().isoformat(sep=" ", timespec="seconds")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ids AS
        SELECT cluster, {key} FROM _kept UNION ALL SELECT cluster, {key} FROM _inherited
        UNION ALL SELECT cluster, {key} FROM _fresh;
        CREATE OR REPLACE TEMP TABLE _sizes AS
        SELECT cluster, count(*)::INTEGER AS n FROM _now GROUP BY cluster;
        -- new ones with nothing before them (all of them on a first run): created
        INSERT INTO {history}
        SELECT '{run_id}', TIMESTAMP '{at}', f.{key}, 'created', []::VARCHAR[], s.n
        FROM _fresh f JOIN _sizes s USING (cluster)
        WHERE f.cluster NOT IN (SELECT cluster FROM _overlap);
        -- a cluster taking the members of several previous ids: merged
        INSERT INTO {history}
        SELECT '{run_id}', TIMESTAMP '{at}', i.{key}, 'merged',
               list(DISTINCT o.{key} ORDER BY o.{key}) FILTER (WHERE o.{key} <> i.{key}),
               any_value(s.n)
        FROM (SELECT cluster FROM _inherited UNION ALL SELECT cluster FROM _fresh) g
        JOIN _ids i USING (cluster) JOIN _sizes s USING (cluster)
        JOIN _overlap o USING (cluster)
        GROUP BY i.{key}
        HAVING count(DISTINCT o.{key}) > 1;
        -- a previous id whose members spread over several clusters: split if it lives on,
        -- else retired (`kept`: joined, not NOT IN, which Spark runs as a nested loop)
        INSERT INTO {history}
        SELECT '{run_id}', TIMESTAMP '{at}', o.{key},
               CASE WHEN max(kept.{key}) IS NOT NULL THEN 'split' ELSE 'retired' END,
               list(DISTINCT i.{key} ORDER BY i.{key}) FILTER (WHERE i.{key} <> o.{key}),
               sum(o.shared)::INTEGER
        FROM _overlap o JOIN _ids i USING (cluster)
        LEFT JOIN (SELECT DISTINCT {key} FROM _ids) kept ON kept.{key} = o.{key}
        GROUP BY o.{key}
        HAVING count(DISTINCT o.cluster) > 1 OR max(kept.{key}) IS NULL;
        INSERT INTO {history}
        SELECT '{run_id}', TIMESTAMP '{at}', {key}, 'retired', []::VARCHAR[], 0
        FROM (SELECT DISTINCT {key} FROM {table})
        WHERE {key} NOT IN (SELECT {key} FROM _overlap);
        -- in id order: a lookup of one person's (or family's) members then reads the one
        -- row group whose min/max holds the id, not the whole table (the web app's pages)
        CREATE OR REPLACE TABLE {table} AS
        SELECT n.{member}, i.{key} FROM _now n JOIN _ids i USING (cluster) ORDER BY i.{key};
    """)
    con.unregister("_inherited")
    counts = con.execute(f"""
        SELECT event, count(*) FROM {history} WHERE run_id = '{run_id}'
        GROUP BY event""").fetchall()
    con.execute("DROP TABLE _now; DROP TABLE _overlap; DROP TABLE _kept; DROP TABLE _ids; "
                "DROP TABLE _fresh; DROP TABLE _sizes")
    return dict(counts) | {"ids": con.execute(
        f"SELECT count(DISTINCT {key}) FROM {table}").fetchall()[0][0], "new_ids": created}
