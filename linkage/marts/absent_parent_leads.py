"""marts.absent_parent_leads: a child on a CW case whose parent is on none of the child's CW
cases, and where the other systems have seen that parent.

One row per child and parent (what a worker acts on): both by name and birth date, the child's
CW cases, the parent's cases in the other systems, every sighting ranked in `sightings` (a CS
locate report: address, employer; a TANF month: ZIP; an HMIS enrollment: project, entry,
exit), those with an address or employer first, latest first, and the best one in the flat
columns. A parent CS names (non-custodial parent, putative father) whom CW lists as alleged is
flagged: paternity may be established. Ranked by the priority rules of configs/marts.yaml.
"""

from __future__ import annotations

from datetime import date

import duckdb

from linkage.families.open_groups import open_groups_sql
from linkage.families.settings import MartsConfig, check_sql
from linkage.marts import priority
from linkage.marts.hmis_stays import hmis_projects_sql, hmis_stays_sql
from linkage.marts.labels import label_sql
from linkage.marts.people import PEOPLE
from linkage.warehouse import literal, tables_in

#: How a relation (configs/marts.yaml families.parent_roles) reads in a row's `why`; a relation
#: added there reads as its name until it is worded here.
RELATION_WORDS = {
    "parent": "non-custodial parent on a CS case",
    "putative_father": "putative father on a CS case",
    "father": "father on another CW case",
    "partner_of_head": "partner of the head of a TANF case or HMIS household",
    "father_of_sibling": "father of a sibling on the same CW case (inferred)",
}


def _sources_loaded(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Whether the sources whose raw tables `sql` reads were ingested at all: a warehouse
    without any CW extract flags nobody, while a misspelt table of a loaded source is an
    error (raw tables are named <source>__<table>)."""
    loaded = tables_in(con, "raw")
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
            -- the sex most of a person's records give; on a tie the alphabetically last,
            -- so that a list never changes between runs or engines for a tie alone
            SELECT person_id, arg_max(sex, (n, sex)) AS sex FROM (
                SELECT p.person_id, r.sex, count(*) AS n FROM linked.persons p
                JOIN staged.person_records r USING (record_id) WHERE r.sex IS NOT NULL
                GROUP BY p.person_id, r.sex)
            GROUP BY person_id),
        children AS (
            SELECT DISTINCT family_id, group_id AS cw_case_id, person_id AS child_person_id,
                   record_id AS child_record_id
            FROM families.members WHERE group_type = 'cw_case' AND role = 'child'),
        named AS (
            SELECT r.child_person_id, r.parent_person_id, r.relation, r.systems AS named_by
            FROM families.relationships r LEFT JOIN sexes s ON s.person_id = r.parent_person_id
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
                   e.group_id AS seen_case_id,
                   concat_ws(', ', e.details->>'address_line1', e.details->>'city',
                             e.details->>'state', e.details->>'zip') AS address,
                   e.details->>'employer_name' AS employer, NULL AS hmis_project,
                   NULL::DATE AS hmis_exit
            FROM staged.events e JOIN parent_records pr USING (record_id)
            WHERE e.event_type = {literal(rules.locate_event)}
            UNION ALL
            SELECT pr.person_id, e.record_id, 'tanf', max(e.start_date),
                   arg_max(e.group_id, (e.start_date, e.group_id))
                       FILTER (WHERE e.start_date IS NOT NULL),
                   'ZIP ' || arg_max(e.details->>'ZIP_CODE',
                                     (e.start_date, e.details->>'ZIP_CODE'))
                                 FILTER (WHERE e.start_date IS NOT NULL),
                   NULL, NULL, NULL
            FROM staged.events e JOIN parent_records pr USING (record_id)
            WHERE e.event_type = {literal(rules.tanf_event)}
            GROUP BY pr.person_id, e.record_id
            UNION ALL
            SELECT pr.person_id, h.record_id, 'hmis', h.entry_date, h.hmis_household_id, NULL,
                   NULL, concat_ws(', ', {label_sql('hud_project_type', 'h.project_type')},
                                   j.project_name), h.exit_date
            FROM ({hmis_stays_sql(rules.hmis_event)}) h JOIN parent_records pr
            USING (record_id)
            LEFT JOIN ({hmis_projects_sql()}) j USING (project_id)),
        ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY person_id
                ORDER BY (address IS NOT NULL OR employer IS NOT NULL) DESC,
                         seen_on DESC NULLS LAST, record_id) AS rank
            FROM sightings),
        seen AS (
            SELECT person_id,
                   list(struct_pack(rank, seen_in, seen_on, seen_case_id, address, employer,
                                    hmis_project, hmis_exit) ORDER BY rank) AS sightings
            FROM ranked GROUP BY person_id),
        found AS (SELECT person_id, list(DISTINCT system ORDER BY system) AS found_in
                  FROM parent_records GROUP BY person_id),
        parent_cases AS (
            SELECT person_id, list(DISTINCT group_type || ':' || group_id
                                   ORDER BY group_type || ':' || group_id) AS parent_cases
            FROM families.members
            WHERE group_type <> 'cw_case'
              AND person_id IN (SELECT parent_person_id FROM absent)
            GROUP BY person_id),
        open_cw AS (SELECT group_id AS cw_case_id FROM ({open_groups_sql(day)})
                    WHERE group_type = 'cw_case'),
        pairs AS (
            SELECT a.child_person_id, a.parent_person_id, min(a.family_id) AS family_id,
                   arg_max(a.cw_case_id, (a.cw_case_id IN (SELECT * FROM open_cw),
                                          g.start_date, a.cw_case_id)) AS cw_case_id,
                   list(DISTINCT a.cw_case_id ORDER BY a.cw_case_id) AS cw_case_ids,
                   arg_min(a.relation, (a.relation = 'father_of_sibling', a.relation))
                       AS relation,
                   list_sort(list_distinct(flatten(list(a.named_by)))) AS named_by
            FROM absent a
            LEFT JOIN staged.groups g ON g.group_type = 'cw_case' AND g.group_id = a.cw_case_id
            GROUP BY a.child_person_id, a.parent_person_id),
        rows AS (
            SELECT p.cw_case_id, p.cw_case_ids,
                   g.attributes->>'county_fips' AS cw_county_fips, p.family_id,
                   p.child_person_id, ch.name AS child_name, ch.dob AS child_dob,
                   p.parent_person_id, pa.name AS parent_name, pa.dob AS parent_dob,
                   p.relation, p.named_by, f.found_in, pc.parent_cases,
                   s.sightings[1].seen_in AS seen_in, s.sightings[1].seen_on AS seen_on,
                   s.sightings[1].address AS address, s.sightings[1].employer AS employer,
                   s.sightings[1].hmis_project AS hmis_project,
                   s.sightings[1].hmis_exit AS hmis_exit,
                   coalesce(s.sightings[1].seen_on >= DATE '{day}' - INTERVAL
                            {rules.recent_days} DAY, false) AS seen_recently,
                   coalesce(array_length(s.sightings), 0) AS n_sightings, s.sightings,
                   coalesce(c.link_confidence, 1.0) AS link_confidence,
                   p.parent_person_id IN (SELECT p.person_id FROM linked.persons p
                                          WHERE p.record_id IN ({alleged}))
                       AND list_contains(p.named_by, 'cs') AS cs_names_a_father_cw_calls_alleged
            FROM pairs p
            JOIN found f ON f.person_id = p.parent_person_id
            LEFT JOIN seen s ON s.person_id = p.parent_person_id
            LEFT JOIN confidence c ON c.person_id = p.parent_person_id
            LEFT JOIN parent_cases pc ON pc.person_id = p.parent_person_id
            LEFT JOIN {PEOPLE} ch ON ch.person_id = p.child_person_id
            LEFT JOIN {PEOPLE} pa ON pa.person_id = p.parent_person_id
            LEFT JOIN staged.groups g ON g.group_type = 'cw_case' AND g.group_id = p.cw_case_id
            WHERE f.found_in <> ['cw'])
        SELECT *,
               concat('The child''s ', {_words('relation')},
                      CASE WHEN array_length(cw_case_ids) > 1
                           THEN ', on none of the child''s CW cases'
                           ELSE ', not on the child''s CW case' END,
                      '; known to ', upper(array_to_string(found_in, ', ')),
                      CASE WHEN cs_names_a_father_cw_calls_alleged
                           THEN '; CS names him a father while CW lists him as alleged'
                           ELSE '' END,
                      CASE WHEN seen_in IS NULL THEN '; no sighting with a date'
                           ELSE '; last seen ' || strftime(seen_on, '%Y-%m-%d') || ' in '
                                || upper(seen_in) || CASE seen_in
                                    WHEN 'cs' THEN ' (locate report)'
                                    WHEN 'tanf' THEN ' (assistance month)'
                                    ELSE ' (homeless services stay)' END
                                || CASE WHEN address IS NOT NULL OR employer IS NOT NULL
                                        THEN ' with an address or employer' ELSE '' END
                      END, ' (', n_sightings, ' sighting', CASE WHEN n_sightings = 1 THEN ''
                                                                ELSE 's' END, ')') AS why
        FROM rows
        ORDER BY cw_case_id, child_person_id, parent_person_id""")
    priority.rank(con, "absent_parent_leads", rules.priority,
                  "cw_case_id, child_person_id, parent_person_id")


def _words(column: str) -> str:
    """SQL: a relation in words (RELATION_WORDS), else its name."""
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in RELATION_WORDS.items())
    return f"CASE {column} {whens} ELSE {column} END"
