"""Person lists that nobody here wrote, laid out so that famlink reads them as a new user would.

Why: every accuracy figure from famlink's own generator was written by the same hands as the
linker, so the benchmarks also measure famlink on data from elsewhere (issue 12). Each module
of this package writes one kind of external data set into the same layout, which
`benchmarks/linkage.py --dataset NAME` and the tests read:

    DIR/extracts/<system>/people.parquet   one generic person list per source, every column text
    DIR/sources/<system>.yaml              its source config (`famlink ingest --config DIR/sources`)
    DIR/truth.csv                          record_id (as famlink names it: <system>:<id>), true_id

Nothing here reaches into `linkage`: the lists go through the same generic Parquet source and
YAML mapping that any agency's person list would (linkage/sources.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

PEOPLE_FILE = "people.parquet"
TRUTH_FILE = "truth.csv"


def write_person_list(out: Path, system: str, rows: Sequence[Mapping[str, str | None]],
                      key: str, person: Mapping[str, str], date_formats: Sequence[str]) -> None:
    """One source: its rows as `extracts/<system>/people.parquet` (every column text, as an
    agency's export would be) and the YAML that maps them onto famlink's person records.

    `key`: the column holding each row's own id (famlink's record id is `<system>:<key>`);
    `person`: famlink's person field -> the column that holds it (linkage/sources.py).
    """
    folder = out / "extracts" / system
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else [key]
    table = pa.table({c: pa.array([row.get(c) for row in rows], pa.string()) for c in columns})
    pq.write_table(table, folder / PEOPLE_FILE)
    config = {
        "system": system,
        "format": "parquet",
        "path": system,
        "date_formats": list(date_formats),
        "tables": {"people": {"file": PEOPLE_FILE, "key": [key], "required": [key]}},
        "person": {"table": "people", "source_id": key, **person},
    }
    (out / "sources").mkdir(parents=True, exist_ok=True)
    (out / "sources" / f"{system}.yaml").write_text(
        f"# {system}: written by benchmarks/datasets; a generic Parquet person list\n"
        + yaml.safe_dump(config, sort_keys=False))


def write_truth(out: Path, pairs: Iterable[tuple[str, str]]) -> None:
    """`truth.csv`: (record_id, true_id) for every record, record ids as famlink names them."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / TRUTH_FILE, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record_id", "true_id"])
        writer.writerows(pairs)


def _f1(precision: float | None, recall: float | None) -> float | None:
    return 2 * precision * recall / (precision + recall) if precision and recall else None


def truth_accuracy(con: duckdb.DuckDBPyConnection, persons: str, truth: Path) -> dict:
    """How well `persons` (SQL naming a relation of record_id, person_id: famlink's
    `linked.persons`, or a peer's clusters) matches `truth.csv`, over the records in both.

    The measures are `linkage.evaluate`'s, so figures on these data sets read like those on
    famlink's own population: cluster (a predicted person is right when it holds exactly the
    records of one true person; precision = right / predicted persons, recall = right / true
    persons) and pairwise (over pairs of records put in one person: precision, recall, F1).
    The pairwise figures are what `shared/tools/febrl4-check` calls cluster precision / recall.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _scored AS
        SELECT t.record_id, t.true_id, p.person_id::VARCHAR AS person_id
        FROM read_csv('{truth}', all_varchar=true) t
        JOIN (SELECT record_id, person_id FROM {persons}) p USING (record_id)""")

    def pairs(group: str) -> int:
        return int(con.execute(f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) "
                               f"AS n FROM _scored GROUP BY {group})").fetchall()[0][0])

    true_pairs, predicted_pairs = pairs("true_id"), pairs("person_id")
    right_pairs = pairs("person_id, true_id")
    records, exact, predicted, true = con.execute("""
        WITH p AS (SELECT list(record_id ORDER BY record_id) AS recs FROM _scored
                   GROUP BY person_id),
             t AS (SELECT list(record_id ORDER BY record_id) AS recs FROM _scored
                   GROUP BY true_id)
        SELECT (SELECT count(*) FROM _scored), (SELECT count(*) FROM p JOIN t USING (recs)),
               (SELECT count(*) FROM p), (SELECT count(*) FROM t)""").fetchall()[0]
    precision = exact / predicted if predicted else None
    recall = exact / true if true else None
    pair_precision = right_pairs / predicted_pairs if predicted_pairs else None
    pair_recall = right_pairs / true_pairs if true_pairs else None
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "pairwise_precision": pair_precision, "pairwise_recall": pair_recall,
            "pairwise_f1": _f1(pair_precision, pair_recall), "records": records,
            "true_persons": true, "predicted_persons": predicted, "true_pairs": true_pairs,
            "predicted_pairs": predicted_pairs, "right_pairs": right_pairs}


def candidate_recall(records: Path, rules: Sequence[Sequence[str]], truth: Path) -> dict:
    """How many true pairs the blocking rules propose at all: the pairs of one true person
    whose records agree on every key of at least one rule (a null key agrees with nothing).

    Why: no engine links a pair it never compares, so this bounds every engine's pairwise
    recall on the shared candidate pairs (exactly, where each true person has two records, as
    in FEBRL4; clustering can join larger true persons through a third record). `records`:
    the peers' export, `rules`: its blocking rules (lists of its columns)."""
    agree = " OR ".join("(" + " AND ".join(f'a."{key}" = b."{key}"' for key in rule) + ")"
                        for rule in rules) or "false"
    con = duckdb.connect()
    try:
        proposed, true_pairs = con.execute(f"""
            WITH t AS (SELECT record_id, true_id FROM read_csv('{truth}', all_varchar=true)),
                 p AS (SELECT x.record_id AS l, y.record_id AS r FROM t x JOIN t y
                       ON x.true_id = y.true_id AND x.record_id < y.record_id)
            SELECT count(*) FILTER (WHERE {agree}), count(*) FROM p
            JOIN read_parquet('{records}') a ON a.record_id = p.l
            JOIN read_parquet('{records}') b ON b.record_id = p.r""").fetchall()[0]
    finally:
        con.close()
    return {"rules": len(rules), "true_pairs": true_pairs, "true_pairs_proposed": proposed,
            "recall_ceiling": proposed / true_pairs if true_pairs else None}
