"""marts.supportive_housing_eligible: families with an open CW case and literal homelessness
in HMIS overlapping it: the target population of the federal supportive-housing
demonstration. One row per family (what a worker acts on): its most urgent open CW case (a
child removed first) with the parent and children on it by name and birth date, the latest
homeless stay of a household that shares a person with one of its cases (a wider family, such
as a father's other household, does not count) in words, why it is on the list, and the
priority rule that applies (linkage.marts.priority).
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.open_groups import open_groups_sql
from linkage.families.settings import MartsConfig
from linkage.marts import priority
from linkage.marts.hmis_stays import hmis_projects_sql, hmis_stays_sql
from linkage.marts.labels import label_sql
from linkage.marts.people import PEOPLE
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    rules = config.supportive_housing_eligible
    types = ", ".join(literal(t) for t in rules.project_types)
    situations = ", ".join(literal(s) for s in rules.living_situations) or "NULL"
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.supportive_housing_eligible AS
        WITH open_cases AS (
            SELECT DISTINCT m.family_id, g.group_id AS cw_case_id, g.start_date AS opened,
                   g.attributes->>'case_plan_goal' AS case_plan_goal
            FROM staged.groups g JOIN families.members m
              ON m.group_type = g.group_type AND m.group_id = g.group_id
            JOIN ({open_groups_sql(day)}) o
              ON o.group_type = g.group_type AND o.group_id = g.group_id
            WHERE g.group_type = 'cw_case'),
        removals AS (
            SELECT DISTINCT e.group_id AS cw_case_id, p.person_id FROM staged.events e
            JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(rules.removal_event)}
              AND (e.end_date IS NULL OR e.end_date > DATE '{day}')),
        removed AS (SELECT DISTINCT cw_case_id FROM removals),
        case_people AS (  -- who is on each open case: the stay must be theirs
            SELECT DISTINCT group_id AS cw_case_id, person_id FROM families.members
            WHERE group_type = 'cw_case'),
        household_people AS (
            SELECT DISTINCT group_id AS hmis_household_id, person_id FROM families.members
            WHERE group_type = 'hmis_household'),
        stays AS (
            SELECT m.family_id, h.* FROM ({hmis_stays_sql(rules.hmis_event)}) h
            JOIN linked.persons p USING (record_id)
            JOIN (SELECT DISTINCT family_id, person_id FROM families.members) m
              USING (person_id)
            WHERE h.project_type IN ({types}) OR h.living_situation IN ({situations})),
        rows AS (
            SELECT c.cw_case_id, c.family_id, c.opened AS cw_case_opened, c.case_plan_goal,
                   c.cw_case_id IN (SELECT cw_case_id FROM removed) AS child_removed,
                   s.hmis_household_id, min(s.entry_date) AS entry_date,
                   max(s.exit_date) AS exit_date,
                   -- the household's first stay's (the same on every run and engine)
                   arg_min(s.project_type, (s.entry_date, s.enrollment_id)) AS project_type,
                   arg_min(s.living_situation, (s.entry_date, s.enrollment_id))
                       AS living_situation,
                   arg_min(s.project_id, (s.entry_date, s.enrollment_id)) AS project_id,
                   list(DISTINCT s.record_id ORDER BY s.record_id) AS evidence_records
            FROM open_cases c JOIN stays s USING (family_id)
            WHERE EXISTS (SELECT 1 FROM case_people cp JOIN household_people hp
                          USING (person_id)
                          WHERE cp.cw_case_id = c.cw_case_id
                            AND hp.hmis_household_id = s.hmis_household_id)
              AND s.entry_date <= DATE '{day}'
              AND s.entry_date >= DATE '{day}' - INTERVAL {rules.window_days} DAY
              AND (s.exit_date IS NULL OR s.exit_date >= c.opened)
            GROUP BY ALL),
        -- one stay recorded by two providers (two households, overlapping dates) is one stay
        starts AS (
            SELECT *, coalesce(entry_date > max(coalesce(exit_date, DATE '9999-12-31')) OVER (
                PARTITION BY cw_case_id ORDER BY entry_date, hmis_household_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)::INTEGER AS new_stay
            FROM rows),
        islands AS (
            SELECT *, sum(new_stay) OVER (PARTITION BY cw_case_id
                                          ORDER BY entry_date, hmis_household_id) AS stay_no
            FROM starts),
        merged AS (
            SELECT cw_case_id, any_value(family_id) AS family_id,
                   any_value(cw_case_opened) AS cw_case_opened,
                   any_value(case_plan_goal) AS case_plan_goal,
                   any_value(child_removed) AS child_removed,
                   arg_min(hmis_household_id, (entry_date, hmis_household_id))
                       AS hmis_household_id,
                   list(hmis_household_id ORDER BY entry_date, hmis_household_id)
                       AS hmis_households,
                   min(entry_date) AS entry_date,
                   CASE WHEN bool_or(exit_date IS NULL) THEN NULL ELSE max(exit_date) END
                       AS exit_date,
                   arg_min(project_type, (entry_date, hmis_household_id)) AS project_type,
                   arg_min(living_situation, (entry_date, hmis_household_id)) AS living_situation,
                   arg_min(project_id, (entry_date, hmis_household_id)) AS project_id,
                   list_sort(flatten(list(evidence_records))) AS evidence_records
            FROM islands GROUP BY cw_case_id, stay_no),
        counted AS (SELECT *, count(*) OVER (PARTITION BY cw_case_id) AS stays FROM merged),
        families AS (  -- one row per family: its most urgent case, its latest stay
            SELECT family_id,
                   arg_min(cw_case_id, (NOT child_removed, cw_case_opened, cw_case_id))
                       AS cw_case_id,
                   list(DISTINCT cw_case_id ORDER BY cw_case_id) AS cw_case_ids,
                   bool_or(child_removed) AS child_removed, max(stays) AS stays,
                   bool_or(exit_date IS NULL) AS homeless_now,
                   list_sort(list_distinct(flatten(list(hmis_households))))
                       AS hmis_households,
                   arg_max(struct_pack(hmis_household_id, entry_date, exit_date, project_type,
                                       living_situation, project_id),
                           (entry_date, hmis_household_id)) AS latest
            FROM counted GROUP BY family_id),
        parents AS (  -- the case's mother, else its father
            SELECT m.group_id AS cw_case_id,
                   arg_min(struct_pack(name := n.name, dob := n.dob, role := m.role),
                           (m.role <> 'mother', n.dob, m.person_id)) AS parent
            FROM families.members m JOIN {PEOPLE} n USING (person_id)
            WHERE m.group_type = 'cw_case' AND m.role IN ('mother', 'father')
            GROUP BY m.group_id),
        children AS (
            SELECT m.group_id AS cw_case_id,
                   list(DISTINCT struct_pack(name := n.name, dob := n.dob,
                                             removed := r.person_id IS NOT NULL)
                        ORDER BY struct_pack(name := n.name, dob := n.dob,
                                             removed := r.person_id IS NOT NULL)) AS children
            FROM families.members m JOIN {PEOPLE} n USING (person_id)
            LEFT JOIN removals r ON r.cw_case_id = m.group_id AND r.person_id = m.person_id
            WHERE m.group_type = 'cw_case' AND m.role = 'child'
            GROUP BY m.group_id),
        labelled AS (
            SELECT f.family_id, f.cw_case_id, f.cw_case_ids,
                   g.attributes->>'county_fips' AS cw_county_fips,
                   g.start_date AS cw_case_opened,
                   g.attributes->>'case_plan_goal' AS case_plan_goal,
                   pa.parent.name AS parent_name, pa.parent.dob AS parent_dob,
                   pa.parent.role AS parent_role, ch.children, f.child_removed,
                   f.latest.hmis_household_id AS hmis_household_id, f.hmis_households,
                   pr.project_name AS hmis_project, pr.organization_name AS hmis_organization,
                   f.latest.entry_date AS entry_date, f.latest.exit_date AS exit_date,
                   {label_sql('hud_project_type', 'f.latest.project_type')} AS project_type,
                   {label_sql('hud_living_situation', 'f.latest.living_situation')}
                       AS living_situation,
                   f.stays, f.homeless_now
            FROM families f
            JOIN staged.groups g ON g.group_type = 'cw_case' AND g.group_id = f.cw_case_id
            LEFT JOIN parents pa USING (cw_case_id)
            LEFT JOIN children ch USING (cw_case_id)
            LEFT JOIN ({hmis_projects_sql()}) pr ON pr.project_id = f.latest.project_id)
        SELECT *,
               concat('Literal homelessness in HMIS while the family has an open CW case: case ',
                      cw_case_id, ' opened ', strftime(cw_case_opened, '%Y-%m-%d'),
                      coalesce(', goal ' || lower(replace(case_plan_goal, '_', ' ')), ''),
                      CASE WHEN child_removed THEN ', a child removed' ELSE '' END, '; ',
                      CASE WHEN homeless_now THEN 'in ' ELSE 'was in ' END, project_type,
                      coalesce(' (' || hmis_project || ')', ''), ' from ',
                      strftime(entry_date, '%Y-%m-%d'),
                      coalesce(' to ' || strftime(exit_date, '%Y-%m-%d'), ', no exit yet'),
                      coalesce(', entered from: ' || lower(living_situation), ''),
                      CASE WHEN stays > 1 THEN '; ' || stays || ' stays since the case opened'
                           ELSE '' END) AS why
        FROM labelled""")
    priority.rank(con, "supportive_housing_eligible", rules.priority,
                  "cw_case_opened, cw_case_id")
