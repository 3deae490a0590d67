"""The same population through both engines (configs/linkage.yaml, `engine`): DuckDB, and
Spark in local mode. Every person, pair weight, family and list row must come out the
same.

Runs through the real `famlink` command, with a reviewer's decisions in the store (a "not a
match" on a pair the model merges, a "match" on one it leaves apart), so that the decisions'
path through the Spark engine is the one compared too. Needs pyspark (the `spark` extra, in
`dev`) and Java 17; without them the test says so and skips.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from linkage.link.settings import LINKAGE_CONFIG, load_linkage_config
from linkage.marts.history import KEYS
from linkage.review.decisions import Decision, decisions_path, record

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="the Spark engine needs pyspark (pip install 'famlink[spark]') and Java 17")

FAMLINK = str(Path(sys.executable).with_name("famlink"))


def _famlink(*args: str) -> None:
    subprocess.run([FAMLINK, *args], check=True, capture_output=True, text=True)


def _decide(db: Path) -> None:
    """Two decisions every run applies: apart a pair the model links for sure, together the
    most likely pair it leaves apart (not two records of one case: those stay two people)."""
    con = duckdb.connect(str(db))
    merged = con.execute("""
        SELECT a.record_id, b.record_id FROM linked.pairs p
        JOIN linked.records a ON a.rid = p.rid_l JOIN linked.records b ON b.rid = p.rid_r
        WHERE p.match_probability > 0.999 AND NOT p.apart ORDER BY 1, 2 LIMIT 1""").fetchall()[0]
    apart = con.execute("""
        SELECT a.record_id, b.record_id FROM linked.pairs p
        JOIN linked.records a ON a.rid = p.rid_l JOIN linked.records b ON b.rid = p.rid_r
        WHERE p.match_probability BETWEEN 0.2 AND 0.8 AND NOT p.apart
          AND NOT list_has_any(a.groups, b.groups)
        ORDER BY p.match_probability DESC, 1, 2 LIMIT 1""").fetchall()[0]
    con.close()
    path = decisions_path(db, load_linkage_config().review.decisions_file)
    record(path, Decision(*merged, "no_match", "Liaison A", "two people"))
    record(path, Decision(*apart, "match", "Liaison B"))


def _same(a: Path, b: Path, query: str) -> tuple[int, int]:
    """(rows, rows that differ) of `query` over warehouses a and b."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY); ATTACH '{b}' AS b (READ_ONLY)")
    rows = con.execute(f"SELECT count(*) FROM ({query.format(db='a')})").fetchall()[0][0]
    differ = con.execute(f"""SELECT count(*) FROM (
        (SELECT * FROM ({query.format(db='a')}) EXCEPT ALL SELECT * FROM ({query.format(db='b')}))
        UNION ALL
        (SELECT * FROM ({query.format(db='b')}) EXCEPT ALL SELECT * FROM ({query.format(db='a')})))
        """).fetchall()[0][0]
    con.close()
    return rows, differ


def test_duckdb_and_spark_give_the_same_persons_families_and_lists(
        ingested: Path, tmp_path: Path) -> None:
    spark_config = yaml.safe_load(LINKAGE_CONFIG.read_text())
    spark_config["engine"] = {"name": "spark", "spark": {
        "master": "local[2]", "driver_memory": "2g", "shuffle_partitions": 4}}
    config = tmp_path / "linkage-spark.yaml"
    config.write_text(yaml.safe_dump(spark_config))

    # a first run, and decisions on its pairs: both engines then start from this warehouse
    # (its person ids are the history the next run's ids follow) and apply them
    start = tmp_path / "start"
    start.mkdir()
    shutil.copy(ingested, start / "famlink.duckdb")
    _famlink("link", "--db", str(start / "famlink.duckdb"))
    _decide(start / "famlink.duckdb")
    warehouses = {}
    for engine, args in (("duckdb", []), ("spark", ["--config", str(config)])):
        folder = tmp_path / engine
        shutil.copytree(start, folder)
        db = folder / "famlink.duckdb"
        _famlink("link", "--db", str(db), "--retrain", *args)
        _famlink("families", "--db", str(db))
        warehouses[engine] = db

    a, b = warehouses["duckdb"], warehouses["spark"]
    con = duckdb.connect(str(b), read_only=True)
    summary = con.execute("SELECT summary FROM linked.runs ORDER BY finished_at DESC "
                          "LIMIT 1").fetchall()[0][0]
    con.close()
    assert json.loads(summary)["decisions"] == 2
    assert json.loads(summary)["engine"] == "spark"

    persons, differ = _same(a, b, "SELECT record_id, person_id FROM {db}.linked.persons")
    assert persons > 3000 and differ == 0
    pairs, differ = _same(a, b, "SELECT rid_l, rid_r, rule, apart, "
                                "round(match_weight, 9) AS w FROM {db}.linked.pairs")
    assert pairs > 1000 and differ == 0
    # weights agree to the last few bits of a double (sums in another order)
    _, differ = _same(a, b, "SELECT * REPLACE (round(match_probability, 9) AS "
                            "match_probability, round(match_weight, 9) AS match_weight) "
                            "FROM {db}.review.queue")
    assert differ == 0
    families, differ = _same(a, b, "SELECT * FROM {db}.families.members")
    assert families > 0 and differ == 0
    # Every list holds the same rows: what a worker acts on (marts.history.KEYS), and for the
    # alerts, paternity and referral lists the people and cases each row names. (Whole rows
    # are not compared: a few fields the lists take with any_value or mode on a tie can come
    # out either way from one build to the next, on one engine as on two.)
    keys = {**{name: ", ".join(columns) for name, columns in KEYS.items()},
            "alerts": "agency, alert_type, child_person_id, other_person_id, cw_case_id, "
                      "cs_case_id, removal_id, hmis_household_id",
            "paternity": "cw_case_id, removal_id, child_person_id, cs_case_id, "
                         "father_person_id",
            "referrals": "kind, cw_case_id, removal_id, child_person_id, cs_case_id"}
    for mart, columns in keys.items():
        _, differ = _same(a, b, f"SELECT {columns} FROM {{db}}.marts.{mart}")
        assert differ == 0, mart
