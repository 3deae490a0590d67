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
from helpers import ROOT

from linkage.link.settings import LINKAGE_CONFIG, load_linkage_config
from linkage.review.decisions import Decision, decisions_path, record

# benchmarks/ is not an installed package: import it from the project root, as its scripts do
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.compare import differences, same  # noqa: E402

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


def test_duckdb_and_spark_give_the_same_persons_families_and_lists(
        ingested: Path, tmp_path: Path) -> None:
    spark_config = yaml.safe_load(LINKAGE_CONFIG.read_text())
    spark_config["engine"] = {"name": "spark", "spark": {
        "master": "local[2]", "driver_memory": "2g", "shuffle_partitions": 4}}
    config = tmp_path / "linkage-spark.yaml"
    config.write_text(yaml.safe_dump(spark_config))

    # a first run (link, families, lists) and decisions on its pairs: both engines then
    # start from this warehouse (its person and family ids are the history the next run's
    # follow, its lists the rows the next run's are new, changed or resolved against) and
    # apply them
    start = tmp_path / "start"
    start.mkdir()
    shutil.copy(ingested, start / "famlink.duckdb")
    _famlink("link", "--db", str(start / "famlink.duckdb"))
    _famlink("families", "--db", str(start / "famlink.duckdb"))
    _decide(start / "famlink.duckdb")
    warehouses = {}
    for engine, args in (("duckdb", []), ("spark", [str(config)])):
        folder = tmp_path / engine
        shutil.copytree(start, folder)
        db = folder / "famlink.duckdb"
        _famlink("link", "--db", str(db), "--retrain", *(["--config", *args] if args else []))
        _famlink("families", "--db", str(db), *(["--linkage-config", *args] if args else []))
        warehouses[engine] = db

    a, b = warehouses["duckdb"], warehouses["spark"]
    con = duckdb.connect(str(b), read_only=True)
    summary = con.execute("SELECT summary FROM linked.runs ORDER BY finished_at DESC "
                          "LIMIT 1").fetchall()[0][0]
    statuses = dict(con.execute("SELECT status, count(*) FROM marts.list_history "
                                "GROUP BY status").fetchall())
    con.close()
    assert json.loads(summary)["decisions"] == 2
    assert json.loads(summary)["engine"] == "spark"
    # the second run's lists moved on from the first's: history carried forward on Spark
    assert statuses.get("unchanged", 0) > 0 and statuses.get("new", 0) + \
        statuses.get("changed", 0) + statuses.get("resolved", 0) > 0

    persons, differ = same(a, b, "SELECT record_id, person_id FROM {db}.linked.persons")
    assert persons > 3000 and differ == 0
    pairs, differ = same(a, b, "SELECT rid_l, rid_r, rule, apart, "
                                "round(match_weight, 9) AS w FROM {db}.linked.pairs")
    assert pairs > 1000 and differ == 0
    # weights agree to the last few bits of a double (sums in another order)
    _, differ = same(a, b, "SELECT * REPLACE (round(match_probability, 9) AS "
                            "match_probability, round(match_weight, 9) AS match_weight) "
                            "FROM {db}.review.queue")
    assert differ == 0
    # Every table the families step writes, whole rows, with the same column types: the
    # families, their ids and history, every list, its resolved rows and the lists' history
    # (content hashes and statuses included). Only the times of the runs differ.
    found = differences(a, b, "families", "marts")
    assert {"families.members", "families.relationships", "marts.alerts",
            "marts.list_history", "marts.referrals"} <= set(found)
    assert {table: counts for table, counts in found.items() if counts["differ"]} == {}
    for table in ("families.members", "marts.absent_parent_leads", "marts.list_history"):
        assert found[table]["rows"] > 0, table


def test_a_salted_id_comes_out_the_same_on_spark(tmp_path: Path) -> None:
    """The rare new id that is already taken is salted on Spark as on DuckDB (a table joined
    in: the Spark engine runs no UPDATE)."""
    from test_stable_ids import split_where_the_smaller_member_loses_its_id

    from linkage.engines.spark import SparkConnection
    from linkage.link.settings import SparkSettings

    spark = SparkConnection(SparkSettings(master="local[1]", driver_memory="1g",
                                          shuffle_partitions=2), tmp_path)
    try:
        on_spark = split_where_the_smaller_member_loses_its_id(spark)  # type: ignore[arg-type]
    finally:
        spark.close()
    first, second = split_where_the_smaller_member_loses_its_id(duckdb.connect())
    assert on_spark == (first, second) and second["a"] != second["b"]


def test_the_driver_running_out_of_memory_is_worded_and_cleaned_up(tmp_path: Path) -> None:
    """A statement that outgrows Spark's driver ends its JVM (Spark's exit code 52; Python
    sees the connection drop): that is EngineOutOfMemory naming engine.spark.driver_memory,
    which the step words as one line (tests/test_resources.py), and the work folder with its
    copies of the records is deleted."""
    from linkage.engines.spark import SparkConnection
    from linkage.link.settings import SparkSettings
    from linkage.warehouse import EngineOutOfMemory

    spark = SparkConnection(SparkSettings(master="local[1]", driver_memory="512m",
                                          shuffle_partitions=1), tmp_path)
    try:
        with pytest.raises(EngineOutOfMemory) as caught:
            spark.execute("CREATE TABLE big AS SELECT length(string_agg(repeat('x', 1000), "
                          "',')) AS n FROM range(3000000)")
    finally:
        spark.close()
    assert caught.value.setting == "engine.spark.driver_memory" and caught.value.limit == "512m"
    assert not list(tmp_path.glob("famlink-spark-*"))
