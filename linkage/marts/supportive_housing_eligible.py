"""marts.supportive_housing_eligible: families with an open CW case and literal homelessness
in HMIS overlapping it: the target population of the federal supportive-housing
demonstration. One row per CW case and HMIS stay of a household that shares a person with
the case (a wider family, such as a father's other household, does not count), with the
priority rule that applies."""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.open_groups import open_groups_sql
from linkage.families.settings import MartsConfig, check_sql
from linkage.marts.hmis_stays import hmis_stays_sql
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    rules = config.supportive_housing_eligible
    types = ", ".join(literal(t) for t in rules.project_types)
    situations = ", ".join(literal(s) for s in rules.living_situations) or "NULL"
    priority = " ".join(f"WHEN {p.sql} THEN {i + 1}" for i, p in enumerate(rules.priority))
    names = ", ".join(literal(p.name) for p in rules.priority)
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
        removed AS (
            SELECT DISTINCT group_id AS cw_case_id FROM staged.events
            WHERE event_type = {literal(rules.removal_event)}
              AND (end_date IS NULL OR end_date > DATE '{day}')),
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
                   max(s.exit_date) AS exit_date, any_value(s.project_type) AS project_type,
                   any_value(s.living_situation) AS living_situation,
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
                   arg_min(hmis_household_id, entry_date) AS hmis_household_id,
                   list(hmis_household_id ORDER BY entry_date) AS hmis_households,
                   min(entry_date) AS entry_date,
                   CASE WHEN bool_or(exit_date IS NULL) THEN NULL ELSE max(exit_date) END
                       AS exit_date,
                   arg_min(project_type, entry_date) AS project_type,
                   arg_min(living_situation, entry_date) AS living_situation,
                   flatten(list(evidence_records)) AS evidence_records
            FROM islands GROUP BY cw_case_id, stay_no),
        counted AS (SELECT *, count(*) OVER (PARTITION BY cw_case_id) AS stays FROM merged)
        SELECT * FROM counted""")
    for i, rule in enumerate(rules.priority):
        check_sql(con, f"supportive_housing_eligible.priority.{i}.sql",
                  f"SELECT ({rule.sql})::BOOLEAN FROM marts.supportive_housing_eligible LIMIT 0")
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.supportive_housing_eligible AS
        SELECT *, coalesce([{names}][priority], 'other') AS priority_reason
        FROM (SELECT *, CASE {priority or 'WHEN false THEN 0'} ELSE {len(rules.priority) + 1}
                        END AS priority FROM marts.supportive_housing_eligible)
        ORDER BY priority, cw_case_opened, cw_case_id, entry_date""")
