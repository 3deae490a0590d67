"""Household evidence: two records whose cases or households hold *other* members that
already link to each other are more likely the same person.

After a first round of scoring, the confident links are lifted to the groups (case, household,
assistance unit) of their two records. A pair then gets a household level: how many other linked
pairs join its two records' groups (two or more, one, none), or "no evidence" when either
record has no group with other members; with `household.exclusive`, "linked to another" comes
first: one of the two already links to someone else of the other's group (a sibling, a
parent). The random pairs that stand for all non-candidates get the level too, so its u is
measured where non-matches really are; its m then says how often the same person's families
differ between agencies (a grandmother is the custodial party in CS while the mother heads
the TANF case). The level's weight is estimated by EM with the rest of the model, never set by
hand; `famlink evaluate` shows its effect by ablation.

Linked groups also propose pairs the name-based blocking cannot (TANF files carry no names):
members of two linked groups who agree on `household.blocking_on` (and for whom
`household.blocking_when` holds) become candidates.
"""

from __future__ import annotations

import duckdb

from linkage.link.settings import LinkageConfig
from linkage.link.vectors import HOUSEHOLD_LABELS, vectors_sql
from linkage.warehouse import table_exists


def _household_groups_sql(max_group_size: int) -> str:
    """SQL: the groups household evidence reads, those holding 2 to `max_group_size`
    records (a larger one is a shelter, not a family)."""
    return (f"SELECT gid FROM linked.memberships GROUP BY gid "
            f"HAVING count(DISTINCT rid) BETWEEN 2 AND {max_group_size}")


def has_households(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> bool:
    """Whether any case or household holds two records or more (and at most
    `max_group_size`). Without one (a person list, FEBRL), household evidence is "no
    evidence" for every pair, and a round that weighs it changes no score: it is skipped."""
    return bool(con.execute(f"""
        SELECT count(*) FROM ({_household_groups_sql(config.household.max_group_size)}
                              LIMIT 1)""").fetchall()[0][0])


def add_household_evidence(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> int:
    """Add household-proposed candidates to linked.candidates and linked.vectors, and the
    g_household level to every vector. Returns the number of candidates added."""
    hh = config.household
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hh AS
        SELECT DISTINCT rid, gid FROM linked.memberships
        WHERE gid IN ({_household_groups_sql(hh.max_group_size)});
        CREATE OR REPLACE TEMP TABLE _glinks AS
        WITH links AS (
            SELECT rid_l AS x, rid_r AS y FROM linked.pairs
            WHERE match_probability >= {hh.confidence} AND NOT apart
            UNION ALL
            SELECT rid_r, rid_l FROM linked.pairs
            WHERE match_probability >= {hh.confidence} AND NOT apart)
        SELECT DISTINCT mx.gid AS gx, my.gid AS gy, x, y
        FROM links JOIN _hh mx ON mx.rid = x JOIN _hh my ON my.rid = y;
    """)
    if hh.signature:
        _add_signature_pairs(con, config)
    on = " AND ".join([f"(a.{expr}) = (b.{expr})" for expr in hh.blocking_on]
                      + [f"({hh.blocking_when})"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hh_pairs AS
        SELECT DISTINCT ma.rid AS rid_l, mb.rid AS rid_r, 'household' AS rule
        FROM (SELECT DISTINCT gx, gy FROM _glinks) g
        JOIN _hh ma ON ma.gid = g.gx
        JOIN _hh mb ON mb.gid = g.gy
        JOIN linked.records a ON a.rid = ma.rid
        JOIN linked.records b ON b.rid = mb.rid
        WHERE ma.rid < mb.rid AND {on}
        EXCEPT SELECT rid_l, rid_r, 'household' FROM linked.candidates""")
    added = con.execute("SELECT count(*) FROM _hh_pairs").fetchall()[0][0]
    con.execute(f"""
        INSERT INTO linked.candidates SELECT * FROM _hh_pairs;
        INSERT INTO linked.vectors {vectors_sql(con, config, '_hh_pairs')};
        DROP TABLE _hh_pairs;""")
    for table in ("linked.vectors", "linked.sample_vectors"):
        if table_exists(con, table):
            _add_level(con, table, hh.exclusive)
    con.execute("DROP TABLE _glinks; DROP TABLE _hh")
    return added


def _add_signature_pairs(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> None:
    """Add to _glinks the member pairs of two groups that agree on the family signature (birth
    date and sex) where nothing else can compare them: one record has no name (a TANF file),
    the other no SSN. One such pair is a coincidence among a million records; two (a mother
    and her child) agreeing across the same two groups are the family, and each lends the
    other support - unless the two groups are unrelated while one of them already links
    elsewhere: at a million records two coincidences between such groups happen thousands of
    times (and never in the truth of a related pair of groups), so they need
    `signature_min_members_elsewhere` agreements."""
    hh = config.household
    keys = ", ".join(f"k{i}" for i in range(len(hh.signature)))
    select = ", ".join(f"({expr}) AS k{i}" for i, expr in enumerate(hh.signature))
    not_null = " AND ".join(f"({expr}) IS NOT NULL" for expr in hh.signature)

    def side(condition: str) -> str:
        return (f"SELECT r.rid, h.gid, {select} FROM linked.records r "
                f"JOIN _hh h USING (rid) WHERE {not_null} AND ({condition})")

    agree = " UNION ".join(
        f"SELECT a.gid AS gx, b.gid AS gy, a.rid AS x, b.rid AS y "
        f"FROM ({side(sides.left)}) a JOIN ({side(sides.right)}) b USING ({keys})"
        for sides in hh.signature_pairs)
    if not agree:
        return
    con.execute(f"""
        INSERT INTO _glinks
        WITH agree AS MATERIALIZED ({agree}),
        counted AS (
            SELECT gx, gy, least(count(DISTINCT x), count(DISTINCT y)) AS members
            FROM agree GROUP BY gx, gy
            HAVING members >= {hh.signature_min_members}),
        adjacent AS MATERIALIZED (SELECT DISTINCT gx, gy FROM _glinks),
        related AS (  -- a confident link joins the two groups, directly or through a third
            SELECT gx, gy FROM counted JOIN adjacent USING (gx, gy)
            UNION
            SELECT c.gx, c.gy FROM counted c
            JOIN adjacent a ON a.gx = c.gx JOIN adjacent b ON b.gx = c.gy AND b.gy = a.gy),
        elsewhere AS (SELECT DISTINCT gx AS gid FROM adjacent WHERE gx <> gy),
        families AS (  -- one agreement is a coincidence at scale; two are a family when
                       -- nothing says otherwise
            SELECT gx, gy FROM counted WHERE members >= {hh.signature_min_members_elsewhere}
            UNION SELECT gx, gy FROM related
            UNION SELECT gx, gy FROM counted WHERE gx NOT IN (SELECT gid FROM elsewhere)
                                               AND gy NOT IN (SELECT gid FROM elsewhere)),
        pairs AS (SELECT gx, gy, x, y FROM agree JOIN families USING (gx, gy))
        SELECT * FROM pairs UNION SELECT gy, gx, y, x FROM pairs
        EXCEPT SELECT * FROM _glinks""")


def _add_level(con: duckdb.DuckDBPyConnection, table: str, exclusive: bool) -> None:
    """(Re)write `table` with g_household: 0 two or more other linked pairs join the two
    records' groups, 1 one, 2 none although both records have a group with others, else -1.

    With `exclusive`, level 3 comes first: either record already links to *another* member of
    the other record's groups. Most such pairs are a sibling or a parent of the one it links
    to; counted with the others, they made "two or more linked" common among non-matches,
    and its weight too low for the one nameless record of a family left to link. A member
    that is the other record itself again (a TANF case holds a child once a month, and those
    records link to each other) does not count: linking to it is no sign of someone else."""
    # the exclusive level is the one after the household labels (vectors.HOUSEHOLD_EXCLUSIVE)
    taken, taken_sql, again = "", "", ""
    if exclusive:
        taken = f"WHEN s.taken THEN {len(HOUSEHOLD_LABELS)} "
        taken_sql = """, bool_or((g.x = v.rid_l AND g.y <> v.rid_r AND again_r.x IS NULL)
                       OR (g.y = v.rid_r AND g.x <> v.rid_l AND again_l.x IS NULL)) AS taken"""
        again = """LEFT JOIN _same again_r ON again_r.x = g.y AND again_r.y = v.rid_r
        LEFT JOIN _same again_l ON again_l.x = g.x AND again_l.y = v.rid_l"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _same AS  -- confident links inside one group
        SELECT DISTINCT x, y FROM _glinks WHERE gx = gy;
        CREATE OR REPLACE TEMP TABLE _support AS
        SELECT v.rid_l, v.rid_r,
               count(DISTINCT g.x::BIGINT * 4294967296 + g.y) FILTER (
                   WHERE g.x NOT IN (v.rid_l, v.rid_r) AND g.y NOT IN (v.rid_l, v.rid_r))
                   AS support{taken_sql}
        FROM {table} v
        JOIN _hh ma ON ma.rid = v.rid_l
        JOIN _hh mb ON mb.rid = v.rid_r
        JOIN _glinks g ON g.gx = ma.gid AND g.gy = mb.gid
        {again}
        GROUP BY ALL;
        DROP TABLE _same;
        CREATE OR REPLACE TABLE {table} AS
        SELECT v.* EXCLUDE (g_household),
               CASE {taken}WHEN s.support >= 2 THEN 0 WHEN s.support = 1 THEN 1
                    WHEN v.rid_l IN (SELECT rid FROM _hh) AND v.rid_r IN (SELECT rid FROM _hh)
                    THEN 2 ELSE -1 END::TINYINT AS g_household
        FROM (SELECT *, NULL AS g_household FROM {table}) v
        LEFT JOIN _support s USING (rid_l, rid_r);
        DROP TABLE _support;""")
