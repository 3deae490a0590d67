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

from linkage.warehouse import literal

MERGE_CASES = {"twin": "twin_of", "jr_sr": "jr_of"}


def _f1(p: float | None, r: float | None) -> float | None:
    return None if not p or not r else 2 * p * r / (p + r)


def _ratio(a: float, b: float) -> float | None:
    return None if not b else a / b


def load_truth(con: duckdb.DuckDBPyConnection, truth: Path) -> None:
    """Temp tables _truth (record_id, system, true_person_id, hard_cases[], ethnicity) over the
    records that are in the warehouse, and _twins (pairs of different people to keep apart)."""
    records, persons = truth / "records.csv", truth / "persons.csv"
    for path in (records, persons):
        if not path.exists():
            raise FileNotFoundError(f"{path}: not found (is {truth} the truth folder that "
                                    f"`famlink synth` wrote?)")
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
