"""`families.*`: persons joined into families through the cases and households they share.

A family is a connected group of cases and households (CW case, CS case, HMIS household, TANF
case) that share linked persons. Two rules keep one hub from chaining unrelated families into
a giant one, and every family they touch is reported (`oversized`, `hubs`):
- a group with more than `max_group_persons` persons (a shelter recorded as one household)
  joins nobody: it stays a family of its own;
- a family of more than `max_family_persons` persons is cut at its hubs, the persons on at
  least `hub_min_groups` of its groups (a grandmother on many cases, a wrongly merged
  person): they stay members of each of their groups' families but no longer join them.
Family ids are stable across runs the way person ids are (linkage.stable_ids).
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from linkage.families.open_groups import open_groups_sql
from linkage.families.settings import MartsConfig
from linkage.graph import label_components
from linkage.stable_ids import IdTables, assign_stable_ids
from linkage.warehouse import literal, table_columns, table_exists

# A family is the set of its groups: each case or household is in exactly one family, while a
# hub person is in several.
FAMILY_IDS = IdTables("families.family_ids", "families.family_id_history", "group_key",
                      "family_id", "F")


def as_of(con: duckdb.DuckDBPyConnection, config: MartsConfig) -> date:
    """The date the lists are as of: configured, else the latest date the extracts show, and
    never after today (a date typed decades ahead in an extract must not set it)."""
    if config.as_of:
        return config.as_of
    latest = con.execute("""
        SELECT max(d) FROM (
            SELECT max(start_date) AS d FROM staged.events
            UNION ALL SELECT max(coalesce(end_date, start_date)) FROM staged.memberships
            UNION ALL SELECT max(end_date) FROM staged.events)""").fetchall()[0][0]
    return min(latest, date.today()) if latest else date.today()


def _group_components(con: duckdb.DuckDBPyConnection, config: MartsConfig) -> dict[str, int]:
    """_family_of(gid, family): connected groups, with the two hub rules applied."""
    f = config.families
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pg AS
        SELECT DISTINCT p.person_id, g.gid, g.n_persons
        FROM _memberships m JOIN linked.persons p USING (record_id)
        JOIN (SELECT gid, count(DISTINCT person_id) AS n_persons FROM _memberships
              JOIN linked.persons USING (record_id) GROUP BY gid) g USING (gid);
        CREATE OR REPLACE TEMP TABLE _pid AS
        SELECT person_id, (row_number() OVER (ORDER BY person_id))::INTEGER - 1 AS pix
        FROM (SELECT DISTINCT person_id FROM _pg);
    """)
    n_groups = con.execute("SELECT max(gid) + 1 FROM _memberships").fetchall()[0][0] or 0
    # groups are nodes 0..n_groups-1, persons the nodes after them
    nodes = (f"SELECT DISTINCT gid AS node FROM _memberships "
             f"UNION ALL SELECT {n_groups} + pix FROM _pid")
    edges = f"""
        SELECT g.gid AS a, {n_groups} + p.pix AS b FROM _pg g JOIN _pid p USING (person_id)
        WHERE g.n_persons <= {f.max_group_persons}
          AND p.pix NOT IN (SELECT pix FROM _hub_pix)"""
    con.execute("CREATE OR REPLACE TEMP TABLE _hub_pix (pix INTEGER)")
    for _ in range(3):  # cut at the hubs of oversized families, then look again
        label_components(con, nodes, edges, "_group_label")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _family_of AS
            SELECT CAST(node AS INTEGER) AS gid, comp AS family FROM _group_label
            WHERE node < {n_groups};
            DROP TABLE _group_label;
            CREATE OR REPLACE TEMP TABLE _new_hubs AS
            WITH sized AS (SELECT family, count(DISTINCT person_id) AS n FROM _pg
                           JOIN _family_of USING (gid) GROUP BY family)
            SELECT p.pix FROM _pg g JOIN _family_of USING (gid)
            JOIN sized USING (family) JOIN _pid p USING (person_id)
            WHERE sized.n > {f.max_family_persons}
              AND p.pix NOT IN (SELECT pix FROM _hub_pix)
            GROUP BY p.pix HAVING count(DISTINCT g.gid) >= {f.hub_min_groups}""")
        if not con.execute("SELECT count(*) FROM _new_hubs").fetchall()[0][0]:
            break
        con.execute("INSERT INTO _hub_pix SELECT pix FROM _new_hubs")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _hub_persons AS
        SELECT person_id FROM _pid WHERE pix IN (SELECT pix FROM _hub_pix);
        DROP TABLE _new_hubs""")
    hubs = con.execute("SELECT count(*) FROM _hub_pix").fetchall()[0][0]
    con.execute("DROP TABLE _hub_pix")
    return {"hubs": hubs}


def _forget_person_keyed_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Family ids were first kept per person, which a hub on several families broke; a
    warehouse still holding those starts its family ids afresh (the history keeps the old)."""
    if table_exists(con, FAMILY_IDS.table) and \
            FAMILY_IDS.member not in table_columns(con, FAMILY_IDS.table):
        con.execute(f"DROP TABLE {FAMILY_IDS.table}")


def build_families(con: duckdb.DuckDBPyConnection, config: MartsConfig,
                   run_id: str | None = None) -> dict[str, int]:
    """Write families.members, families.families, families.relationships."""
    run_id = run_id or datetime.now().strftime("%Y%m%dT%H%M%S")
    day = as_of(con, config)
    con.execute("""
        CREATE SCHEMA IF NOT EXISTS families;
        -- the memberships linking numbered (gid, group_key = group_type:group_id)
        CREATE OR REPLACE TEMP TABLE _memberships AS
        SELECT r.record_id, r.system, split_part(m.group_key, ':', 1) AS group_type,
               substr(m.group_key, strpos(m.group_key, ':') + 1) AS group_id, m.role,
               m.start_date, m.end_date, m.gid
        FROM linked.memberships m JOIN linked.records r USING (rid);
    """)
    counts = _group_components(con, config)
    _forget_person_keyed_ids(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _family_groups AS
        SELECT DISTINCT m.group_type || ':' || m.group_id AS group_key, f.family AS cluster
        FROM _memberships m JOIN _family_of f USING (gid)""")
    counts |= assign_stable_ids(con, "_family_groups", FAMILY_IDS, run_id)
    f = config.families
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _family_id AS
        SELECT DISTINCT g.cluster AS family, i.family_id
        FROM _family_groups g JOIN families.family_ids i USING (group_key)""")
    con.execute(f"""
        CREATE OR REPLACE TABLE families.members AS
        SELECT fi.family_id, p.person_id, m.role, m.system, m.group_type, m.group_id,
               m.start_date AS since, m.end_date AS until, m.record_id,
               p.person_id IN (SELECT person_id FROM _hub_persons) AS hub
        FROM _memberships m JOIN linked.persons p USING (record_id)
        JOIN _family_of f USING (gid) JOIN _family_id fi ON fi.family = f.family
        ORDER BY fi.family_id, p.person_id;
        CREATE OR REPLACE TABLE families.families AS
        SELECT family_id,
               list(DISTINCT system ORDER BY system) AS systems,
               count(DISTINCT person_id) AS n_persons,
               count(DISTINCT group_type || ':' || group_id) AS n_groups,
               bool_or(group_type = 'cw_case' AND (group_type, group_id) IN (
                   SELECT (group_type, group_id) FROM ({open_groups_sql(day)}))) AS open_cw_case,
               count(DISTINCT system) >= {config.joint_families.min_systems} AS joint,
               count(DISTINCT person_id) > {f.max_family_persons}
                   OR bool_or(group_type || ':' || group_id IN (
                       SELECT group_type || ':' || group_id FROM _memberships
                       JOIN linked.persons USING (record_id)
                       GROUP BY ALL HAVING count(DISTINCT person_id) > {f.max_group_persons}))
                   AS oversized,
               list(DISTINCT person_id ORDER BY person_id) FILTER (WHERE hub) AS hubs,
               min(since) AS first_seen, max(coalesce(until, since)) AS last_seen
        FROM families.members GROUP BY family_id ORDER BY family_id;
    """)
    _relationships(con, config)
    counts |= dict(zip(("families", "joint", "oversized", "largest"), con.execute(
        "SELECT count(*), count(*) FILTER (WHERE joint), count(*) FILTER (WHERE oversized), "
        "max(n_persons) FROM families.families").fetchall()[0], strict=True))
    con.execute("DROP TABLE _memberships; DROP TABLE _pg; DROP TABLE _pid; DROP TABLE _family_of; "
                "DROP TABLE _family_groups; DROP TABLE _family_id; DROP TABLE _hub_persons")
    return counts


def _relationships(con: duckdb.DuckDBPyConnection, config: MartsConfig) -> None:
    """families.relationships(parent, child, relation, systems, groups): parent -> child edges
    read off the roles in each group, with the systems that support each edge."""
    rules = [f"({literal(system)}, {literal(role)}, {literal(relation)})"
             for system, roles in config.families.parent_roles.items()
             for role, relation in roles.items()]
    con.execute(f"""
        CREATE OR REPLACE TABLE families.relationships AS
        WITH rules(system, role, relation) AS (VALUES {', '.join(rules)}),
        parents AS (SELECT m.*, r.relation FROM families.members m JOIN rules r
                    USING (system, role)),
        children AS (SELECT * FROM families.members WHERE role = 'child')
        SELECT p.person_id AS parent_person_id, c.person_id AS child_person_id,
               p.relation, list(DISTINCT p.system ORDER BY p.system) AS systems,
               list(DISTINCT p.group_type || ':' || p.group_id
                    ORDER BY p.group_type || ':' || p.group_id) AS groups,
               min(p.family_id) AS family_id
        FROM parents p JOIN children c
          ON c.group_type = p.group_type AND c.group_id = p.group_id
         AND c.person_id <> p.person_id
        GROUP BY ALL""")
