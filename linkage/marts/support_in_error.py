"""marts.support_in_error: child support paid to a custodial parent while the child is in
foster care.

One row per CS order (what a CS worker acts on: redirect the support): a CS case with an order
whose custodial party is the mother of a child with an open CW removal, and no IV-E referral on
that child's CS record. The row names the custodial party, the non-custodial parent who pays
and each child in care by name and birth date, with the child's CW case, removal and county.
Children in care with no CS case at all are the referral list's (issue 16, item 4).
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig
from linkage.marts import priority
from linkage.marts.people import PEOPLE
from linkage.warehouse import literal


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    r = config.support_in_error
    custodial = ", ".join(literal(role) for role in r.custodial_roles)
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.support_in_error AS
        WITH in_care AS (
            SELECT p.person_id AS child_person_id, e.record_id AS cw_child_record_id,
                   e.group_id AS cw_case_id, e.details->>'removal_id' AS cw_removal_id,
                   e.start_date AS removal_date, e.details->>'removal_reason' AS removal_reason
            FROM staged.events e JOIN linked.persons p USING (record_id)
            WHERE e.event_type = {literal(r.removal_event)}
              AND (e.end_date IS NULL OR e.end_date > DATE '{day}')
              AND e.start_date <= DATE '{day}'),
        orders AS (
            SELECT group_id AS cs_case_id, start_date AS cs_case_opened FROM staged.groups
            WHERE group_type = 'cs_case'
              AND (attributes->>{literal(r.order_attribute)}) = {literal(r.order_value)}),
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
            SELECT o.cs_case_id, o.cs_case_opened, k.child_person_id, c.custodial_person_id,
                   i.cw_case_id, i.cw_removal_id, i.removal_date, i.removal_reason
            FROM orders o JOIN cs_children k USING (cs_case_id)
            JOIN custodians c USING (cs_case_id)
            JOIN in_care i USING (child_person_id)
            JOIN families.relationships rel
              ON rel.parent_person_id = c.custodial_person_id
             AND rel.child_person_id = k.child_person_id
             AND rel.relation = {literal(r.custodial_relation)}
            WHERE k.cs_child_record_id NOT IN (SELECT record_id FROM referred)),
        children AS (  -- each child of the order in care, on its earliest open removal
            SELECT cs_case_id, child_person_id, min(custodial_person_id) AS custodial,
                   arg_min(struct_pack(cw_case_id, cw_removal_id, removal_date,
                                       removal_reason),
                           (removal_date, cw_removal_id)) AS removal
            FROM paid GROUP BY cs_case_id, child_person_id),
        payers AS (
            SELECT group_id AS cs_case_id,
                   arg_min(struct_pack(name := n.name, dob := n.dob), m.person_id) AS payer
            FROM families.members m JOIN {PEOPLE} n USING (person_id)
            WHERE m.group_type = 'cs_case' AND m.role = 'non_custodial_parent'
            GROUP BY group_id),
        orders_in_error AS (
            SELECT k.cs_case_id, min(k.custodial) AS custodial_person_id,
                   count(*) AS children_in_care,
                   list(struct_pack(person_id := k.child_person_id, name := n.name,
                                    dob := n.dob, cw_case_id := k.removal.cw_case_id,
                                    cw_removal_id := k.removal.cw_removal_id,
                                    removal_date := k.removal.removal_date,
                                    removal_reason := k.removal.removal_reason)
                        ORDER BY k.removal.removal_date, k.child_person_id) AS children
            FROM children k LEFT JOIN {PEOPLE} n ON n.person_id = k.child_person_id
            GROUP BY k.cs_case_id),
        rows AS (
            SELECT e.cs_case_id, o.cs_case_opened, e.custodial_person_id,
                   cp.name AS custodial_name, cp.dob AS custodial_dob,
                   p.payer.name AS payer_name, p.payer.dob AS payer_dob,
                   e.children[1].name AS child_name, e.children[1].dob AS child_dob,
                   e.children[1].cw_case_id AS cw_case_id,
                   g.attributes->>'county_fips' AS cw_county_fips,
                   e.children[1].cw_removal_id AS cw_removal_id,
                   e.children[1].removal_date AS removal_date,
                   lower(replace(e.children[1].removal_reason, '_', ' ')) AS removal_reason,
                   e.children_in_care, e.children
            FROM orders_in_error e JOIN orders o USING (cs_case_id)
            LEFT JOIN {PEOPLE} cp ON cp.person_id = e.custodial_person_id
            LEFT JOIN payers p USING (cs_case_id)
            LEFT JOIN staged.groups g ON g.group_type = 'cw_case'
                 AND g.group_id = e.children[1].cw_case_id)
        SELECT *,
               concat('CS case ', cs_case_id, ' has a support order paying the custodial ',
                      'party, the mother of ',
                      CASE WHEN children_in_care > 1
                           THEN children_in_care || ' children who are'
                           ELSE 'a child who is' END,
                      ' in foster care (CW case ', cw_case_id, ', removed ',
                      strftime(removal_date, '%Y-%m-%d'),
                      coalesce(' for ' || removal_reason, ''),
                      '), with no IV-E referral on the child''s CS record') AS why
        FROM rows""")
    priority.rank(con, "support_in_error", r.priority, "removal_date, cs_case_id")
