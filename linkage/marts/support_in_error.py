"""marts.support_in_error: child support paid to a custodial parent while the child is in
foster care, and children in care whose parent is known but who have no CS referral.

`kind` = 'paid_while_in_care': a CS case with an order whose custodial party is the child's
mother, for a child with an open CW removal, and no IV-E referral on the child's CS record
(staff redirect the support). `kind` = 'in_care_without_referral': a child in care with an
identified parent and no CS case at all (staff refer)."""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    r = config.support_in_error
    custodial = ", ".join(literal(role) for role in r.custodial_roles)
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.support_in_error AS
        WITH in_care AS (
            SELECT p.person_id AS child_person_id, e.record_id AS cw_child_record_id,
                   e.group_id AS cw_case_id, e.details->>'removal_id' AS cw_removal_id,
                   e.start_date AS removal_date
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.removal_event)}
              AND (e.end_date IS NULL OR e.end_date > DATE '{day}')
              AND e.start_date <= DATE '{day}'),
        orders AS (
            SELECT group_id AS cs_case_id, start_date AS cs_case_opened FROM staged.groups
            WHERE group_type = 'cs_case'
              AND attributes->>{literal(r.order_attribute)} = {literal(r.order_value)}),
        cs_children AS (
            SELECT group_id AS cs_case_id, person_id AS child_person_id,
                   record_id AS cs_child_record_id
            FROM families.members WHERE group_type = 'cs_case' AND role = 'child'),
        custodians AS (
            SELECT group_id AS cs_case_id, person_id AS custodial_person_id,
                   record_id AS cs_custodial_record_id
            FROM families.members WHERE group_type = 'cs_case' AND role IN ({custodial})),
        referred AS (SELECT DISTINCT record_id FROM staged.events
                     WHERE event_type = {literal(r.referral_event)}),
        paid AS (
            SELECT 'paid_while_in_care' AS kind, o.cs_case_id, o.cs_case_opened,
                   k.cs_child_record_id, k.child_person_id, c.custodial_person_id,
                   c.cs_custodial_record_id, i.cw_case_id, i.cw_removal_id, i.removal_date,
                   i.cw_child_record_id
            FROM orders o JOIN cs_children k USING (cs_case_id)
            JOIN custodians c USING (cs_case_id)
            JOIN in_care i USING (child_person_id)
            JOIN families.relationships rel
              ON rel.parent_person_id = c.custodial_person_id
             AND rel.child_person_id = k.child_person_id
             AND rel.relation = {literal(r.custodial_relation)}
            WHERE k.cs_child_record_id NOT IN (SELECT record_id FROM referred)),
        unreferred AS (
            SELECT 'in_care_without_referral', NULL, NULL, NULL, i.child_person_id,
                   any_value(rel.parent_person_id), NULL, i.cw_case_id, i.cw_removal_id,
                   i.removal_date, i.cw_child_record_id
            FROM in_care i JOIN families.relationships rel USING (child_person_id)
            WHERE i.child_person_id NOT IN (SELECT child_person_id FROM cs_children)
            GROUP BY ALL)
        SELECT DISTINCT * FROM paid UNION ALL SELECT * FROM unreferred
        ORDER BY kind, removal_date, cw_case_id""")
