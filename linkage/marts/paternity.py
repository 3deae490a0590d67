"""marts.paternity: children in foster care with no legal father on their CW case, with what
child support knows of the father (the man it names, paternity status and date) and where he
was last seen, so that CW can have paternity established (a legal father is a party to the case
and a placement resource, and support follows paternity).

One row per child in care and father CS names on the child's CS case (NP or PF); a child whom
CS names no father for has one row with the CS columns empty. `cw_father_types` says which
fathers the CW case does list (alleged, putative, biological) without a legal one.
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig
from linkage.marts.alerts import in_list, names_sql
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    r = config.paternity
    statuses = " ".join(f"WHEN {literal(code)} THEN {literal(words)}"
                        for code, words in r.statuses.items())
    status_words = f"CASE s.status {statuses} ELSE s.status END" if statuses else "s.status"
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.paternity AS
        WITH in_care AS (
            SELECT p.person_id AS child_person_id, e.record_id AS cw_child_record_id,
                   e.group_id AS cw_case_id, e.details->>'removal_id' AS removal_id,
                   e.start_date AS removal_date
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.removal_event)} AND e.start_date <= DATE '{day}'
              AND (e.end_date IS NULL OR e.end_date > DATE '{day}')),
        father_types AS (
            SELECT group_id AS cw_case_id,
                   list(DISTINCT lower(details->>'father_type')
                        ORDER BY lower(details->>'father_type')) AS types
            FROM staged.events WHERE event_type = {literal(r.father_type_event)}
            GROUP BY 1),
        legal AS (
            SELECT DISTINCT group_id AS cw_case_id FROM staged.events
            WHERE event_type = {literal(r.father_type_event)}
              AND (details->>'father_type') IN ({in_list(r.legal_father_types)})),
        children AS (SELECT * FROM in_care
                     WHERE cw_case_id NOT IN (SELECT cw_case_id FROM legal)),
        cs_children AS (
            SELECT DISTINCT group_id AS cs_case_id, person_id AS child_person_id, record_id
            FROM families.members WHERE group_type = 'cs_case' AND role = 'child'
              AND person_id IN (SELECT child_person_id FROM children)),
        fathers AS (
            SELECT k.child_person_id, k.cs_case_id, k.record_id AS cs_child_record_id,
                   f.person_id AS father_person_id, f.role AS father_role_in_cs
            FROM cs_children k
            JOIN families.members f
              ON f.group_type = 'cs_case' AND f.group_id = k.cs_case_id
             AND f.role IN ('non_custodial_parent', 'putative_father')
            JOIN families.relationships rel
              ON rel.parent_person_id = f.person_id AND rel.child_person_id = k.child_person_id
             AND rel.relation IN ({in_list(r.father_relations)})),
        status AS (
            SELECT record_id, group_id AS cs_case_id,
                   arg_max(details->>'paternity_status', (start_date, details->>'paternity_status'))
                       FILTER (WHERE start_date IS NOT NULL) AS status,
                   max(start_date) AS established_on
            FROM staged.events WHERE event_type = {literal(r.paternity_event)} GROUP BY 1, 2),
        seen AS (
            SELECT p.person_id, e.start_date AS seen_on, 'cs locate' AS seen_in,
                   concat_ws(', ', e.details->>'address_line1', e.details->>'city',
                             e.details->>'zip', nullif(e.details->>'employer_name', ''))
                       AS address
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.locate_event)}
              AND p.person_id IN (SELECT father_person_id FROM fathers)
            UNION ALL
            SELECT p.person_id, s.last_seen, s.system,
                   concat_ws(', ', s.address_street, s.city, s.zip5)
            FROM staged.person_records s JOIN linked.persons p USING (record_id)
            WHERE p.person_id IN (SELECT father_person_id FROM fathers)
              AND coalesce(s.address_street, s.zip5) IS NOT NULL),
        last_seen AS (
            SELECT person_id, max(seen_on) AS last_seen_on,
                   -- one sighting's place and address, the same on a tie every time
                   arg_max(seen_in, (seen_on, seen_in, address))
                       FILTER (WHERE seen_on IS NOT NULL) AS last_seen_in,
                   arg_max(address, (seen_on, seen_in, address))
                       FILTER (WHERE seen_on IS NOT NULL) AS last_seen_address
            FROM seen GROUP BY 1),
        names AS ({names_sql('SELECT child_person_id FROM children UNION '
                             'SELECT father_person_id FROM fathers')}),
        rows AS (
            SELECT c.*, f.cs_case_id, f.cs_child_record_id, f.father_person_id,
                   f.father_role_in_cs
            FROM children c LEFT JOIN fathers f USING (child_person_id))
        SELECT x.cw_case_id, x.removal_id, x.removal_date, x.child_person_id,
               cn.name AS child_name, cn.birth_date AS child_birth_date,
               coalesce(t.types, []) AS cw_father_types, x.cs_case_id,
               x.father_person_id, fn.name AS father_name, fn.birth_date AS father_birth_date,
               replace(x.father_role_in_cs, '_', ' ') AS father_role_in_cs,
               {status_words} AS paternity_status, s.established_on AS paternity_date,
               l.last_seen_on, l.last_seen_in, l.last_seen_address,
               CASE WHEN x.father_person_id IS NULL
                    THEN 'in foster care since ' || x.removal_date || ', no legal father on the '
                         || 'CW case, and CS names no father'
                    ELSE 'in foster care since ' || x.removal_date || ', no legal father on the '
                         || 'CW case; CS names a ' || replace(x.father_role_in_cs, '_', ' ')
                         || coalesce(' (paternity ' || {status_words} || ')', '')
               END AS why,
               x.cw_child_record_id, x.cs_child_record_id
        FROM rows x
        LEFT JOIN father_types t USING (cw_case_id)
        LEFT JOIN status s ON s.record_id = x.cs_child_record_id AND s.cs_case_id = x.cs_case_id
        LEFT JOIN last_seen l ON l.person_id = x.father_person_id
        LEFT JOIN names cn ON cn.person_id = x.child_person_id
        LEFT JOIN names fn ON fn.person_id = x.father_person_id
        ORDER BY x.cw_case_id, x.child_person_id, x.cs_case_id""")
