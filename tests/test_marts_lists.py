"""The lists as staff act on them (issue 16, items 1 and 5): one row per family, child-parent
pair or CS order, with names, birth dates, labels for codes, a named priority on every row and
their history across runs; and the reports read back in each format."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.families.settings import load_marts_config
from linkage.formats.hmis_csv import LIVING_SITUATION, PROJECT_TYPE
from linkage.marts.build import build_marts
from linkage.marts.history import KEYS, key_sql
from linkage.marts.labels import labels

LISTS = {"supportive_housing_eligible": ("parent_name", "parent_dob"),
         "absent_parent_leads": ("child_name", "child_dob"),
         "support_in_error": ("custodial_name", "custodial_dob")}


@pytest.fixture(scope="module")
def db(published: Path, tmp_path_factory) -> Path:
    """The published warehouse, copied to be rebuilt."""
    copy = tmp_path_factory.mktemp("lists") / "famlink.duckdb"
    shutil.copy(published.resolve(), copy)
    copy.chmod(0o600)
    return copy


def test_one_row_per_thing_a_worker_acts_on(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        for name in KEYS:
            n, keys = con.execute(f"SELECT count(*), count(DISTINCT {key_sql(name)}) "
                                  f"FROM marts.{name}").fetchall()[0]
            assert n == keys, name
        for name in LISTS:
            assert con.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0] > 0, name


def test_every_row_names_its_people(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        for name, (person, dob) in LISTS.items():
            missing = con.execute(f"SELECT count(*) FROM marts.{name} "
                                  f"WHERE {person} IS NULL OR {dob} IS NULL").fetchall()
            assert missing == [(0,)], name
        # a parent known only to TANF has a birth date (TANF reports carry no names)
        assert con.execute("SELECT count(*) FROM marts.absent_parent_leads WHERE parent_name "
                           "IS NULL AND parent_dob IS NULL").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM marts.support_in_error WHERE child_name IS "
                           "NULL OR child_dob IS NULL").fetchall() == [(0,)]


def test_every_priority_is_a_named_rule_and_why_is_in_words(db: Path) -> None:
    config = load_marts_config()
    with duckdb.connect(str(db), read_only=True) as con:
        for name in LISTS:
            rules = [r.name for r in getattr(config, name).priority]
            reasons = con.execute(f"SELECT DISTINCT priority, priority_reason, "
                                  f"bool_and(why IS NOT NULL AND why NOT LIKE '%cw:%') "
                                  f"FROM marts.{name} GROUP BY ALL").fetchall()
            assert reasons and all(reason == rules[rank - 1] and words
                                   for rank, reason, words in reasons), name


def test_a_row_no_rule_holds_for_fails_the_build(db: Path, tmp_path: Path) -> None:
    from linkage.config import ConfigError

    config = load_marts_config()
    rules = config.supportive_housing_eligible
    cut = config.model_copy(update={"supportive_housing_eligible": rules.model_copy(
        update={"priority": rules.priority[:1]})})
    copy = tmp_path / "famlink.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy)) as con, pytest.raises(ConfigError, match="match no rule"):
        build_marts(con, cut)


def test_labels_replace_codes(db: Path) -> None:
    assert labels("hud_project_type")["0"] == "Emergency Shelter - Entry Exit"
    assert labels("hud_project_type")["1"] == "Emergency Shelter - Night-by-Night"
    # the reference tables say what the HMIS reader says
    assert labels("hud_project_type") == {str(k): v for k, v in PROJECT_TYPE.items()}
    assert labels("hud_living_situation") == {str(k): v for k, v in LIVING_SITUATION.items()}
    with duckdb.connect(str(db), read_only=True) as con:
        types = {r[0] for r in con.execute("SELECT DISTINCT project_type FROM "
                                           "marts.supportive_housing_eligible").fetchall()}
        situations = {r[0] for r in con.execute("SELECT DISTINCT living_situation FROM "
                                                "marts.supportive_housing_eligible").fetchall()}
    assert types <= set(PROJECT_TYPE.values()) and situations <= set(LIVING_SITUATION.values())


def _rebuild(db: Path, sql: str) -> duckdb.DuckDBPyConnection:
    """The next run: the lists rebuilt over the warehouse after `sql` changed its inputs."""
    con = duckdb.connect(str(db))
    con.execute(sql)
    from linkage.families.build import build_families

    config = load_marts_config()
    build_families(con, config)
    build_marts(con, config)
    return con


def test_history_across_runs(db: Path, tmp_path: Path) -> None:
    """A second run with one family's HMIS stays gone and another's stay moved to a new
    project: the first family's row is resolved (and in the report), the second's changed,
    the rest unchanged; first_listed carries over."""
    work = tmp_path / "famlink.duckdb"
    shutil.copy(db, work)
    with duckdb.connect(str(work)) as con:
        (gone, gone_household), (moved, moved_household) = con.execute(
            "SELECT family_id, hmis_household_id FROM marts.supportive_housing_eligible "
            "ORDER BY family_id LIMIT 2").fetchall()
        first = dict(con.execute("SELECT family_id, first_listed FROM "
                                 "marts.supportive_housing_eligible").fetchall())
    con = _rebuild(work, f"""
        DELETE FROM staged.events WHERE event_type = 'hmis_enrollment'
          AND group_id IN (SELECT group_id FROM families.members WHERE family_id = '{gone}'
                           AND group_type = 'hmis_household');
        UPDATE staged.events SET details = json_merge_patch(details, '{{"ProjectID": "none"}}')
        WHERE event_type = 'hmis_enrollment' AND group_id = '{moved_household}'""")
    try:
        rows = dict(con.execute("SELECT family_id, status FROM "
                                "marts.supportive_housing_eligible").fetchall())
        assert gone not in rows and rows[moved] == "changed"
        assert {s for f, s in rows.items() if f != moved} == {"unchanged"}
        assert dict(con.execute("SELECT family_id, first_listed FROM "
                                "marts.supportive_housing_eligible").fetchall()) == {
            f: t for f, t in first.items() if f != gone}
        history = dict(con.execute("SELECT row_key, status FROM marts.list_history WHERE "
                                   "list_name = 'supportive_housing_eligible'").fetchall())
        assert history[gone] == "resolved" and history[moved] == "changed"
        assert con.execute("SELECT family_id, status FROM "
                           "marts.supportive_housing_eligible_resolved").fetchall() == [
            (gone, "resolved")]
    finally:
        con.close()
    out = tmp_path / "housing.csv"
    result = CliRunner().invoke(cli, ["report", "supportive_housing_eligible", "--db",
                                      str(work), "--out", str(out)])
    assert result.exit_code == 0, result.output
    resolved = [r for r in csv.DictReader(out.open()) if r["status"] == "resolved"]
    assert [r["family_id"] for r in resolved] == [gone]
    # a third run with nothing changed: the resolved row stays in the history only, and the
    # changed row is unchanged now
    con = _rebuild(work, "SELECT 1")
    try:
        assert con.execute("SELECT count(*) FROM marts.supportive_housing_eligible_resolved"
                           ).fetchall() == [(0,)]
        assert {r[0] for r in con.execute("SELECT DISTINCT status FROM "
                                          "marts.supportive_housing_eligible").fetchall()} \
            == {"unchanged"}
    finally:
        con.close()


def test_new_rows_when_the_history_has_none(db: Path, tmp_path: Path) -> None:
    work = tmp_path / "famlink.duckdb"
    shutil.copy(db, work)
    con = _rebuild(work, "DELETE FROM marts.list_history WHERE list_name = 'support_in_error'")
    try:
        assert {r[0] for r in con.execute("SELECT DISTINCT status FROM "
                                          "marts.support_in_error").fetchall()} == {"new"}
    finally:
        con.close()


def _report(db: Path, *args: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(cli, ["report", *args, "--db", str(db)])


def test_csv_is_flat(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "leads.csv"
    assert _report(db, "absent_parent_leads", "--out", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    text = out.read_text()
    assert "{'" not in text and "datetime.date(" not in text
    rows = list(csv.DictReader(out.open()))
    sightings = json.loads(next(r for r in rows if r["sightings"])["sightings"])
    assert sightings[0]["rank"] == 1 and "seen_in" in sightings[0]


def test_xlsx_one_sheet_per_list(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "lists.xlsx"
    result = _report(db, "all", "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    book = openpyxl.load_workbook(out)
    assert set(LISTS) | {"joint_families"} <= set(book.sheetnames)
    sheet = book["supportive_housing_eligible"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2"
    opened = sheet.cell(row=2, column=header.index("cw_case_opened") + 1).value
    assert isinstance(opened, datetime | date)
    children = sheet.cell(row=2, column=header.index("children") + 1).value
    assert json.loads(children)[0]["name"]


def test_parquet_and_json_read_back(db: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM marts.support_in_error").fetchall()[0][0]
    parquet, js = tmp_path / "s.parquet", tmp_path / "s.json"
    assert _report(db, "support_in_error", "--format", "parquet", "--out",
                   str(parquet)).exit_code == 0
    assert _report(db, "support_in_error", "--format", "json", "--out", str(js)).exit_code == 0
    with duckdb.connect() as con:
        back = con.execute(f"SELECT count(*), count(children) FROM '{parquet}'").fetchall()
    assert back == [(n, n)]
    assert len(json.loads(js.read_text())) == n
    assert parquet.stat().st_mode & 0o777 == 0o600


def test_mismatched_out_is_refused(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    result = _report(db, "support_in_error", "--format", "csv", "--out", str(out))
    assert result.exit_code != 0 and "must end in .csv" in result.output
    assert not out.exists()
    whole = _report(db, "all", "--format", "csv", "--out", str(tmp_path / "all.csv"))
    assert whole.exit_code != 0 and "--format xlsx" in whole.output
