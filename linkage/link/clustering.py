"""From scored pairs to clusters of records, one cluster per person.

Connected components of the confident links settle almost every person at once.
Only a component that holds a conflict is re-clustered, greedily from the strongest link down,
refusing any merge that would put together two records that must stay apart:
- a reviewer's "not a match" between them;
- two records present in one case or household at the same time (twins, a Jr and his father
  on the same case), when `clustering.distinct_within_group` is on.
A reviewer's "match" is a link whatever its score, and is merged first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import duckdb
import numpy as np

from linkage.graph import label_components
from linkage.link.records import co_present
from linkage.link.settings import LinkageConfig


def build_clusters(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                   decisions: str | None = None,
                   rescore: Callable[[str, str], None] | None = None) -> dict[str, int]:
    """Write linked.clusters(rid, cluster): cluster = the smallest rid in it.

    `decisions`: a relation of (rid_l, rid_r, decision) with decision 'match' or 'no_match'.
    `rescore(pairs, out)`: scores pairs that were never candidates (rid_l, rid_r in table
    `pairs`) into table `out` (rid_l, rid_r, match_weight); with it, two records that a chain
    of links joins but that compare badly with each other (two SSNs, two birth dates) are
    kept apart. Returns counts of what was done, for the run summary.
    """
    link = config.thresholds.link
    decided = decisions or "(SELECT NULL::INTEGER AS rid_l, NULL::INTEGER AS rid_r, " \
                           "NULL::VARCHAR AS decision WHERE false)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _edges AS
        SELECT e.rid_l, e.rid_r, max(p) AS p, max(w) AS w FROM (
            SELECT rid_l, rid_r, match_probability AS p, match_weight AS w FROM linked.pairs
            WHERE match_probability >= {link}
            UNION ALL
            SELECT least(rid_l, rid_r) AS rid_l, greatest(rid_l, rid_r) AS rid_r, 2.0 AS p,
                   CAST('infinity' AS DOUBLE) AS w
            FROM {decided} WHERE decision = 'match') e
        ANTI JOIN (SELECT least(rid_l, rid_r) AS rid_l, greatest(rid_l, rid_r) AS rid_r
                   FROM {decided} WHERE decision = 'no_match') n
          ON n.rid_l = e.rid_l AND n.rid_r = e.rid_r
        GROUP BY e.rid_l, e.rid_r""")
    ambiguous = 0
    if config.clustering.distinct_within_group:
        ambiguous = _drop_ambiguous(con, config.clustering.ambiguity_margin)
    links = con.execute("SELECT count(*) FROM _edges").fetchall()[0][0]
    label_components(con, "SELECT rid AS node FROM linked.records",
                     "SELECT rid_l AS a, rid_r AS b FROM _edges", "_label", "rid")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _comp AS
        SELECT rid, comp FROM _label
        WHERE comp IN (SELECT comp FROM _label GROUP BY comp HAVING count(*) > 1)""")
    within_group = ""
    if config.clustering.distinct_within_group:
        within_group = f"""
            UNION
            SELECT a.rid, b.rid FROM
                (SELECT m.*, c.comp FROM linked.memberships m JOIN _comp c USING (rid)) a
            JOIN (SELECT m.*, c.comp FROM linked.memberships m JOIN _comp c USING (rid)) b
              ON a.comp = b.comp AND a.gid = b.gid AND a.rid < b.rid
            WHERE {co_present("a", "b")}"""
    # Records a chain of links joins but that compare badly with each other (two birth dates
    # decades apart under one common name) are kept apart: a pair blocking proposed and the
    # model judged unlikely, and a pair blocking never proposed, scored now, whose values
    # disagree (a no-information pair weighs the prior, far below any pair that was judged)
    chained = f"""
            UNION
            SELECT rid_l, rid_r FROM linked.pairs
            WHERE match_weight < {config.clustering.min_pair_weight}"""
    if rescore is not None:
        _score_chained(con, rescore)
        chained += f"""
            UNION
            SELECT rid_l, rid_r FROM _chained
            WHERE match_weight < {config.clustering.chain_min_weight}"""
    conflicts = con.execute(f"""
        SELECT c1.comp, x, y FROM (
            SELECT least(rid_l, rid_r) AS x, greatest(rid_l, rid_r) AS y FROM {decided}
            WHERE decision = 'no_match'{chained}
            {within_group}) k
        JOIN _comp c1 ON c1.rid = k.x JOIN _comp c2 ON c2.rid = k.y
        WHERE c1.comp = c2.comp""").fetchall()
    moved: dict[int, int] = {}
    if conflicts:
        bad = sorted({comp for comp, _, _ in conflicts})
        inside = con.execute(f"""
            SELECT e.rid_l, e.rid_r, e.w FROM _edges e JOIN _comp c ON c.rid = e.rid_l
            WHERE c.comp IN ({', '.join(str(int(comp)) for comp in bad)})""").fetchnumpy()
        moved = _resolve(inside, conflicts)
    # records a conflict moved take a component key of their own: negative, so no clash
    con.register("_moved", {"rid": np.array(list(moved), np.int64),
                            "comp": np.array(list(moved.values()), np.int64)})
    con.execute("""
        CREATE OR REPLACE TABLE linked.clusters AS
        SELECT rid, min(rid) OVER (PARTITION BY comp) AS cluster FROM (
            SELECT l.rid, coalesce(m.comp, l.comp) AS comp
            FROM _label l LEFT JOIN _moved m ON m.rid = l.rid)
        ORDER BY rid""")
    con.unregister("_moved")
    con.execute("DROP TABLE _edges; DROP TABLE _comp; DROP TABLE _label")
    return {"links": links, "ambiguous_links_dropped": ambiguous,
            "components_with_conflicts": len({c for c, _, _ in conflicts}),
            "conflicting_pairs": len(conflicts)}


_ABSENT = -1e6  # no link between the two records: an assignment never uses it


def _score_chained(con: duckdb.DuckDBPyConnection,
                   rescore: Callable[[str, str], None]) -> None:
    """_chained: the pairs of records that share a component (of three or more) without
    ever having been candidates, scored now."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _unscored AS
        WITH c AS (SELECT * FROM _comp WHERE comp IN (
                       SELECT comp FROM _comp GROUP BY comp HAVING count(*) >= 3))
        SELECT a.rid AS rid_l, b.rid AS rid_r, 'chained' AS rule
        FROM c a JOIN c b ON a.comp = b.comp AND a.rid < b.rid
        ANTI JOIN linked.candidates k ON k.rid_l = a.rid AND k.rid_r = b.rid""")
    rescore("_unscored", "_chained")
    con.execute("DROP TABLE _unscored")


def _drop_ambiguous(con: duckdb.DuckDBPyConnection, margin: float) -> int:
    """Where records of one case or household (present together) link to records of another,
    each can be only one of them: keep the best one-to-one assignment of the links between
    the two groups and drop the rest. When the runner-up assignment comes within `margin` bits
    of the best, the records cannot be told apart (twins, TANF children with no names): drop
    every link between the two groups; the pairs wait in the review queue.

    Returns the number of links dropped."""
    rows = con.execute("""
        WITH e AS (SELECT rid_l AS x, rid_r AS y, w FROM _edges
                   WHERE w < CAST('infinity' AS DOUBLE)),
        snap AS (  -- a group at one moment: its members then are different people
            SELECT DISTINCT rid, gid::BIGINT * 100000
                   + coalesce(date_diff('day', DATE '1900-01-01', start_date), 99999) AS g
            FROM linked.memberships),
        cross_links AS (
            SELECT sx.g AS gx, sy.g AS gy, e.x, e.y, e.w FROM e
            JOIN snap sx ON sx.rid = e.x JOIN snap sy ON sy.rid = e.y
            WHERE sx.g <> sy.g),
        contended AS (
            SELECT gx, gy FROM cross_links GROUP BY gx, gy
            HAVING count(DISTINCT x) < count(*) OR count(DISTINCT y) < count(*))
        SELECT gx, gy, list(x), list(y), list(w) FROM cross_links
        JOIN contended USING (gx, gy) GROUP BY gx, gy ORDER BY gx, gy""").fetchall()
    drop: set[tuple[int, int]] = set()
    for _, _, xs, ys, ws in rows:
        drop |= _losing_links(xs, ys, ws, margin)
    con.register("_drop", {"rid_l": np.array([x for x, _ in drop], np.int32),
                           "rid_r": np.array([y for _, y in drop], np.int32)})
    con.execute("CREATE OR REPLACE TEMP TABLE _edges AS SELECT e.* FROM _edges e "
                "ANTI JOIN _drop d ON d.rid_l = e.rid_l AND d.rid_r = e.rid_r")
    con.unregister("_drop")
    return len(drop)


def _losing_links(xs: list[int], ys: list[int], ws: list[float],
                  margin: float) -> set[tuple[int, int]]:
    """The links between two groups to drop: those the best one-to-one assignment does not
    keep, and those it keeps but could swap for another assignment within `margin` bits (the
    two twins; their mother's link stays)."""
    # imported here: scipy.optimize takes a third of a second to import, and most runs on
    # lists with no households never contend
    from scipy.optimize import linear_sum_assignment

    rows, cols = sorted(set(xs)), sorted(set(ys))
    matrix = np.full((len(rows), len(cols)), _ABSENT)
    for x, y, w in zip(xs, ys, ws, strict=True):
        matrix[rows.index(x), cols.index(y)] = w
    best_r, best_c = linear_sum_assignment(matrix, maximize=True)
    best = matrix[best_r, best_c].sum()
    kept = set()
    for r, c in zip(best_r, best_c, strict=True):
        if matrix[r, c] <= _ABSENT:
            continue
        saved, matrix[r, c] = matrix[r, c], _ABSENT
        alt_r, alt_c = linear_sum_assignment(matrix, maximize=True)
        runner_up = matrix[alt_r, alt_c].sum()
        # does the runner-up give either record another partner, or only drop this link?
        swapped = any(matrix[ar, ac] > _ABSENT and (ar == r or ac == c)
                      for ar, ac in zip(alt_r, alt_c, strict=True))
        matrix[r, c] = saved
        if best - runner_up >= margin or not swapped:
            kept.add((min(rows[r], cols[c]), max(rows[r], cols[c])))
    return {(min(x, y), max(x, y)) for x, y in zip(xs, ys, strict=True)} - kept


def _resolve(edges: dict[str, np.ndarray],
             conflicts: list[tuple[int, int, int]]) -> dict[int, int]:
    """Greedy constrained clustering inside the conflicted components (`edges`: their links):
    strongest links first (reviewer matches weigh infinity), merge only clusters with no
    conflict between them. Returns each of their records' new component key, negative."""
    apart: dict[int, set[int]] = defaultdict(set)
    for _, x, y in conflicts:
        apart[x].add(y)
        apart[y].add(x)
    a, b, w = edges["rid_l"], edges["rid_r"], edges["w"]
    order = np.lexsort((b, a, -w))
    members: dict[int, set[int]] = {}
    owner: dict[int, int] = {}
    for x, y in zip(a[order].tolist(), b[order].tolist(), strict=True):
        cx, cy = owner.setdefault(x, x), owner.setdefault(y, y)
        if cx == cy:
            continue
        mx, my = members.setdefault(cx, {x}), members.setdefault(cy, {y})
        if len(mx) < len(my):
            cx, cy, mx, my = cy, cx, my, mx
        if any(apart.get(r, set()) & mx for r in my):
            continue
        mx |= my
        for r in my:
            owner[r] = cx
        del members[cy]
    return {r: -1 - root for root, group in members.items() for r in group}
