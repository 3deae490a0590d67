"""marts.alerts: what changed since the last published run, each alert addressed to the agency
that must act, with why in words.

- `placement_changed` (to CS): a child on a CS case with an order moved placement or got a new
  caregiver (any placement after a removal's first): the custodial party and distribution
  should follow the child.
- `entered_care_while_cs_pays` (to CS): a child was removed into foster care while a CS order
  pays the child's parent (the custodial party is the child's mother or father).
- `family_in_shelter` (to CW): a household sharing a person with an open CW case entered an
  emergency shelter after the case opened.
- `absent_parent_located` (to CW): CS located a parent it names (non-custodial parent, putative
  father) of a child on an open CW case who is not on that case.
- `paternity_established` / `putative_father_named` (to CW): for a child in foster care, CS
  established paternity, or names a putative father.

Why compare with state rather than dates: the extracts carry an event's date, not the day it
was entered, so "new since the last run" is "not in the last run's state". A nightly run
starts from a copy of the current version, so the state the last run left (marts.alert_facts:
every alert-worthy fact the warehouse holds, with the day it was raised) is still here when
the marts are rebuilt. A fact not in it is raised today; one in it keeps its day. A first run
(no state) raises the facts of the extracts' last `first_run_days` days on their own dates. An
alert stays on marts.alerts for `keep_days` after it was raised, `new_since_last_run` only in
the ingest that raised it, so building the marts again on the same ingest changes nothing.
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig
from linkage.marts.hmis_stays import hmis_stays_sql
from linkage.warehouse import literal, table_exists

FACTS = "marts.alert_facts"


def in_list(values: list[str]) -> str:
    return ", ".join(literal(v) for v in values)


def names_sql(persons: str) -> str:
    """SELECT person_id, name, birth_date for the person ids `persons` selects: the name of
    the person's most recently seen record, the birth date most of their records give. Ties
    go to the first record id and the earliest date, so that every build lists the same (a
    child whose two records give two birth dates once came out either way)."""
    return f"""
        WITH r AS (
            SELECT p.person_id, r.record_id, r.last_seen, r.dob,
                   concat_ws(' ', r.first_name_raw, r.last_name_raw) AS name
            FROM linked.persons p JOIN staged.person_records r USING (record_id)
            WHERE p.person_id IN ({persons})),
        dobs AS (SELECT person_id, dob, count(*) AS n FROM r WHERE dob IS NOT NULL
                 GROUP BY person_id, dob)
        SELECT n.person_id, n.name, d.birth_date FROM (
            SELECT person_id, first(name ORDER BY last_seen DESC NULLS LAST, record_id) AS name
            FROM r GROUP BY person_id) n
        LEFT JOIN (SELECT person_id, first(dob ORDER BY n DESC, dob) AS birth_date
                   FROM dobs GROUP BY person_id) d USING (person_id)"""


def ingest_mark(con: duckdb.DuckDBPyConnection) -> str:
    """When the staged layer was loaded: the same for every build of the marts on one ingest."""
    loaded = con.execute("SELECT max(loaded_at) FROM staged.files").fetchall()[0][0]
    return str(loaded)


def _facts_sql(config: MartsConfig, day: date) -> str:
    """Every alert-worthy fact the warehouse holds now, one row per alert."""
    a = config.alerts
    return f"""
        WITH persons_of AS (SELECT record_id, person_id FROM linked.persons),
        orders AS (
            SELECT group_id AS cs_case_id FROM staged.groups
            WHERE group_type = 'cs_case'
              AND (attributes->>{literal(a.order_attribute)}) = {literal(a.order_value)}),
        cs_children AS (
            SELECT DISTINCT group_id AS cs_case_id, person_id, record_id
            FROM families.members WHERE group_type = 'cs_case' AND role = 'child'),
        removals AS (
            SELECT p.person_id AS child_person_id, e.group_id AS cw_case_id,
                   e.details->>'removal_id' AS removal_id, e.start_date, e.end_date
            FROM staged.events e JOIN persons_of p USING (record_id)
            WHERE e.event_type = {literal(a.removal_event)}),
        in_care AS (
            SELECT * FROM removals
            WHERE start_date <= DATE '{day}'
              AND (end_date IS NULL OR end_date > DATE '{day}')),
        placements AS (
            SELECT p.person_id AS child_person_id, e.group_id AS removal_id,
                   e.details->>'placement_id' AS placement_id, e.start_date,
                   lower(replace(e.details->>'placement_setting', '_', ' ')) AS setting,
                   coalesce(e.details->>'caregiver_person_id', '') AS caregiver_id,
                   row_number() OVER (PARTITION BY e.group_id
                                      ORDER BY e.start_date, e.details->>'placement_id') AS n
            FROM staged.events e JOIN persons_of p USING (record_id)
            WHERE e.event_type = {literal(a.placement_event)}),
        open_cw AS (
            SELECT group_id AS cw_case_id, start_date FROM staged.groups
            WHERE group_type = 'cw_case' AND start_date <= DATE '{day}'
              AND (end_date IS NULL OR end_date > DATE '{day}')),
        cw_members AS (
            SELECT DISTINCT group_id AS cw_case_id, person_id, role FROM families.members
            WHERE group_type = 'cw_case' AND group_id IN (SELECT cw_case_id FROM open_cw)),
        paying AS (
            SELECT k.cs_case_id, k.person_id AS child_person_id,
                   c.person_id AS parent_person_id, min(rel.relation) AS relation
            FROM cs_children k
            JOIN families.members c
              ON c.group_type = 'cs_case' AND c.group_id = k.cs_case_id
             AND c.role IN ({in_list(a.custodial_roles)})
            JOIN families.relationships rel
              ON rel.parent_person_id = c.person_id AND rel.child_person_id = k.person_id
             AND rel.relation IN ({in_list(a.paying_relations)})
            WHERE k.cs_case_id IN (SELECT cs_case_id FROM orders)
            GROUP BY ALL),
        cs_fathers AS (
            SELECT DISTINCT group_id AS cs_case_id, person_id, role, since FROM families.members
            WHERE group_type = 'cs_case'
              AND role IN ('non_custodial_parent', 'putative_father')),
        established AS (
            SELECT record_id, group_id AS cs_case_id, min(start_date) AS established
            FROM staged.events
            WHERE event_type = {literal(a.paternity_event)}
              AND (details->>'paternity_status') = 'E' AND start_date IS NOT NULL
            GROUP BY ALL)
        SELECT DISTINCT 'placement_changed' AS alert_type,
               concat_ws('|', p.placement_id, p.caregiver_id, k.cs_case_id) AS fact_key,
               p.start_date AS event_date, p.child_person_id, cg.person_id AS other_person_id,
               r.cw_case_id, k.cs_case_id, p.removal_id, p.placement_id,
               NULL AS hmis_household_id, NULL AS locate_id,
               format('the child moved to {{}} on {{}}{{}}; CS case {{}} has an order: the '
                      'custodial party and distribution should follow the child', p.setting,
                      p.start_date, CASE WHEN p.caregiver_id <> ''
                                         THEN ', with a relative caregiver' ELSE '' END,
                      k.cs_case_id) AS why
        FROM placements p
        JOIN cs_children k ON k.person_id = p.child_person_id
        JOIN removals r ON r.removal_id = p.removal_id
        LEFT JOIN persons_of cg ON cg.record_id = 'cw:' || p.caregiver_id
        WHERE p.n > 1 AND k.cs_case_id IN (SELECT cs_case_id FROM orders)
        UNION ALL
        SELECT 'entered_care_while_cs_pays', r.removal_id || '|' || y.cs_case_id,
               r.start_date, r.child_person_id, y.parent_person_id, r.cw_case_id,
               y.cs_case_id, r.removal_id, NULL, NULL, NULL,
               format('the child entered foster care on {{}}; CS case {{}} pays the child''s '
                      '{{}} under an order: support should be redirected', r.start_date,
                      y.cs_case_id, y.relation)
        FROM removals r JOIN paying y USING (child_person_id)
        UNION ALL
        SELECT 'family_in_shelter', o.cw_case_id || '|' || s.hmis_household_id,
               min(s.entry_date), NULL, NULL, o.cw_case_id, NULL, NULL, NULL,
               s.hmis_household_id, NULL,
               format('the family on open CW case {{}} entered an emergency shelter on {{}}',
                      o.cw_case_id, min(s.entry_date))
        FROM open_cw o JOIN cw_members c USING (cw_case_id)
        JOIN families.members h ON h.group_type = 'hmis_household' AND h.person_id = c.person_id
        JOIN ({hmis_stays_sql(a.hmis_event)}) s ON s.hmis_household_id = h.group_id
        WHERE s.project_type IN ({in_list(a.shelter_project_types)})
          AND s.entry_date >= o.start_date
        GROUP BY o.cw_case_id, s.hmis_household_id
        UNION ALL
        SELECT 'absent_parent_located', c.cw_case_id || '|' || (e.details->>'locate_id'),
               min(e.start_date), NULL, rel.parent_person_id, c.cw_case_id, NULL, NULL,
               NULL, NULL, e.details->>'locate_id',
               -- the locate's first record (a locate on two of a parent's records reads
               -- the same on every run)
               format('CS located a parent of a child on the case, who is not on it, on {{}}: '
                      '{{}}', min(e.start_date),
                      arg_min(concat_ws(', ', e.details->>'address_line1', e.details->>'city',
                                        e.details->>'zip',
                                        nullif(e.details->>'employer_name', '')),
                              (e.start_date, e.record_id)))
        FROM cw_members c
        JOIN families.relationships rel
          ON rel.child_person_id = c.person_id
         AND rel.relation IN ({in_list(a.located_relations)})
        JOIN persons_of pr ON pr.person_id = rel.parent_person_id
        JOIN staged.events e
          ON e.record_id = pr.record_id AND e.event_type = {literal(a.locate_event)}
        WHERE c.role = 'child'
          AND rel.parent_person_id NOT IN (SELECT person_id FROM cw_members m
                                           WHERE m.cw_case_id = c.cw_case_id)
        GROUP BY c.cw_case_id, rel.parent_person_id, e.details->>'locate_id'
        UNION ALL
        SELECT CASE WHEN f.role = 'putative_father' THEN 'putative_father_named'
                    ELSE 'paternity_established' END,
               concat_ws('|', k.cs_case_id, k.record_id, f.role),
               CASE WHEN f.role = 'putative_father' THEN f.since ELSE e.established END,
               i.child_person_id, f.person_id, i.cw_case_id, k.cs_case_id, i.removal_id, NULL,
               NULL, NULL,
               CASE WHEN f.role = 'putative_father'
                    THEN format('CS case {{}} names a putative father of this child in '
                                'foster care (since {{}})', k.cs_case_id, f.since)
                    ELSE format('CS established paternity on {{}} (CS case {{}}) for this '
                                'child in foster care', e.established, k.cs_case_id)
               END
        FROM in_care i JOIN cs_children k ON k.person_id = i.child_person_id
        JOIN cs_fathers f USING (cs_case_id)
        LEFT JOIN established e ON e.record_id = k.record_id AND e.cs_case_id = k.cs_case_id
        WHERE f.role = 'putative_father' OR e.established IS NOT NULL"""


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    a = config.alerts
    mark = literal(ingest_mark(con))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _alert_now AS {_facts_sql(config, day)}")
    if table_exists(con, FACTS):  # the state the last run left: compare with it
        raised = f"""
            SELECT n.*,
                   CASE WHEN p.fact_key IS NULL THEN DATE '{day}' ELSE p.raised_on END
                       AS raised_on,
                   CASE WHEN p.fact_key IS NULL THEN {mark} ELSE p.raised_by END AS raised_by
            FROM _alert_now n LEFT JOIN {FACTS} p USING (alert_type, fact_key)"""
    else:  # a first run: the events of the last days, on their own dates
        raised = f"""
            SELECT *, CASE WHEN event_date > DATE '{day}' - {a.first_run_days}
                           THEN event_date END AS raised_on,
                   {mark} AS raised_by
            FROM _alert_now"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _alert_next AS {raised}")
    con.execute(f"CREATE OR REPLACE TABLE {FACTS} AS SELECT * FROM _alert_next "
                f"ORDER BY alert_type, fact_key")
    agency = " ".join(f"WHEN {literal(t)} THEN {literal(g)}" for t, g in a.agency.items())
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.alerts AS
        WITH raised AS (
            SELECT * FROM {FACTS}
            WHERE raised_on IS NOT NULL AND raised_on > DATE '{day}' - {a.keep_days}),
        names AS ({names_sql('SELECT child_person_id FROM raised UNION '
                             'SELECT other_person_id FROM raised')})
        SELECT CASE r.alert_type {agency} END AS agency, r.alert_type,
               r.raised_by = {mark} AS new_since_last_run, r.raised_on, r.event_date, r.why,
               r.child_person_id, c.name AS child_name, c.birth_date AS child_birth_date,
               r.other_person_id, o.name AS other_name, o.birth_date AS other_birth_date,
               r.cw_case_id, r.cs_case_id, r.removal_id, r.placement_id, r.hmis_household_id,
               r.locate_id
        FROM raised r
        LEFT JOIN names c ON c.person_id = r.child_person_id
        LEFT JOIN names o ON o.person_id = r.other_person_id
        ORDER BY agency, new_since_last_run DESC, raised_on DESC, alert_type, cw_case_id,
                 cs_case_id, child_person_id""")
