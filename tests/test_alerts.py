"""Alerts across two runs, and the paternity and referral lists, through linkage.pipeline.

One synthetic population; the first run's extracts lack one event of each alert type (found in
the truth), the second run's have them back: each fires in the second run, new and addressed
to its agency, and a third run on the same extracts raises nothing new. The lists hold the
truth's cases with their reasons, evaluate scores them, and `famlink report alerts` exports.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from linkage.cli import cli
from linkage.evaluate import evaluate_alerts_and_lists
from linkage.families.settings import MARTS_CONFIG, load_marts_config
from linkage.pipeline import building, families_step, finish, ingest_step, link_step
from linkage.publish.settings import load_publish_config
from synthetic_data.generate import synthesize

AGENCY = {"placement_changed": "cs", "entered_care_while_cs_pays": "cs",
          "family_in_shelter": "cw", "absent_parent_located": "cw",
          "paternity_established": "cw", "putative_father_named": "cw"}


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    crlf = path.read_bytes().find(b"\r\n") >= 0
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\r\n" if crlf else "\n")
        writer.writeheader()
        writer.writerows(rows)


def _drop(path: Path, keep) -> int:
    header, rows = _rows(path)
    kept = [r for r in rows if keep(r)]
    _write(path, header, kept)
    return len(rows) - len(kept)


def _run(workdir: Path, extracts: Path, marts: Path | None = None) -> str:
    with building(workdir) as run:
        ingest_step(run.db, extracts)
        link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                  reports=run.reports)
        families_step(run.db, marts)
        verdict = finish(run, load_publish_config())
    assert verdict.published, [g.detail for g in verdict.failed]
    return run.run_id


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("alerts") / "pop"
    synthesize(5000, 11, out)
    return out


@pytest.fixture(scope="module")
def planted(population: Path) -> dict[str, str]:
    """One alert of each type from the truth: its key."""
    _, alerts = _rows(population / "truth" / "answers" / "alerts.csv")
    chosen: dict[str, dict] = {}
    for row in sorted(alerts, key=lambda r: r["event_date"], reverse=True):
        chosen.setdefault(row["alert_type"], row)
    assert set(chosen) == set(AGENCY), "the population has no event of some alert type"
    return {kind: row["key"] + ("|" + row["child_true_person_id"]
                                if kind in ("paternity_established", "putative_father_named")
                                else "") for kind, row in chosen.items()}


def _without(population: Path, planted: dict[str, str], out: Path) -> Path:
    """The extracts without the planted events: what the first run sees."""
    extracts = out / "extracts"
    shutil.copytree(population / "extracts", extracts)
    cw, cs, hmis = extracts / "cw", extracts / "cs", extracts / "hmis"
    _, records = _rows(population / "truth" / "records.csv")
    true_of = {r["record_id"]: r["true_person_id"] for r in records}
    placement = planted["placement_changed"].split("|")[0]
    assert _drop(cw / "placements.csv", lambda r: r["placement_id"] != placement) == 1
    removal = planted["entered_care_while_cs_pays"].split("|")[0]
    assert _drop(cw / "removals.csv", lambda r: r["removal_id"] != removal) == 1
    _drop(cw / "placements.csv", lambda r: r["removal_id"] != removal)
    household = planted["family_in_shelter"].split("|")[1]
    _, enrollments = _rows(hmis / "Enrollment.csv")
    gone = {r["EnrollmentID"] for r in enrollments if r["HouseholdID"] == household}
    assert _drop(hmis / "Enrollment.csv", lambda r: r["EnrollmentID"] not in gone)
    _drop(hmis / "Exit.csv", lambda r: r["EnrollmentID"] not in gone)
    locate = planted["absent_parent_located"].split("|")[1]
    assert _drop(cs / "locate.csv", lambda r: r["locate_id"] != locate) == 1
    header, members = _rows(cs / "fcr_persons.csv")
    case, _, child = planted["paternity_established"].partition("|")
    for row in members:
        if (row["case_id"] == case and row["participant_type"] == "CH"
                and true_of.get(f"cs:{row['member_id']}") == child):
            row["paternity_status"] = row["paternity_date"] = ""
    pf_case = planted["putative_father_named"].split("|")[0]
    members = [r for r in members
               if not (r["case_id"] == pf_case and r["participant_type"] == "PF")]
    _write(cs / "fcr_persons.csv", header, members)
    return extracts


@pytest.fixture(scope="module")
def runs(population: Path, planted: dict[str, str],
         tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("runs")
    workdir = base / "work"
    _run(workdir, _without(population, planted, base))
    first = _alerts(workdir)
    _run(workdir, population / "extracts")
    second = _alerts(workdir)
    _run(workdir, population / "extracts")
    third = _alerts(workdir)
    return {"workdir": workdir, "first": first, "second": second, "third": third}


def _alerts(workdir: Path) -> list[dict]:
    with duckdb.connect(str(workdir / "famlink.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM marts.alerts")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        # one record of each person: the truth names its true person
        record_of = dict(con.execute("SELECT person_id, any_value(record_id) "
                                     "FROM linked.persons GROUP BY 1").fetchall())
    for row in rows:
        row["child_record"] = record_of.get(row["child_person_id"])
    return rows


def _key(row: dict, true_of: dict[str, str]) -> str:
    kind = row["alert_type"]
    if kind == "placement_changed":
        return f"{row['placement_id']}|{row['cs_case_id']}"
    if kind == "entered_care_while_cs_pays":
        return f"{row['removal_id']}|{row['cs_case_id']}"
    if kind == "family_in_shelter":
        return f"{row['cw_case_id']}|{row['hmis_household_id']}"
    if kind == "absent_parent_located":
        return f"{row['cw_case_id']}|{row['locate_id']}"
    return f"{row['cs_case_id']}|{true_of.get(row['child_record'], '')}"


@pytest.fixture(scope="module")
def true_of(population: Path) -> dict[str, str]:
    _, records = _rows(population / "truth" / "records.csv")
    return {r["record_id"]: r["true_person_id"] for r in records}


def test_each_planted_event_fires_once_in_the_run_that_brings_it(
        runs: dict, planted: dict[str, str], true_of: dict[str, str]) -> None:
    first = {(r["alert_type"], _key(r, true_of)) for r in runs["first"]}
    second = {(r["alert_type"], _key(r, true_of)): r for r in runs["second"]}
    for kind, key in planted.items():
        assert (kind, key) not in first, kind
        alert = second.get((kind, key))
        assert alert is not None, f"{kind} did not fire"
        assert alert["new_since_last_run"] and alert["agency"] == AGENCY[kind]
        assert alert["why"] and alert["raised_on"] is not None
    # nothing else is new: the first run's alerts are still there, not new again
    for row in runs["second"]:
        if (row["alert_type"], _key(row, true_of)) in first:
            assert not row["new_since_last_run"]


def test_a_run_on_the_same_extracts_raises_nothing_new(runs: dict) -> None:
    assert runs["third"] and not any(r["new_since_last_run"] for r in runs["third"])
    assert len(runs["third"]) == len(runs["second"])


def test_first_run_alerts_are_the_last_days_events_and_score_against_the_truth(
        population: Path, tmp_path: Path) -> None:
    """A first run raises the events of the extracts' last `first_run_days` days (a year
    here, so that every type has some), which evaluate scores per type; the paternity and
    referral lists hold the truth's children, with their reasons."""
    settings = yaml.safe_load(MARTS_CONFIG.read_text())
    settings["alerts"].update(first_run_days=365, keep_days=365)
    marts = tmp_path / "marts.yaml"
    marts.write_text(yaml.safe_dump(settings))
    workdir = tmp_path / "work"
    _run(workdir, population / "extracts", marts)
    with duckdb.connect(str(workdir / "famlink.duckdb"), read_only=True) as con:
        result = evaluate_alerts_and_lists(con, population / "truth",
                                           load_marts_config(marts))
        assert con.execute("SELECT bool_and(new_since_last_run) FROM marts.alerts") \
            .fetchall() == [(True,)]
        reasons = dict(con.execute("SELECT kind, list_distinct(flatten(list(reasons))) "
                                   "FROM marts.referrals GROUP BY 1").fetchall())
    assert set(result["alerts"]) == set(AGENCY)
    for kind, score in result["alerts"].items():
        assert score["precision"] >= 0.9 and score["recall"] >= 0.9, (kind, score)
    assert result["paternity"]["precision"] >= 0.95 and result["paternity"]["recall"] >= 0.95
    assert result["paternity"]["cs_father_found"] >= 0.9
    for kind in ("refer", "withdraw"):
        score = result["referrals"][kind]
        assert score["precision"] >= 0.95 and score["recall"] >= 0.95, (kind, score)
        assert score["same_reasons"] >= 0.95
    assert reasons["refer"] == ["not_referred"]
    assert {"reunified", "good_cause"} <= set(reasons["withdraw"])


def test_later_runs_alerts_are_not_scored_as_a_first_run(runs: dict,
                                                         population: Path) -> None:
    with duckdb.connect(str(runs["workdir"] / "famlink.duckdb"), read_only=True) as con:
        result = evaluate_alerts_and_lists(con, population / "truth")
    assert "skipped" in result["alerts"]
    assert result["paternity"]["recall"] >= 0.95


def test_report_alerts_exports_them(runs: dict, tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    done = CliRunner().invoke(cli, ["report", "alerts", "--db",
                                    str(runs["workdir"] / "famlink.duckdb"), "--out", str(out)])
    assert done.exit_code == 0, done.output
    header, rows = _rows(out)
    assert {"agency", "alert_type", "new_since_last_run", "why", "child_name"} <= set(header)
    assert len(rows) == len(runs["third"])
