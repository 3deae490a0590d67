"""Accuracy of the linked persons against the generator's truth (`famlink evaluate`).

This module reads the truth; nothing in `linkage.link` ever does. Metrics:
- pairwise: over pairs of records, precision / recall / F1 of "same person";
- cluster: a predicted person is right when it holds exactly the records of one true person;
  precision = right / predicted persons, recall = right / true persons;
- per system pair (cw-cs, cw-hmis, ..., and duplicates inside one system): pairwise;
- per hard case: recall of the true pairs that touch a record with that label; for twins and
  Jr/Sr, the share of pairs of *different* people (twin and twin, Jr and Sr) wrongly merged;
- per name-origin group (the true person's ethnicity): pairwise recall, and the gap between
  the best and worst group.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from linkage.families.build import as_of
from linkage.families.settings import MartsConfig, load_marts_config
from linkage.warehouse import literal

MERGE_CASES = {"twin": "twin_of", "jr_sr": "jr_of"}


def _f1(p: float | None, r: float | None) -> float | None:
    return None if not p or not r else 2 * p * r / (p + r)


def _ratio(a: float, b: float) -> float | None:
    return None if not b else a / b


def truth_file(truth: Path, name: str) -> Path:
    """A file of the truth folder, or an error that says which and why it may be missing."""
    path = truth / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found (is {truth} the truth folder that "
                                f"`famlink synth` wrote?)")
    return path


def load_truth(con: duckdb.DuckDBPyConnection, truth: Path) -> None:
    """Temp tables _truth (record_id, system, true_person_id, hard_cases[], ethnicity) over the
    records that are in the warehouse, and _twins (pairs of different people to keep apart)."""
    records, persons = truth_file(truth, "records.csv"), truth_file(truth, "persons.csv")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _truth AS
        SELECT r.record_id, r.system, r.true_person_id,
               coalesce(string_split(nullif(r.hard_cases, ''), ';'), []) AS hard_cases,
               p.ethnicity, lp.person_id
        FROM read_csv({literal(str(records))}, all_varchar=true) r
        JOIN read_csv({literal(str(persons))}, all_varchar=true) p USING (true_person_id)
        JOIN linked.persons lp USING (record_id);
        CREATE OR REPLACE TEMP TABLE _apart AS
        SELECT 'twin' AS hard_case, true_person_id AS a, twin_of AS b
        FROM read_csv({literal(str(persons))}, all_varchar=true) WHERE twin_of IS NOT NULL
        UNION ALL
        SELECT 'jr_sr', true_person_id, jr_of
        FROM read_csv({literal(str(persons))}, all_varchar=true) WHERE jr_of IS NOT NULL;
        CREATE OR REPLACE TEMP TABLE _true_pairs AS
        SELECT a.record_id AS l, b.record_id AS r, a.system AS sl, b.system AS sr,
               a.hard_cases || b.hard_cases AS hard_cases, a.ethnicity,
               a.person_id = b.person_id AS found
        FROM _truth a JOIN _truth b
          ON a.true_person_id = b.true_person_id AND a.record_id < b.record_id;
        CREATE OR REPLACE TEMP TABLE _pred_pairs AS
        SELECT a.system AS sl, b.system AS sr, a.true_person_id = b.true_person_id AS correct
        FROM _truth a JOIN _truth b ON a.person_id = b.person_id AND a.record_id < b.record_id;
    """)


def _pairwise(con: duckdb.DuckDBPyConnection, where: str = "true") -> dict:
    found, true = con.execute(f"SELECT count(*) FILTER (WHERE found), count(*) FROM _true_pairs "
                              f"WHERE {where}").fetchall()[0]
    return {"true_pairs": true, "found": found, "recall": _ratio(found, true)}


def evaluate(con: duckdb.DuckDBPyConnection, truth: Path) -> dict:
    load_truth(con, truth)
    right, predicted = con.execute(
        "SELECT count(*) FILTER (WHERE correct), count(*) FROM _pred_pairs").fetchall()[0]
    pair = _pairwise(con)
    pair["predicted_pairs"] = predicted
    pair["precision"] = _ratio(right, predicted)
    pair["f1"] = _f1(pair["precision"], pair["recall"])
    exact, n_pred, n_true = con.execute("""
        WITH p AS (SELECT person_id, list(record_id ORDER BY record_id) AS recs
                   FROM _truth GROUP BY person_id),
             t AS (SELECT true_person_id, list(record_id ORDER BY record_id) AS recs
                   FROM _truth GROUP BY true_person_id)
        SELECT (SELECT count(*) FROM p JOIN t USING (recs)), (SELECT count(*) FROM p),
               (SELECT count(*) FROM t)""").fetchall()[0]
    cluster = {"predicted_persons": n_pred, "true_persons": n_true, "exact": exact,
               "precision": _ratio(exact, n_pred), "recall": _ratio(exact, n_true)}
    cluster["f1"] = _f1(cluster["precision"], cluster["recall"])
    systems = {}
    rows = con.execute("""
        WITH t AS (SELECT least(sl, sr) || '-' || greatest(sl, sr) AS systems,
                          count(*) FILTER (WHERE found) AS found, count(*) AS n
                   FROM _true_pairs GROUP BY 1),
             p AS (SELECT least(sl, sr) || '-' || greatest(sl, sr) AS systems,
                          count(*) FILTER (WHERE correct) AS right, count(*) AS n
                   FROM _pred_pairs GROUP BY 1)
        SELECT systems, t.found, t.n, p.right, p.n FROM t FULL JOIN p USING (systems)
        ORDER BY systems""").fetchall()
    for name, found, n_true_pairs, right_pairs, n_predicted in rows:
        precision = _ratio(right_pairs or 0, n_predicted or 0)
        recall = _ratio(found or 0, n_true_pairs or 0)
        systems[name] = {"true_pairs": n_true_pairs or 0, "predicted_pairs": n_predicted or 0,
                         "precision": precision, "recall": recall, "f1": _f1(precision, recall)}
    cases = {}
    labels = [r[0] for r in con.execute(
        "SELECT DISTINCT unnest(hard_cases) FROM _truth ORDER BY 1").fetchall()]
    for label in labels:
        cases[label] = _pairwise(con, f"list_contains(hard_cases, {literal(label)})")
    for label in MERGE_CASES:
        merged, total = con.execute(f"""
            SELECT count(*) FILTER (WHERE x.person_id = y.person_id), count(*)
            FROM _apart a JOIN _truth x ON x.true_person_id = a.a
            JOIN _truth y ON y.true_person_id = a.b
            WHERE a.hard_case = {literal(label)}""").fetchall()[0]
        cases.setdefault(label, {})
        cases[label].update({"pairs_of_different_people": total, "wrongly_merged": merged,
                             "merged_rate": _ratio(merged, total)})
    origins = {}
    for ethnicity, found, n in con.execute("""
            SELECT ethnicity, count(*) FILTER (WHERE found), count(*) FROM _true_pairs
            GROUP BY 1 ORDER BY 1""").fetchall():
        origins[ethnicity] = {"true_pairs": n, "found": found, "recall": _ratio(found, n)}
    recalls = [v["recall"] for v in origins.values() if v["recall"] is not None]
    return {"pairwise": pair, "cluster": cluster, "system_pairs": systems, "hard_cases": cases,
            "name_origin": origins,
            "name_origin_recall_gap": (max(recalls) - min(recalls)) if recalls else None}


def write_report(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


def _pr(found: int, predicted: int, true: int, true_found: int | None = None) -> dict:
    """Precision of the `predicted` (`found` of them right) and recall of the `true`
    (`true_found` of them found: more than one prediction may find the same one)."""
    precision = _ratio(found, predicted)
    recall = _ratio(found if true_found is None else true_found, true)
    return {"predicted": predicted, "true": true, "correct": found, "precision": precision,
            "recall": recall, "f1": _f1(precision, recall)}


def evaluate_families(con: duckdb.DuckDBPyConnection, truth: Path,
                      config: MartsConfig | None = None) -> dict:
    """Families and the marts against the truth's answers (truth/answers/*.csv); `config`:
    the marts config the lists were built with (default configs/marts.yaml), whose alert
    window the alerts are scored in."""
    answers = {name: truth_file(truth, f"answers/{name}.csv") for name in (
        "joint_families", "absent_parents", "homeless_with_open_cw", "support_in_error")}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rec_truth AS
        SELECT r.record_id, r.true_person_id, r.true_family_id, lp.person_id
        FROM read_csv({literal(str(truth_file(truth, 'records.csv')))}, all_varchar=true) r
        JOIN linked.persons lp USING (record_id);
        CREATE OR REPLACE TEMP TABLE _person_truth AS  -- each person's majority true person
        SELECT person_id, mode(true_person_id) AS true_person_id,
               mode(true_family_id) AS true_family_id FROM _rec_truth GROUP BY person_id;
        CREATE OR REPLACE TEMP TABLE _family_truth AS
        SELECT m.family_id, mode(t.true_family_id) AS true_family_id
        FROM families.members m JOIN _rec_truth t USING (record_id) GROUP BY m.family_id;
    """)

    def answer(name: str) -> str:
        return f"read_csv({literal(str(answers[name]))}, all_varchar=true)"

    joint = con.execute(f"""
        WITH pred AS (SELECT f.family_id, t.true_family_id FROM families.families f
                      JOIN _family_truth t USING (family_id) WHERE f.joint),
             truth AS (SELECT DISTINCT true_family_id FROM {answer('joint_families')})
        SELECT (SELECT count(*) FROM pred WHERE true_family_id IN (SELECT * FROM truth)),
               (SELECT count(*) FROM pred),
               (SELECT count(*) FROM truth),
               (SELECT count(DISTINCT true_family_id) FROM pred
                WHERE true_family_id IN (SELECT * FROM truth))""").fetchall()[0]
    result = {"joint_families": _pr(*joint)}
    # Per child and absent parent, one row each (the truth lists a pair under the family's main
    # CW case; the list names every CW case of the child the parent is absent from).
    leads = con.execute(f"""
        WITH pred AS (
            SELECT DISTINCT c.true_person_id AS child, p.true_person_id AS parent
            FROM marts.absent_parent_leads l
            JOIN _person_truth c ON c.person_id = l.child_person_id
            JOIN _person_truth p ON p.person_id = l.parent_person_id),
        truth AS (SELECT DISTINCT child_true_person_id AS child,
                         parent_true_person_id AS parent FROM {answer('absent_parents')})
        SELECT (SELECT count(*) FROM pred JOIN truth USING (child, parent)),
               (SELECT count(*) FROM pred), (SELECT count(*) FROM truth)""").fetchall()[0]
    result["absent_parent_leads"] = _pr(*leads)
    top, with_locate = con.execute(f"""
        WITH truth AS (SELECT * FROM {answer('absent_parents')}
                       WHERE coalesce(locate_address, '') <> ''),
        top AS (  -- the pair's first CS sighting in the list's ranking
            SELECT c.true_person_id AS child, p.true_person_id AS parent,
                   list_filter(l.sightings, lambda s: s.seen_in = 'cs')[1].address AS address
            FROM marts.absent_parent_leads l
            JOIN _person_truth c ON c.person_id = l.child_person_id
            JOIN _person_truth p ON p.person_id = l.parent_person_id)
        SELECT count(*) FILTER (WHERE starts_with(top.address, truth.locate_address)),
               count(*)
        FROM truth LEFT JOIN top
          ON top.child = truth.child_true_person_id AND top.parent = truth.parent_true_person_id
    """).fetchall()[0]
    result["absent_parent_leads"]["top_cs_lead_is_latest_locate"] = _ratio(top, with_locate)
    # One row per family: right when one of its (CW case, HMIS household) pairs is a true one;
    # a true family is found when a row holds one of its pairs.
    housing = con.execute(f"""
        WITH pairs AS (
            SELECT family_id, unnest(cw_case_ids) AS cw_case_id, hmis_household_id
            FROM (SELECT family_id, cw_case_ids, unnest(hmis_households) AS hmis_household_id
                  FROM marts.supportive_housing_eligible)),
        truth AS (SELECT DISTINCT true_family_id, cw_case_id, hmis_household_id
                  FROM {answer('homeless_with_open_cw')}),
        hits AS (SELECT * FROM pairs JOIN truth USING (cw_case_id, hmis_household_id))
        SELECT (SELECT count(DISTINCT family_id) FROM hits),
               (SELECT count(*) FROM marts.supportive_housing_eligible),
               (SELECT count(DISTINCT true_family_id) FROM truth),
               (SELECT count(DISTINCT true_family_id) FROM hits)""").fetchall()[0]
    result["supportive_housing_eligible"] = _pr(*housing)
    support = con.execute(f"""  -- one row per CS order
        WITH pred AS (SELECT DISTINCT cs_case_id FROM marts.support_in_error),
        truth AS (SELECT DISTINCT cs_case_id FROM {answer('support_in_error')})
        SELECT (SELECT count(*) FROM pred JOIN truth USING (cs_case_id)),
               (SELECT count(*) FROM pred), (SELECT count(*) FROM truth)""").fetchall()[0]
    result["support_in_error"] = _pr(*support)
    largest_true, largest, bigger, bigger_merged = con.execute("""
        WITH true_sizes AS (SELECT true_family_id, count(DISTINCT true_person_id) AS n
                            FROM _rec_truth GROUP BY 1),
        -- a family's size in true persons: a person split in two is not a bigger family
        sizes AS (SELECT m.family_id, count(DISTINCT t.true_person_id) AS n,
                         count(DISTINCT t.true_family_id) AS true_families
                  FROM families.members m JOIN _rec_truth t USING (record_id)
                  GROUP BY m.family_id)
        SELECT (SELECT max(n) FROM true_sizes), (SELECT max(n) FROM sizes),
               (SELECT count(*) FROM sizes WHERE n > (SELECT max(n) FROM true_sizes)),
               (SELECT count(*) FROM sizes WHERE n > (SELECT max(n) FROM true_sizes)
                  AND family_id IN (
                      SELECT m.family_id FROM families.members m
                      JOIN _rec_truth t USING (record_id)
                      GROUP BY m.family_id, m.person_id
                      HAVING count(DISTINCT t.true_person_id) > 1))""").fetchall()[0]
    result["family_sizes"] = {"largest_true_family": largest_true, "largest_family": largest,
                              "families_larger_than_any_true_one": bigger,
                              "of_which_hold_a_wrongly_merged_person": bigger_merged}
    result.update(evaluate_alerts_and_lists(con, truth, config))
    return result


# The source ids that name one alert, as the truth's `key` writes them (synthetic_data/
# generate.py); paternity alerts also name their child.
_ALERT_KEYS = {
    "placement_changed": "placement_id || '|' || cs_case_id",
    "entered_care_while_cs_pays": "removal_id || '|' || cs_case_id",
    "family_in_shelter": "cw_case_id || '|' || hmis_household_id",
    "absent_parent_located": "cw_case_id || '|' || locate_id",
    "paternity_established": "cs_case_id || '|' || child",
    "putative_father_named": "cs_case_id || '|' || child",
}


def evaluate_alerts_and_lists(con: duckdb.DuckDBPyConnection, truth: Path,
                              config: MartsConfig | None = None) -> dict:
    """The alerts (per type), the paternity list and the referral list (per kind) against the
    truth's answers. Alerts are scored on a first run only, whose alerts are the events of the
    extracts' last `first_run_days` days (the truth lists each event with its day); a later
    run's alerts depend on what the run before it saw, which the truth does not know."""
    config = config or load_marts_config()
    answers = {name: truth_file(truth, f"answers/{name}.csv")
               for name in ("alerts", "paternity", "referrals")}

    def answer(name: str) -> str:
        return f"read_csv({literal(str(answers[name]))}, all_varchar=true)"

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _list_truth AS  -- each person's majority true person
        SELECT lp.person_id, mode(r.true_person_id) AS true_person_id
        FROM read_csv({literal(str(truth_file(truth, 'records.csv')))}, all_varchar=true) r
        JOIN linked.persons lp USING (record_id) GROUP BY lp.person_id""")
    result: dict = {}
    first_run = con.execute("SELECT count(*) = 0 FROM marts.alert_facts "
                            "WHERE raised_on <> event_date").fetchall()[0][0]
    if not first_run:
        result["alerts"] = {"skipped": "raised against an earlier run's alert state"}
    else:
        day = as_of(con, config)
        days = min(config.alerts.first_run_days, config.alerts.keep_days)
        keys = " ".join(f"WHEN {literal(t)} THEN {k}" for t, k in _ALERT_KEYS.items())
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _alert_pairs AS
            WITH pred AS (
                SELECT DISTINCT alert_type, CASE alert_type {keys} END AS key
                FROM (SELECT a.*, t.true_person_id AS child FROM marts.alerts a
                      LEFT JOIN _list_truth t ON t.person_id = a.child_person_id)),
            truth AS (
                SELECT DISTINCT alert_type,
                       CASE WHEN alert_type IN ('paternity_established', 'putative_father_named')
                            THEN key || '|' || child_true_person_id ELSE key END AS key
                FROM {answer('alerts')} WHERE event_date::DATE > DATE '{day}' - {days})
            SELECT coalesce(p.alert_type, t.alert_type) AS alert_type,
                   p.key IS NOT NULL AS predicted, t.key IS NOT NULL AS true
            FROM pred p FULL JOIN truth t USING (alert_type, key)""")
        result["alerts"] = {
            kind: _pr(found, predicted, true) for kind, found, predicted, true in con.execute("""
                SELECT alert_type, count(*) FILTER (WHERE predicted AND true),
                       count(*) FILTER (WHERE predicted), count(*) FILTER (WHERE true)
                FROM _alert_pairs GROUP BY 1 ORDER BY 1""").fetchall()}
    paternity = con.execute(f"""
        WITH pred AS (SELECT DISTINCT m.cw_case_id, t.true_person_id AS child
                      FROM marts.paternity m JOIN _list_truth t
                        ON t.person_id = m.child_person_id),
        truth AS (SELECT DISTINCT cw_case_id, child_true_person_id AS child
                  FROM {answer('paternity')})
        SELECT (SELECT count(*) FROM pred JOIN truth USING (cw_case_id, child)),
               (SELECT count(*) FROM pred), (SELECT count(*) FROM truth)""").fetchall()[0]
    result["paternity"] = _pr(*paternity)
    father_right, with_father = con.execute(f"""
        WITH truth AS (SELECT * FROM {answer('paternity')} WHERE cs_case_id IS NOT NULL)
        SELECT count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM marts.paternity m
                   JOIN _list_truth c ON c.person_id = m.child_person_id
                   JOIN _list_truth f ON f.person_id = m.father_person_id
                   WHERE m.cw_case_id = truth.cw_case_id AND m.cs_case_id = truth.cs_case_id
                     AND c.true_person_id = truth.child_true_person_id
                     AND f.true_person_id = truth.father_true_person_id)),
               count(*)
        FROM truth""").fetchall()[0]
    result["paternity"]["cs_father_found"] = _ratio(father_right, with_father)
    result["referrals"] = {}
    for kind in ("refer", "withdraw"):
        found, predicted, true, reasons_right = con.execute(f"""
            WITH pred AS (
                SELECT DISTINCT m.cw_case_id, t.true_person_id AS child,
                       coalesce(m.cs_case_id, '') AS cs_case_id,
                       array_to_string(list_sort(m.reasons), ';') AS reasons
                FROM marts.referrals m JOIN _list_truth t ON t.person_id = m.child_person_id
                WHERE m.kind = {literal(kind)}),
            truth AS (SELECT DISTINCT cw_case_id, child_true_person_id AS child,
                             coalesce(cs_case_id, '') AS cs_case_id, reasons
                      FROM {answer('referrals')} WHERE kind = {literal(kind)}),
            matched AS (SELECT p.reasons = t.reasons AS same FROM pred p
                        JOIN truth t USING (cw_case_id, child, cs_case_id))
            SELECT (SELECT count(*) FROM matched), (SELECT count(*) FROM pred),
                   (SELECT count(*) FROM truth),
                   (SELECT count(*) FILTER (WHERE same) FROM matched)""").fetchall()[0]
        result["referrals"][kind] = _pr(found, predicted, true)
        result["referrals"][kind]["same_reasons"] = _ratio(reasons_right, found)
    return result
