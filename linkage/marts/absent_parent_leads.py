"""marts.absent_parent_leads: for a child on a CW case whose parent is on none of the child's
CW cases, every place the other systems have seen that parent, latest first.

One row per sighting: a CS locate report (address, employer, report date), a TANF month (ZIP),
an HMIS enrollment (project type, entry, exit). Ranked per case, child and parent by recency,
then by how confidently the parent's records were linked. A parent CS names (non-custodial
parent, putative father) whom CW lists as alleged is flagged: paternity may be established.
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.settings import MartsConfig, check_sql
from linkage.marts.hmis_stays import hmis_stays_sql
from linkage.warehouse import literal


def _sources_loaded(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Whether the sources whose raw tables `sql` reads were ingested at all: a warehouse
    without any CW extract flags nobody, while a misspelt table of a loaded source is an
    error (raw tables are named <source>__<table>)."""
    loaded = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    sources = {name.split(".")[-1].split("__")[0]
               for name in con.get_table_names(sql, qualified=True)
               if name.startswith("raw.")}
    return all(any(t.startswith(f"{s}__") for t in loaded) for s in sources)


def build(con: duckdb.DuckDBPyConnection, config: MartsConfig, day: date) -> None:
    rules = config.absent_parent_leads
    relations = ", ".join(literal(r) for r in rules.parent_relations)
    sex = f"AND s.sex = {literal(rules.parent_sex)}" if rules.parent_sex else ""
    # A child no record ties to a father may share one with a sibling on the same CW case
    # (same mother): that father is a lead too, marked as inferred.
    siblings = """
            UNION
            SELECT c.person_id, n.parent_person_id, 'father_of_sibling', n.named_by
            FROM families.members c JOIN families.members s
              ON s.group_type = 'cw_case' AND s.group_id = c.group_id AND s.role = 'child'
             AND s.person_id <> c.person_id
            JOIN named n ON n.child_person_id = s.person_id
            WHERE c.group_type = 'cw_case' AND c.role = 'child'
              AND c.person_id NOT IN (SELECT child_person_id FROM named)""" \
        if rules.infer_from_siblings else ""
    alleged = "SELECT NULL::VARCHAR AS record_id WHERE false"
    if rules.alleged_fathers and _sources_loaded(con, rules.alleged_fathers):
        check_sql(con, "absent_parent_leads.alleged_fathers",
                  f"SELECT record_id FROM ({rules.alleged_fathers}) LIMIT 0")
        alleged = f"SELECT record_id FROM ({rules.alleged_fathers})"
    con.execute(f"""
        CREATE OR REPLACE TABLE marts.absent_parent_leads AS
        WITH sexes AS (
            SELECT p.person_id, mode(r.sex) AS sex FROM linked.persons p
            JOIN staged.person_records r USING (record_id) GROUP BY p.person_id),
        children AS (
            SELECT DISTINCT family_id, group_id AS cw_case_id, person_id AS child_person_id,
                   record_id AS child_record_id
            FROM families.members WHERE group_type = 'cw_case' AND role = 'child'),
        named AS (
            SELECT r.child_person_id, r.parent_person_id, r.relation, r.systems AS named_by
            FROM families.relationships r JOIN sexes s ON s.person_id = r.parent_person_id
            WHERE r.relation IN ({relations}) {sex}),
        parents AS (
            SELECT * FROM named
            {siblings}),
        absent AS (
            SELECT c.*, p.parent_person_id, p.relation, p.named_by FROM children c
            JOIN parents p USING (child_person_id)
            WHERE NOT EXISTS (  -- on no CW case of this child (a re-referral may omit him)
                SELECT 1 FROM families.members o JOIN families.members k
                  ON k.group_type = o.group_type AND k.group_id = o.group_id
                WHERE o.group_type = 'cw_case' AND o.person_id = p.parent_person_id
                  AND k.person_id = c.child_person_id)),
        parent_records AS (
            SELECT p.person_id, p.record_id, r.system FROM linked.persons p
            JOIN staged.person_records r USING (record_id)
            WHERE p.person_id IN (SELECT parent_person_id FROM absent)),
        confidence AS (  -- the weakest link holding the parent's records together
            SELECT pa.person_id, min(lp.match_probability) AS link_confidence
            FROM linked.pairs lp
            JOIN linked.records a ON a.rid = lp.rid_l JOIN linked.records b ON b.rid = lp.rid_r
            JOIN linked.persons pa ON pa.record_id = a.record_id
            JOIN linked.persons pb ON pb.record_id = b.record_id
            WHERE pa.person_id = pb.person_id
              AND pa.person_id IN (SELECT parent_person_id FROM absent)
            GROUP BY pa.person_id),
        sightings AS (
            SELECT pr.person_id, e.record_id, 'cs' AS seen_in, e.start_date AS seen_on,
                   concat_ws(', ', e.details->>'address_line1', e.details->>'city',
                             e.details->>'state', e.details->>'zip') AS address,
                   e.details->>'employer_name' AS employer, NULL AS hmis_project_type,
                   NULL::DATE AS hmis_exit
            FROM staged.events e JOIN parent_records pr USING (record_id)
            WHERE e.event_type = {literal(rules.locate_event)}
            UNION ALL
            SELECT pr.person_id, e.record_id, 'tanf', max(e.start_date),
                   'ZIP ' || arg_max(e.details->>'ZIP_CODE', e.start_date), NULL, NULL, NULL
            FROM staged.events e JOIN parent_records pr USING (record_id)
            WHERE e.event_type = {literal(rules.tanf_event)}
            GROUP BY pr.person_id, e.record_id
            UNION ALL
            SELECT pr.person_id, h.record_id, 'hmis', h.entry_date, NULL, NULL,
                   h.project_type, h.exit_date
            FROM ({hmis_stays_sql(rules.hmis_event)}) h JOIN parent_records pr
            USING (record_id)),
        found AS (SELECT person_id, list(DISTINCT system ORDER BY system) AS found_in
                  FROM parent_records GROUP BY person_id)
        SELECT a.cw_case_id, a.family_id, a.child_person_id, a.child_record_id,
               a.parent_person_id, a.relation, a.named_by, f.found_in,
               s.seen_in, s.seen_on, s.address, s.employer, s.hmis_project_type, s.hmis_exit,
               s.record_id AS evidence_record_id,
               coalesce(c.link_confidence, 1.0) AS link_confidence,
               a.parent_person_id IN (SELECT p.person_id FROM linked.persons p
                                      WHERE p.record_id IN ({alleged}))
                   AND list_contains(a.named_by, 'cs') AS cs_names_a_father_cw_calls_alleged,
               row_number() OVER (PARTITION BY a.cw_case_id, a.child_person_id,
                                               a.parent_person_id
                                  ORDER BY s.seen_on DESC NULLS LAST,
                                           coalesce(c.link_confidence, 1.0) DESC,
                                           s.record_id) AS lead_rank
        FROM absent a
        JOIN found f ON f.person_id = a.parent_person_id
        LEFT JOIN sightings s ON s.person_id = a.parent_person_id
        LEFT JOIN confidence c ON c.person_id = a.parent_person_id
        WHERE f.found_in <> ['cw']
        ORDER BY a.cw_case_id, a.child_person_id, a.parent_person_id, lead_rank""")
