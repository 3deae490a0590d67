"""famlink on person lists that nobody here wrote: FEBRL4 and FEBRL3 (tests/fixtures/febrl/).

Why: every other accuracy test measures famlink on its own generator, written by the same hands
as the linker. These load FEBRL as a new user would (generic Parquet person lists and source
YAMLs, `famlink ingest`, then `famlink link` with the shipped configs/linkage.yaml, through the
real command) and score the persons against FEBRL's truth, with the measures of
`benchmarks/linkage.py --dataset febrl4|febrl3` (benchmarks.datasets.truth_accuracy):
- pairwise: over pairs of records put in one person (what shared/tools/febrl4-check and issue
  12 call cluster precision / recall / F1);
- cluster: a person is right when it holds exactly one true person's records.

The targets are issue 12's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import ROOT

# benchmarks/ is not an installed package: import it from the project root, as its scripts do
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.datasets import febrl, truth_accuracy  # noqa: E402

FAMLINK = [sys.executable, "-c", "from flows.cli import main; main()"]
# Issue 12's target on FEBRL4, pairwise (Splink 5 as documented: 0.9994).
FEBRL4_TARGET_F1 = 0.998
# Splink's F1 on the same records and candidate pairs, Splink 5 set up as its FEBRL4 and FEBRL3
# examples: measured by `python benchmarks/linkage.py --dataset febrl4|febrl3`
# (benchmarks/results/linkage-febrl4.json and -febrl3.json, 2026-12-06, at commit d4e5885).
# Issue 12: FEBRL3 at least Splink's F1; on FEBRL4 the exact-cluster measure at least Splink's.
SPLINK_FEBRL4_CLUSTER_F1 = 0.9946
SPLINK_FEBRL3_PAIRWISE_F1 = 0.9966
SPLINK_FEBRL3_CLUSTER_F1 = 0.9903


def _famlink(*args: str) -> str:
    """Run the `famlink` command; its stderr (the summaries) when it succeeds."""
    result = subprocess.run([*FAMLINK, *args], capture_output=True, text=True, cwd=ROOT,
                            env=os.environ.copy(), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


def _link(name: str, tmp: Path) -> dict:
    """FEBRL data set `name` from the fixtures, ingested and linked by the famlink command;
    its accuracy against the data set's truth."""
    data, db = tmp / name, tmp / f"{name}.duckdb"
    febrl.write(name, data, febrl.FIXTURES)
    _famlink("ingest", "--data", str(data), "--db", str(db), "--config", str(data / "sources"))
    _famlink("link", "--db", str(db))
    con = duckdb.connect(str(db), read_only=True)
    try:
        return truth_accuracy(con, "linked.persons", data / "truth.csv")
    finally:
        con.close()


@pytest.fixture(scope="module")
def febrl4(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _link("febrl4", tmp_path_factory.mktemp("febrl4"))


@pytest.fixture(scope="module")
def febrl3(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _link("febrl3", tmp_path_factory.mktemp("febrl3"))


def test_febrl_fixtures_load_whole(tmp_path: Path) -> None:
    """The fixtures become famlink's layout and every record is ingested, none rejected:
    what the accuracy tests below measure is linkage, not loading."""
    febrl.write("febrl4", tmp_path / "d", febrl.FIXTURES)
    log = _famlink("ingest", "--data", str(tmp_path / "d"), "--db", str(tmp_path / "w.duckdb"),
                   "--config", str(tmp_path / "d" / "sources"))
    assert "every file balances" in log
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    counts = dict(con.execute("SELECT system, count(*) FROM staged.person_records "
                              "GROUP BY system").fetchall())
    rejected = con.execute("SELECT count(*) FROM staged.rejects").fetchall()[0][0]
    truth = con.execute(f"SELECT count(*), count(DISTINCT true_id) FROM "
                        f"read_csv('{tmp_path / 'd' / 'truth.csv'}', all_varchar=true)"
                        ).fetchall()[0]
    con.close()
    assert counts == {"febrl4a": 5000, "febrl4b": 5000} and rejected == 0
    assert truth == (10000, 5000)


def test_febrl4_links_as_well_as_splink_documents(febrl4: dict) -> None:
    assert febrl4["records"] == 10000
    assert febrl4["pairwise_f1"] >= FEBRL4_TARGET_F1, febrl4
    assert febrl4["f1"] >= SPLINK_FEBRL4_CLUSTER_F1, febrl4


def test_febrl3_at_least_as_accurate_as_splink(febrl3: dict) -> None:
    assert febrl3["records"] == 5000
    assert febrl3["pairwise_f1"] >= SPLINK_FEBRL3_PAIRWISE_F1, febrl3
    assert febrl3["f1"] >= SPLINK_FEBRL3_CLUSTER_F1, febrl3
