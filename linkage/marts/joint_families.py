"""marts.joint_families: families active in two systems or more, summarized for a liaison."""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.open_groups import open_groups_sql
from linkage.families.settings import MartsConfig
from linkage.marts.people import PEOPLE


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.joint_families AS
        WITH open_groups AS (
            SELECT DISTINCT m.family_id, m.system, m.group_type || ':' || m.group_id AS grp
            FROM families.members m JOIN ({open_groups_sql(day)}) o USING (group_type, group_id)),
        people AS (
            SELECT m.family_id, m.person_id, any_value(n.name) AS name, any_value(n.dob) AS dob,
                   list(DISTINCT m.system || ':' || m.role ORDER BY m.system || ':' || m.role)
                       AS roles
            FROM families.members m LEFT JOIN {PEOPLE} n USING (person_id)
            GROUP BY m.family_id, m.person_id)
        SELECT f.family_id, f.systems, array_length(f.systems) AS n_systems, f.n_persons,
               f.open_cw_case,
               (SELECT list(struct_pack(person_id := p.person_id, name := p.name,
                                        dob := p.dob, roles := p.roles)
                            ORDER BY p.dob NULLS LAST, p.person_id)
                FROM people p WHERE p.family_id = f.family_id) AS members,
               (SELECT list(DISTINCT o.grp ORDER BY o.grp) FROM open_groups o
                WHERE o.family_id = f.family_id) AS open_cases,
               (SELECT list(struct_pack(system := s.system, last_seen := s.last_seen)
                            ORDER BY s.system)
                FROM (SELECT system, max(coalesce(until, since)) AS last_seen
                      FROM families.members x WHERE x.family_id = f.family_id
                      GROUP BY system) s) AS latest_by_system,
               (SELECT list(DISTINCT x.record_id ORDER BY x.record_id)
                FROM families.members x WHERE x.family_id = f.family_id) AS records,
               f.first_seen, f.last_seen, f.oversized
        FROM families.families f
        WHERE array_length(f.systems) >= {config.joint_families.min_systems}
        ORDER BY f.open_cw_case DESC, array_length(f.systems) DESC, f.last_seen DESC,
                 f.family_id""")
