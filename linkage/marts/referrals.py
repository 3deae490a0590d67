"""marts.referrals: referral appropriateness between child welfare and child support.

`kind` = 'refer': a child in foster care whom CS has no IV-E referral for (CW should refer);
`kind` = 'withdraw': a referral on file that a rule calls inappropriate (family violence on
the CS case, good cause found by CW, the child already reunified, parental rights terminated:
CS should close or not pursue it). The rules are configs/marts.yaml's `referrals.rules`, SQL
over one row per removal and referring CS case; every rule that holds is listed, in words.
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig, check_sql
from linkage.marts.alerts import names_sql
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    r = config.referrals
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _referral_rows AS
        WITH removals AS (
            SELECT p.person_id AS child_person_id, e.record_id AS cw_child_record_id,
                   e.group_id AS cw_case_id, e.details->>'removal_id' AS removal_id,
                   e.start_date AS removal_date, e.end_date AS discharge_date,
                   nullif(e.details->>'discharge_reason', '') AS discharge_reason
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.removal_event)} AND e.start_date <= DATE '{day}'),
        referrals AS (
            SELECT p.person_id AS child_person_id, e.group_id AS cs_case_id,
                   min(e.start_date) AS referral_date
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.referral_event)} GROUP BY 1, 2),
        flagged AS (
            SELECT event_type, details->>'removal_id' AS removal_id, min(start_date) AS day
            FROM staged.events
            WHERE event_type IN ({literal(r.good_cause_event)}, {literal(r.tpr_event)})
            GROUP BY 1, 2),
        violence AS (
            SELECT DISTINCT group_id AS cs_case_id FROM staged.events
            WHERE event_type = {literal(r.family_violence_event)})
        SELECT m.*, f.cs_case_id, f.referral_date, f.cs_case_id IS NOT NULL AS referred,
               m.discharge_date IS NULL OR m.discharge_date > DATE '{day}' AS in_care,
               g.day AS good_cause_on, t.day AS rights_terminated_on,
               coalesce(f.cs_case_id IN (SELECT cs_case_id FROM violence), false)
                   AS family_violence
        FROM removals m
        LEFT JOIN referrals f USING (child_person_id)
        LEFT JOIN flagged g ON g.removal_id = m.removal_id
                           AND g.event_type = {literal(r.good_cause_event)}
        LEFT JOIN flagged t ON t.removal_id = m.removal_id
                           AND t.event_type = {literal(r.tpr_event)}""")
    for i, rule in enumerate(r.rules):
        check_sql(con, f"referrals.rules[{i}].sql",
                  f"SELECT ({rule.sql}) FROM _referral_rows LIMIT 0")
    held = ", ".join(f"CASE WHEN ({rule.sql}) THEN {{'kind': {literal(rule.kind)}, 'code': "
                     f"{literal(rule.code)}, 'reason': {literal(rule.reason)}}} END"
                     for rule in r.rules)
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.referrals AS
        WITH judged AS (
            SELECT *, list_filter([{held}], lambda x: x IS NOT NULL) AS held FROM _referral_rows),
        listed AS (
            SELECT *, CASE WHEN list_contains(list_transform(held, lambda x: x.kind), 'withdraw')
                           THEN 'withdraw' ELSE 'refer' END AS kind
            FROM judged WHERE array_length(held) > 0),
        names AS ({names_sql('SELECT child_person_id FROM listed')})
        SELECT l.kind,
               list_transform(list_filter(l.held, lambda x: x.kind = l.kind), lambda x: x.code)
                   AS reasons,
               array_to_string(list_transform(list_filter(l.held, lambda x: x.kind = l.kind),
                                              lambda x: x.reason), '; ') AS why,
               l.cw_case_id, l.removal_id, l.removal_date, l.discharge_date,
               l.discharge_reason, l.child_person_id, n.name AS child_name,
               n.birth_date AS child_birth_date, l.cs_case_id, l.referral_date,
               l.good_cause_on, l.rights_terminated_on, l.family_violence,
               l.cw_child_record_id
        FROM listed l LEFT JOIN names n ON n.person_id = l.child_person_id
        ORDER BY l.kind, l.removal_date, l.cw_case_id, l.child_person_id, l.cs_case_id""")
