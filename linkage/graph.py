"""Connected components of a graph held in the warehouse, on either engine.

The link step groups records into persons by their links, and the families step groups cases
and households by the persons they share: both ask for the component of every node of a graph
given as two relations (its nodes, its edges), and both run on DuckDB or Spark
(linkage.engines). On DuckDB the edges come to Python (`components`); on any other engine they
stay where they are and labels propagate in SQL (`label_components`).
"""

from __future__ import annotations

import duckdb
import numpy as np


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The component label of each node 0..n of the undirected graph with edges a[i]-b[i]:
    a node of the component (every node's label is at most the node itself).

    Hooking and pointer jumping in NumPy (each edge's two roots take the lower of their
    labels; every node then follows its label to a root), a few rounds for any graph: as fast
    as scipy's connected_components (measured on 1M nodes and 1.5M random edges: 0.29 s
    against 0.32 s), without importing scipy.sparse (0.2 s of every run)."""
    label = np.arange(n + 1, dtype=np.int64)
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    while True:
        la, lb = label[a], label[b]
        differ = la != lb
        if not differ.any():
            return label
        la, lb = la[differ], lb[differ]
        low = np.minimum(la, lb)
        np.minimum.at(label, la, low)
        np.minimum.at(label, lb, low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped


def label_components(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, out: str,
                     column: str = "node") -> None:
    """Temp table `out`(`column`, comp): every node of `nodes` (a relation of `node`, whole
    numbers from 0) and the component of `edges` (a relation of `a`, `b`) it is in, labelled
    by its lowest node.

    On DuckDB the edges come to Python (`components`: a few hundred MB at ten million
    records). On any other engine they stay where they are: labels propagate in SQL, each
    node taking the lowest label among its own, its neighbours' and its label's, until none
    changes (a few rounds: a person's records are a handful of links apart)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        ids = con.execute(f"SELECT node FROM ({nodes})").fetchnumpy()["node"]
        found = con.execute(edges).fetchnumpy()
        label = components(int(ids.max()) if len(ids) else 0, found["a"], found["b"])
        con.register("_cc_labels", {"node": ids, "comp": label[ids]})
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS "
                    f"SELECT node AS {column}, comp FROM _cc_labels")
        con.unregister("_cc_labels")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cc_label AS
        SELECT node, CAST(node AS BIGINT) AS comp FROM ({nodes});
        CREATE OR REPLACE TEMP TABLE _cc_both AS
        SELECT a, b FROM ({edges}) UNION ALL SELECT b, a FROM ({edges})""")
    changed = 1
    while changed:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cc_hooked AS
            SELECT l.node, least(l.comp, coalesce(min(n.comp), l.comp)) AS comp
            FROM _cc_label l LEFT JOIN _cc_both e ON e.a = l.node
            LEFT JOIN _cc_label n ON n.node = e.b
            GROUP BY l.node, l.comp;
            CREATE OR REPLACE TEMP TABLE _cc_jumped AS
            SELECT x.node, least(x.comp, y.comp) AS comp
            FROM _cc_hooked x JOIN _cc_hooked y ON y.node = x.comp""")
        changed = con.execute("SELECT count(*) FROM _cc_jumped j JOIN _cc_label l "
                              "ON l.node = j.node WHERE j.comp <> l.comp").fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE _cc_label AS SELECT node, comp "
                    "FROM _cc_jumped; DROP TABLE _cc_hooked; DROP TABLE _cc_jumped")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT node AS {column}, comp "
                f"FROM _cc_label; DROP TABLE _cc_both; DROP TABLE _cc_label")
