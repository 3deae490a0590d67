"""Accuracy from reviewers' labels (`famlink evaluate --labels`, `famlink review sample`):
the estimator on hand-built warehouses whose answer is known, then end to end on a small
synthetic run, where honest reviewers' labels of a stratified sample must give intervals
that cover the accuracy measured against the generator's truth."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import read_csv
from scipy.stats import binomtest

from linkage.cli import cli
from linkage.evaluate_labels import (
    IMPORT_COLUMNS,
    Z95,
    LabelsError,
    band_edges,
    evaluate_labels,
    wilson,
    wilson_quantile,
)
from linkage.link.settings import load_linkage_config
from linkage.review.decisions import Decision, decisions_path, record
from linkage.warehouse import connect

CONFIG = load_linkage_config()


# --- the statistics ---------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "n"), [(8, 10), (0, 10), (10, 10), (1, 40), (30, 60), (37, 41)])
def test_wilson_interval_is_the_textbook_one(x: int, n: int) -> None:
    expected = binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(x, n) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_wilson_interval_known_values() -> None:
    # 8 of 10: the interval every textbook prints (Newcombe 1998, method 3)
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)  # no labels: nothing known


def test_the_bootstrap_draws_shares_whose_95_percent_range_is_the_wilson_interval() -> None:
    z = np.random.default_rng(1).standard_normal(200_000)
    for x, n in ((3, 20), (0, 25), (25, 25)):
        assert tuple(wilson_quantile(x, n, np.array([-Z95, Z95]))) == \
            pytest.approx(wilson(x, n))
        draws = wilson_quantile(x, n, z)
        low, high = np.quantile(draws, [0.025, 0.975])
        assert (low, high) == pytest.approx(wilson(x, n), abs=2e-3)
        grid = wilson_quantile(x, n, np.linspace(-4, 4, 81))
        assert np.all(np.diff(grid) >= 0)  # a distribution: monotone in z
    assert np.mean(wilson_quantile(0, 25, z) == 0.0) == pytest.approx(0.5, abs=0.01)
    assert np.mean(wilson_quantile(25, 25, z) == 1.0) == pytest.approx(0.5, abs=0.01)


def test_bands_follow_the_thresholds_in_the_config() -> None:
    assert band_edges(CONFIG) == [0.0, 0.5, 0.85, 0.99, 1.0]
    other = CONFIG.model_copy(update={"thresholds": CONFIG.thresholds.model_copy(
        update={"review_low": 0.3, "link": 0.9, "review_high": 0.9})})
    assert band_edges(other) == [0.0, 0.3, 0.9, 1.0]


# --- the estimator on a hand-built warehouse ---------------------------------------------------

class Warehouse:
    """linked.records / pairs / persons built by hand: groups of pairs of two fresh records,
    each group at one match probability, linked (one person) or not."""

    def __init__(self, path: Path) -> None:
        self.db = path
        self.con = connect(path)
        self.con.execute("""
            CREATE SCHEMA IF NOT EXISTS linked;
            CREATE TABLE linked.records (rid INTEGER, record_id VARCHAR);
            CREATE TABLE linked.pairs (rid_l INTEGER, rid_r INTEGER, rule VARCHAR,
                guards VARCHAR[], match_weight DOUBLE, match_probability DOUBLE);
            CREATE TABLE linked.persons (record_id VARCHAR, person_id VARCHAR);
            CREATE TABLE linked.runs (run_id VARCHAR, finished_at TIMESTAMP, summary JSON);
            INSERT INTO linked.runs VALUES ('20250601T020000', '2025-06-01 02:05:00',
                                            '{"decisions_as_of": 0}');
        """)
        self.rid = 0

    def pairs(self, n: int, p: float | None, linked: bool) -> list[tuple[str, str]]:
        first, self.rid = self.rid + 1, self.rid + 2 * n
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _new AS
            SELECT {first} + 2 * i AS l, {first} + 2 * i + 1 AS r FROM range({n}) t(i);
            INSERT INTO linked.records
            SELECT rid, printf('x:%06d', rid) FROM (SELECT l AS rid FROM _new UNION ALL
                                                    SELECT r FROM _new);
            INSERT INTO linked.persons
            SELECT printf('x:%06d', l), 'P' || l FROM _new UNION ALL
            SELECT printf('x:%06d', r), 'P' || {'l' if linked else 'r'} FROM _new;""")
        if p is not None:
            self.con.execute(f"INSERT INTO linked.pairs SELECT l, r, 'r', [], 0, {p} "
                             f"FROM _new")
        return [(f"x:{first + 2 * i:06d}", f"x:{first + 2 * i + 1:06d}") for i in range(n)]

    def labels(self, rows: list[tuple[str, str, str]]) -> Path:
        path = self.db.parent / "labels.csv"
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id_l", "record_id_r", "decision"])
            writer.writerows(rows)
        return path

    def evaluate(self, labels: Path | None) -> dict:
        return evaluate_labels(self.con, CONFIG, self.db, labels, draws=2000, seed=3)


def _stratum(result: dict, name: str) -> dict:
    return next(s for s in result["strata"] if s["name"] == name)


def test_labels_all_saying_match_give_precision_near_one(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "w.duckdb")
    top = w.pairs(500, 0.999, linked=True)
    low = w.pairs(300, 0.01, linked=False)
    result = w.evaluate(w.labels([(*p, "match") for p in top[:50]]
                                 + [(*p, "no_match") for p in low[:50]]))
    pair = result["pairwise"]
    assert pair["pairs"] == 500 and pair["precision"] == 1.0 and pair["recall"] == 1.0
    low_ci, high_ci = pair["precision_ci"]
    assert high_ci == 1.0 and 0.9 < low_ci < 1.0
    assert pair["recall_ci"][1] == 1.0 and pair["recall_ci"][0] < 1.0  # 250 low pairs unseen
    top_stratum = _stratum(result, "[0.99, 1] linked")
    assert top_stratum["share"] == 1.0 and top_stratum["basis"] == "labels"
    assert top_stratum["share_ci"] == pytest.approx(list(wilson(50, 50)))
    assert result["confusion"].items() >= {"tp": 50, "fp": 0, "fn": 0, "tn": 50}.items()
    assert result["pairwise"]["model_based_strata"] == []
    assert evaluate_labels(w.con, CONFIG, w.db, w.db.parent / "labels.csv", draws=2000,
                           seed=3) == w.evaluate(w.db.parent / "labels.csv")  # seeded


def test_a_band_with_half_its_links_wrong(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "w.duckdb")
    mid = w.pairs(400, 0.9, linked=True)
    labels = [(*p, "match" if i % 2 else "no_match") for i, p in enumerate(mid[:60])]
    result = w.evaluate(w.labels(labels))
    stratum = _stratum(result, "[0.85, 0.99) linked")
    assert stratum["share"] == 0.5 and stratum["labelled"] == 60
    assert stratum["share_ci"][0] < 0.5 < stratum["share_ci"][1]
    assert stratum["share_ci"] == pytest.approx(list(wilson(30, 60)))
    pair = result["pairwise"]
    assert pair["precision"] == pytest.approx(0.5)
    assert pair["precision_ci"][0] < 0.5 < pair["precision_ci"][1]
    # the unlabelled 340 pairs carry the uncertainty: about the share's interval, a bit less
    width = pair["precision_ci"][1] - pair["precision_ci"][0]
    assert 0.5 * (stratum["share_ci"][1] - stratum["share_ci"][0]) < width
    assert width < stratum["share_ci"][1] - stratum["share_ci"][0] + 0.02
    assert result["confusion"]["fp"] == 30


def test_a_stratum_without_labels_is_model_based_and_says_so(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "w.duckdb")
    top = w.pairs(100, 0.995, linked=True)
    w.pairs(40, 0.6, linked=False)
    w.pairs(40, 0.7, linked=False)
    result = w.evaluate(w.labels([(*p, "match") for p in top[:20]]))
    stratum = _stratum(result, "[0.5, 0.85) not linked")
    assert stratum["basis"] == "model" and stratum["labelled"] == 0
    assert stratum["share"] == pytest.approx(0.65) and stratum["share_ci"] is None
    assert stratum["est_matches"] == pytest.approx(52)
    assert result["pairwise"]["model_based_strata"] == ["[0.5, 0.85) not linked"]
    assert any("[0.5, 0.85) not linked has no usable labels" in a and "model-based" in a
               for a in result["assumptions"])
    assert result["pairwise"]["recall"] == pytest.approx(100 / 152)


def test_odd_labels_are_counted_never_fatal(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "w.duckdb")
    top = w.pairs(30, 0.999, linked=True)
    apart = w.pairs(2, None, linked=False)  # records never compared with each other
    result = w.evaluate(w.labels([
        (*top[0], "no_match"), (*top[0], "Match"),  # the last row on a pair wins
        (*top[1], "unsure"),  # no label
        (top[2][0], "gone:000001", "match"),  # a record no longer in the warehouse
        (apart[0][0], apart[1][0], "match"),  # a match blocking never proposed
        (apart[0][1], apart[1][1], "no_match"),
        (*top[3], ""),  # not labelled yet
    ]))
    labels = result["labels"]
    assert labels.items() >= {"labels": 4, "match": 3, "no_match": 1, "unsure": 1, "blank": 1,
                           "naming_records_not_in_warehouse": 1, "on_pairs_never_proposed": 2,
                           "never_proposed_but_match": 1}.items()
    assert result["pairwise"]["est_true_matches_missed"] == pytest.approx(1.0)
    assert result["pairwise"]["recall"] == pytest.approx(30 / 31)
    assert result["confusion"].items() >= {"tp": 1, "fn": 1, "tn": 1}.items()


def test_unreadable_labels_say_which_line_and_never_a_record_value(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "w.duckdb")
    top = w.pairs(3, 0.999, linked=True)
    with pytest.raises(LabelsError, match=r"line 3: decision 'maybe' is not one of"):
        w.evaluate(w.labels([(*top[0], "match"), (*top[1], "maybe")]))
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right,verdict\nx:000001,x:000002,match\n")
    with pytest.raises(LabelsError, match="no column decision, record_id_l, record_id_r"):
        w.evaluate(bad)
    with pytest.raises(LabelsError, match="no labels"):
        w.evaluate(None)  # no decisions recorded yet


def test_decisions_the_run_applied_count_but_do_not_speak_for_their_stratum(
        tmp_path: Path) -> None:
    """A "match" the run applied made its own pair linked: evidence about that pair, not
    about the model's other links. Decisions recorded after the run are a fair sample."""
    w = Warehouse(tmp_path / "w.duckdb")
    mid = w.pairs(50, 0.7, linked=True)
    low = w.pairs(50, 0.2, linked=False)
    path = decisions_path(w.db, CONFIG.review.decisions_file)
    for left, right in mid[:10]:  # before the run started: the store's mark was then 10
        record(path, Decision(left, right, "match", "liaison", at="2025-05-30 10:00:00"))
    w.con.execute("""UPDATE linked.runs SET summary = '{"decisions_as_of": 10}'""")
    for left, right in low[:10]:  # after it
        record(path, Decision(left, right, "no_match", "liaison", at="2025-06-02 09:00:00"))
    result = w.evaluate(None)
    assert result["labels"]["applied_by_the_run"] == 10
    applied = _stratum(result, "[0.5, 0.85) linked")
    assert applied["labelled"] == 10 and applied["usable"] == 0
    assert applied["basis"] == "model" and applied["est_matches"] == pytest.approx(10 + 40 * .7)
    fresh = _stratum(result, "[0, 0.5) not linked")
    assert fresh["usable"] == 10 and fresh["basis"] == "labels" and fresh["share"] == 0.0
    assert any("10 labels were applied by the current run" in a for a in result["assumptions"])


# --- end to end through the CLI on a small synthetic run ---------------------------------------

def _honest_reviewer(sample: Path, truth: Path, out: Path) -> int:
    """Fill a sample's decision column from the generator's truth, as a careful liaison
    would; returns how many pairs are matches."""
    person = {r["record_id"]: r["true_person_id"] for r in read_csv(truth / "records.csv")}
    rows = read_csv(sample)
    for row in rows:
        same = person[row["record_id_l"]] == person[row["record_id_r"]]
        row.update(decision="match" if same else "no match", reviewer="Liaison T")
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sum(row["decision"] == "match" for row in rows)


def test_labels_of_a_stratified_sample_cover_the_truth(linked: Path, small: Path,
                                                      tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    runner = CliRunner()
    sample = tmp_path / "sample.csv"
    drawn = runner.invoke(cli, ["review", "sample", "--db", str(db), "--per-band", "40",
                                "--seed", "7", "--out", str(sample)])
    assert drawn.exit_code == 0, drawn.output
    again = runner.invoke(cli, ["review", "sample", "--db", str(db), "--per-band", "40",
                                "--seed", "7", "--out", str(tmp_path / "again.csv")])
    assert again.exit_code == 0 and (tmp_path / "again.csv").read_text() == sample.read_text()
    rows = read_csv(sample)
    assert list(rows[0])[:len(IMPORT_COLUMNS)] == list(IMPORT_COLUMNS)
    assert all(row["decision"] == "" for row in rows)
    strata = {row["stratum"] for row in rows}
    assert {"[0, 0.5) not linked", "[0.99, 1] linked"} <= strata
    assert max(sum(r["stratum"] == s for r in rows) for s in strata) == 40
    text = sample.read_text()
    with duckdb.connect(str(db), read_only=True) as con:
        ssns = {ssn for (ssn,) in con.execute(
            "SELECT ssn FROM staged.person_records WHERE ssn IS NOT NULL AND record_id IN "
            "(SELECT unnest([record_id_l, record_id_r]) FROM read_csv(?, all_varchar=true))",
            [str(sample)]).fetchall()}
    assert "***-**-" in text and ssns and not any(ssn in text for ssn in ssns)

    filled = tmp_path / "filled.csv"
    assert _honest_reviewer(sample, small / "truth", filled) > 0
    imported = runner.invoke(cli, ["review", "import", str(filled), "--db", str(db)])
    assert imported.exit_code == 0, imported.output

    estimated = runner.invoke(cli, ["evaluate", "--labels", "--db", str(db),
                                    "--out", str(tmp_path / "labels.json")])
    assert estimated.exit_code == 0, estimated.output
    assert "precision" in estimated.output and "by stratum" in estimated.output
    measured = runner.invoke(cli, ["evaluate", "--truth", str(small / "truth"), "--db",
                                   str(db), "--out", str(tmp_path / "truth.json")])
    assert measured.exit_code == 0, measured.output
    result = json.loads((tmp_path / "labels.json").read_text())
    truth = json.loads((tmp_path / "truth.json").read_text())["pairwise"]
    estimate = result["pairwise"]
    assert result["labels"]["labels"] == len(rows)
    assert estimate["pairs"] == truth["predicted_pairs"]
    low, high = estimate["precision_ci"]
    assert low <= truth["precision"] <= high
    low, high = estimate["recall_ci"]
    assert low <= truth["recall"] <= high
    assert abs(estimate["recall"] - truth["recall"]) < 0.02
    assert result["pairwise"]["model_based_strata"] == []

    # the filled sheet itself is a labels file; the estimate is the same
    direct = runner.invoke(cli, ["evaluate", "--labels", str(filled), "--db", str(db),
                                 "--out", str(tmp_path / "direct.json")])
    assert direct.exit_code == 0, direct.output
    assert json.loads((tmp_path / "direct.json").read_text())["pairwise"] == estimate

    # a second sample leaves out the pairs already labelled
    more = runner.invoke(cli, ["review", "sample", "--db", str(db), "--per-band", "40",
                               "--seed", "7", "--out", str(tmp_path / "more.csv")])
    assert more.exit_code == 0, more.output
    first = {(r["record_id_l"], r["record_id_r"]) for r in rows}
    assert not first & {(r["record_id_l"], r["record_id_r"])
                        for r in read_csv(tmp_path / "more.csv")}


def test_evaluate_takes_truth_or_labels_not_both(linked: Path, small: Path,
                                                 tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(cli, ["evaluate", "--truth", str(small / "truth"), "--labels",
                               "--db", str(linked)])
    assert both.exit_code != 0 and "one of --truth DIR or --labels" in both.output
    neither = runner.invoke(cli, ["evaluate", "--db", str(linked)])
    assert neither.exit_code != 0 and "one of --truth DIR or --labels" in neither.output
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    nothing = runner.invoke(cli, ["evaluate", "--labels", "--db", str(db)])
    assert nothing.exit_code != 0 and "no labels" in nothing.output
    assert "Traceback" not in nothing.output


def test_sample_of_a_warehouse_not_linked_yet(ingested: Path, tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(ingested, db)
    result = CliRunner().invoke(cli, ["review", "sample", "--db", str(db), "--per-band", "5"])
    assert result.exit_code != 0 and "run `famlink link` first" in result.output
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
