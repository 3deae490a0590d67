"""Ingest: the generator's four extracts and the real fixtures load with nothing lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import FIXTURES

from linkage.config import ConfigError
from linkage.ingest.run import STAGED_WITH_LINES, IngestFailed, ingest
from linkage.warehouse import connect
from synthetic_data.generate import synthesize

HMIS_FIXTURE = FIXTURES / "hmis_csv" / "greenriver-datalab-fy2024"
TANF_FIXTURE = FIXTURES / "tanf" / "small_tanf_section1.txt"
SOURCES = Path(__file__).resolve().parents[1] / "configs" / "sources"


def _configs(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SOURCES / f"{name}.yaml", folder)
    return folder


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


@pytest.fixture(scope="module")
def warehouse(small: Path, tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, list]:
    con = connect(tmp_path_factory.mktemp("wh") / "famlink.duckdb")
    return con, ingest(con, small)


def test_generator_output_round_trips_with_zero_rejects(warehouse, small: Path) -> None:
    con, summaries = warehouse
    assert {Path(s.file).parent.name for s in summaries} == {"cw", "cs", "hmis", "tanf"}
    for s in summaries:
        assert s.rejected == 0 and s.read == s.staged > 0, s
    assert _one(con, "SELECT count(*) FROM staged.rejects") == 0
    truth = small / "truth" / "records.csv"
    missing = _one(con, f"""SELECT count(*) FROM (SELECT record_id FROM read_csv('{truth}')
                            EXCEPT SELECT record_id FROM staged.person_records)""")
    extra = _one(con, f"""SELECT count(*) FROM (SELECT record_id FROM staged.person_records
                          EXCEPT SELECT record_id FROM read_csv('{truth}'))""")
    assert missing == extra == 0
    assert _one(con, "SELECT count(*) - count(DISTINCT record_id) FROM staged.person_records") \
        == 0


def test_ingest_leaves_the_warehouse_checkpointed_and_vacuum_as_it_was(warehouse) -> None:
    """The ingest loads without DuckDB's checkpoint vacuum (warehouse.bulk_load), then puts
    it back and checkpoints: nothing is left in the WAL."""
    con, _ = warehouse
    default = duckdb.connect().execute("SELECT current_setting('max_vacuum_tasks')").fetchall()
    assert con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall() == default
    path = Path(_one(con, "SELECT path FROM duckdb_databases() WHERE database_name = "
                          "current_database()"))
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_files_table_records_provenance(warehouse) -> None:
    con, summaries = warehouse
    rows = con.execute("SELECT file, sha256, rows_read, rows_staged, rows_rejected "
                       "FROM staged.files").fetchall()
    assert len(rows) == len(summaries)
    for _file, sha, read, staged, rejected in rows:
        assert len(sha) == 64 and read == staged + rejected
    raw = con.execute("SELECT _file, _sha256, _line, _loaded_at FROM raw.cw__persons "
                      "ORDER BY _line LIMIT 1").fetchall()[0]
    assert raw[2] == 2 and len(raw[1]) == 64 and raw[3] is not None


def test_provenance_is_kept_once_per_file_and_ids_are_stored_plain(warehouse) -> None:
    """What makes the ingest fast (see benchmarks/README.md) and must not quietly go away: a
    raw table keeps its file, hash and load time in its definition, not on every row; ids and
    SSNs are stored uncompressed, event details in zstd."""
    con, _ = warehouse
    # A generated column's expression is its column_default (information_schema's is_generated
    # is NULL on DuckDB 1.4); a raw table's columns have no other defaults.
    generated = {row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
        "AND table_name = 'cs__members' AND column_default IS NOT NULL").fetchall()}
    assert generated == {"_file", "_sha256", "_loaded_at"}
    sha, file = con.execute("SELECT sha256, file FROM staged.files "
                            "WHERE file LIKE '%fcr_persons.csv'").fetchall()[0]
    assert con.execute("SELECT DISTINCT _sha256, _file FROM raw.cs__members").fetchall() == [
        (sha, file)]

    def compression(table: str, column: str) -> set[str]:
        return {row[0] for row in con.execute(
            f"SELECT DISTINCT compression FROM pragma_storage_info('{table}') "
            f"WHERE column_name = '{column}' AND segment_type <> 'VALIDITY'").fetchall()}

    for table, column in [("raw.cs__members", "member_id"), ("raw.cs__members", "ssn"),
                          ("staged.person_records", "record_id"),
                          ("staged.person_records", "ssn"),
                          ("staged.person_records", "last_name"),
                          ("staged.person_records", "dob_raw"), ("staged.memberships", "group_id")]:
        assert compression(table, column) <= {"Uncompressed", "Constant"}, (table, column)
        assert "Uncompressed" in compression(table, column), (table, column)
    assert "ZSTD" in compression("staged.events", "details")
    tanf = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                       "AND table_name LIKE 'tanf%' LIMIT 1").fetchall()[0][0]
    assert "ZSTD" in compression(f"raw.{tanf}", "text")


def test_raw_columns_named_like_provenance_keep_duckdb_names(tmp_path: Path) -> None:
    """A file's own column called _FILE or _line cannot shadow the provenance: it is renamed
    the way DuckDB renames a repeated column, and the file's rows and rejects are kept."""
    from linkage.ingest.reading import inspect, load_csv
    path = tmp_path / "clash.csv"
    path.write_text("id,_line_1,_line,_FILE,_SHA256\n1,a,b,c,d\n1,2\n3,e,f,g,h\n")
    con = connect(tmp_path / "w.duckdb")
    rejects = load_csv(con, inspect(path), "clash")
    assert {r.line for r in rejects} == {3}  # one reject for each field the line lacks
    assert [r[0] for r in con.execute("DESCRIBE raw.clash").fetchall()] == [
        "_file", "_sha256", "_line", "_loaded_at", "id", "_line_1", "_line_2", "_FILE_1",
        "_SHA256_1"]
    assert con.execute("SELECT _file, _line, id, _line_1, _line_2, _FILE_1, _SHA256_1 "
                       "FROM raw.clash ORDER BY _line").fetchall() == [
        (str(path), 2, "1", "a", "b", "c", "d"), (str(path), 4, "3", "e", "f", "g", "h")]


def test_memberships_roles_and_events(warehouse) -> None:
    con, _ = warehouse
    roles = dict(con.execute("SELECT system || ':' || role, count(*) FROM staged.memberships "
                             "GROUP BY ALL").fetchall())
    for key in ("cw:child", "cw:mother", "cw:father", "cs:custodial_party",
                "cs:non_custodial_parent", "cs:putative_father", "cs:child",
                "hmis:head_of_household", "hmis:child", "tanf:head_of_household", "tanf:child"):
        assert roles.get(key, 0) > 0, key
    events = {row[0] for row in con.execute("SELECT DISTINCT event_type FROM staged.events")
              .fetchall()}
    assert {"cw_removal", "cw_placement", "hmis_enrollment", "hmis_exit", "tanf_month",
            "cs_locate", "cs_ive_referral"} <= events
    assert _one(con, "SELECT count(*) FROM staged.groups WHERE group_type = 'cw_case'") > 0
    # one group row per CS case with its order indicator; referrals only where there is one
    assert _one(con, """SELECT count(*) - count(DISTINCT group_id) FROM staged.groups
                        WHERE group_type = 'cs_case'""") == 0
    assert _one(con, """SELECT count(*) FROM staged.groups WHERE group_type = 'cs_case'
                        AND (attributes->>'order_indicator') = 'Y'""") > 0
    assert _one(con, """SELECT count(*) FROM staged.events WHERE event_type = 'cs_ive_referral'
                        AND (start_date IS NULL OR (details->>'ive_referral_indicator') <> 'Y')
                     """) == 0
    # leading zeros survive
    assert _one(con, "SELECT min(length(source_id)) FROM staged.person_records "
                     "WHERE system = 'cw'") == 8


def test_standardized_values_match_the_truth(warehouse, small: Path) -> None:
    con, _ = warehouse
    persons, records = small / "truth" / "persons.csv", small / "truth" / "records.csv"
    agree = con.execute(f"""
        SELECT avg((p.dob = t.dob::DATE)::INT), avg((p.ssn = lpad(t.ssn::VARCHAR, 9, '0'))::INT),
               avg((p.sex = t.sex)::INT)
        FROM staged.person_records p
        JOIN read_csv('{records}', all_varchar=true) r USING (record_id)
        JOIN read_csv('{persons}', all_varchar=true) t USING (true_person_id)
        WHERE r.hard_cases NOT SIMILAR TO '.*(dob_|ssn_).*'""").fetchall()[0]
    assert all(share > 0.99 for share in agree), agree
    placeholders = _one(con, f"""SELECT count(*) FROM staged.person_records p
        JOIN read_csv('{records}', all_varchar=true) r USING (record_id)
        WHERE r.hard_cases LIKE '%ssn_placeholder%' AND p.ssn IS NOT NULL""")
    assert placeholders == 0


def test_shared_hmis_fixture_ingests_with_expected_counts(tmp_path: Path) -> None:
    data = tmp_path / "extracts"
    data.mkdir()
    (data / "hmis").symlink_to(HMIS_FIXTURE)
    con = connect(tmp_path / "f.duckdb")
    said: list[str] = []
    summaries = {Path(s.file).name: s
                 for s in ingest(con, data, _configs(tmp_path, "hmis"), progress=said.append)}
    assert any("reading Client.csv" in m for m in said) and any("standardizing" in m
                                                                for m in said)
    expected = {"Export.csv": 1, "Client.csv": 514, "Enrollment.csv": 574, "Exit.csv": 447,
                "Project.csv": 10, "Organization.csv": 10}
    assert {name: s.staged for name, s in summaries.items()} == expected
    assert all(s.rejected == 0 for s in summaries.values())
    assert any("ExportDate" in w for w in summaries["Export.csv"].warnings)
    assert _one(con, "SELECT count(DISTINCT group_id) FROM staged.memberships") == 473
    roles = dict(con.execute("SELECT source_role, count(*) FROM staged.memberships GROUP BY 1")
                 .fetchall())
    assert roles == {"1": 473, "2": 83, "3": 13, "4": 2, "5": 1, "99": 2}
    assert _one(con, "SELECT version FROM staged.files LIMIT 1") == "2024"


def test_tanf_fixture_decodes(tmp_path: Path) -> None:
    data = tmp_path / "extracts"
    (data / "tanf").mkdir(parents=True)
    shutil.copy(TANF_FIXTURE, data / "tanf")
    con = connect(tmp_path / "t.duckdb")
    [summary] = ingest(con, data, _configs(tmp_path, "tanf"))
    assert (summary.read, summary.staged, summary.rejected) == (15, 15, 0)
    assert any("TRAILER counts 2643" in w for w in summary.warnings)
    people = con.execute("""SELECT source_id, dob, ssn_raw, sex FROM staged.person_records
                            ORDER BY source_line, source_id""").fetchall()
    assert len(people) == 11  # 5 adults, 6 children (the last T3 line holds two)
    assert people[0][0] == "202010-11111111112-A-d87463ca"  # month, case, adult, digest
    assert str(people[0][1]) == "1974-01-14" and people[0][2] == "900000719"
    assert all(len(p[2]) == 9 and p[2].isdigit() for p in people)
    assert _one(con, "SELECT count(*) FROM staged.events WHERE event_type = 'tanf_month'") == 5


@pytest.mark.parametrize("defect, reason", [
    (lambda lines: lines[1:], "no HEADER"),
    (lambda lines: lines[:5] + [lines[0]] + lines[5:], "2 HEADER lines"),
    (lambda lines: lines[:-1], "TRAILER"),
    (lambda lines: lines[:-1] + ["TRAILERxx"], "TRAILER line is broken"),
])
def test_tanf_refuses_broken_files_clearly(tmp_path: Path, defect, reason: str) -> None:
    data = tmp_path / "extracts" / "tanf"
    data.mkdir(parents=True)
    lines = TANF_FIXTURE.read_text(encoding="ascii").splitlines()
    (data / "bad.txt").write_text("\n".join(defect(lines)) + "\n", encoding="ascii")
    con = connect(tmp_path / "t.duckdb")
    with pytest.raises(IngestFailed) as failed:  # a file with no line staged is not published
        ingest(con, tmp_path / "extracts", _configs(tmp_path, "tanf"))
    [summary] = failed.value.summary
    assert summary.staged == 0 and summary.rejected == summary.read == 15
    assert any(reason in w for w in summary.warnings)
    assert "bad.txt: every row rejected" in str(failed.value) and reason in str(failed.value)
    assert _one(con, "SELECT count(*) FROM staged.person_records") == 0


def test_hmis_2026_and_2022_layouts(tmp_path: Path) -> None:
    synthesize(300, 8, tmp_path / "fy26", hmis_version="2026")
    con = connect(tmp_path / "a.duckdb")
    ingest(con, tmp_path / "fy26", _configs(tmp_path, "hmis"))
    assert _one(con, "SELECT version FROM staged.files WHERE file LIKE '%Client.csv'") == "2026"
    assert _one(con, "SELECT count(*) FROM staged.person_records WHERE sex IS NULL") == 0
    con.close()
    # FY2022: two-digit LivingSituation codes come out as FY2024's three-digit ones
    old = tmp_path / "fy22" / "hmis"
    shutil.copytree(HMIS_FIXTURE, old)
    export = (old / "Export.csv").read_text()
    (old / "Export.csv").write_text(export.replace("2024 v1.3", "2022 v1.3"))
    enrollment = (old / "Enrollment.csv").read_text().replace(",XX-501,336,", ",XX-501,36,")
    (old / "Enrollment.csv").write_text(enrollment.replace(",XX-501,116,", ",XX-501,16,"))
    con = connect(tmp_path / "b.duckdb")
    ingest(con, tmp_path / "fy22", _configs(tmp_path, "hmis"))
    codes = {row[0] for row in con.execute(
        "SELECT details->>'_living_situation' FROM staged.events "
        "WHERE event_type = 'hmis_enrollment'").fetchall()}
    assert {"116", "336"} <= codes and not codes & {"16", "36"}


def test_shelter_addresses_are_flagged_as_shared(large: Path, tmp_path: Path) -> None:
    con = connect(tmp_path / "large.duckdb")
    ingest(con, large)
    records = large / "truth" / "records.csv"
    # An address is flagged when three or more unrelated cases in one system give it.
    shelter, other = con.execute(f"""
        WITH cw AS (SELECT p.*, r.hard_cases, r.true_family_id,
                           count(DISTINCT r.true_family_id) OVER (
                               PARTITION BY address_street, zip5) AS families
                    FROM staged.person_records p
                    JOIN read_csv('{records}', all_varchar=true) r USING (record_id)
                    WHERE p.system = 'cw' AND p.address_street IS NOT NULL)
        SELECT avg(address_shared::INT) FILTER (WHERE hard_cases LIKE '%shelter_address%'
                                                  AND families >= 3),
               avg(address_shared::INT) FILTER (WHERE hard_cases NOT LIKE '%shelter_address%')
        FROM cw""").fetchall()[0]
    assert shelter == 1.0 and other < 0.02, (shelter, other)


def test_suffixes_from_their_own_field(warehouse, small: Path) -> None:
    con, _ = warehouse
    persons = small / "truth" / "persons.csv"
    records = small / "truth" / "records.csv"
    wrong = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE p.suffix IS DISTINCT FROM t.suffix)
        FROM staged.person_records p
        JOIN read_csv('{records}', all_varchar=true) r USING (record_id)
        JOIN read_csv('{persons}', all_varchar=true) t USING (true_person_id)
        WHERE t.suffix IS NOT NULL AND p.system <> 'tanf'""").fetchall()[0]
    assert wrong[0] > 0 and wrong[1] == 0, wrong


def test_tanf_rejects_lines_it_cannot_read(tmp_path: Path) -> None:
    data = tmp_path / "extracts" / "tanf"
    data.mkdir(parents=True)
    lines = TANF_FIXTURE.read_text(encoding="ascii").splitlines()
    lines[4:4] = ["T9" + lines[4][2:], "T2202010"]
    (data / "odd.txt").write_text("\n".join(lines) + "\n", encoding="ascii")
    con = connect(tmp_path / "t.duckdb")
    [summary] = ingest(con, tmp_path / "extracts", _configs(tmp_path, "tanf"))
    assert (summary.read, summary.staged, summary.rejected) == (17, 15, 2)
    reasons = con.execute("SELECT line, reason FROM staged.rejects ORDER BY line").fetchall()
    assert reasons[0][0] == 5 and "record type T9" in reasons[0][1]
    assert reasons[1][0] == 6 and "too short" in reasons[1][1]


@pytest.mark.parametrize("fault, message", [
    # a line staged nowhere and rejected nowhere
    ([f"DELETE FROM staged.{t} WHERE source_file = '{{f}}' AND source_line = 2"
      for t in STAGED_WITH_LINES], "persons.csv: .*1 in neither"),
    # a line both staged and rejected
    (["INSERT INTO staged.rejects VALUES ('cw', 'cw', '{f}', 2, 'x', 'test', NULL)"],
     "persons.csv: .*1 in both"),
    # a person record staged twice, or a staged row from no line read
    (["INSERT INTO staged.person_records SELECT * FROM staged.person_records "
      "WHERE source_file = '{f}' AND source_line = 2"], "1 person records are staged twice"),
    (["UPDATE staged.memberships SET source_line = NULL "
      "WHERE source = 'cw' AND source_line = 3"], "source cw: 1 staged rows come from no line"),
])
def test_a_run_that_loses_or_doubles_a_row_is_refused(small: Path, tmp_path: Path,
                                                        monkeypatch, fault: list[str],
                                                        message: str) -> None:
    """The balance is checked line by line, so a defect anywhere in staging stops the run."""
    import linkage.ingest.run as run

    standardize = run.standardize_persons

    def standardize_then_break(con) -> None:
        standardize(con)
        files = [f for f, in con.execute(
            "SELECT DISTINCT source_file FROM staged.person_records "
            "WHERE source_file LIKE '%cw%persons.csv'").fetchall()]
        for f in files:
            for statement in fault:
                con.execute(statement.format(f=f))

    monkeypatch.setattr(run, "standardize_persons", standardize_then_break)
    with pytest.raises(run.AccountingError, match=message):
        ingest(connect(tmp_path / "w.duckdb"), small)


def test_every_person_records_column_is_filled(warehouse) -> None:
    """Standardization appends by column name, so a column it forgot would stay empty."""
    con, _ = warehouse
    columns = [row[0] for row in con.execute("DESCRIBE staged.person_records").fetchall()]
    empty = [c for c in columns if not con.execute(
        f'SELECT count("{c}") FROM staged.person_records').fetchall()[0][0]]
    assert empty == ["phone"]  # the synthetic extracts carry no phone numbers


def test_shared_address_threshold_comes_from_configs(warehouse, small: Path, tmp_path) -> None:
    con, _ = warehouse
    shared = "SELECT count(*) FILTER (WHERE address_shared) FROM staged.person_records"
    loose = tmp_path / "ingest.yaml"
    loose.write_text("shared_address:\n  min_groups: 2\n")
    other = connect(tmp_path / "loose.duckdb")
    ingest(other, small, settings_path=loose)
    assert _one(other, shared) > _one(con, shared)


@pytest.mark.parametrize(("text", "message"), [
    ("shared_address:\n  min_groups: 1\n", "shared_address.min_groups = 1"),
    ("shared_address:\n  min_group: 3\n", "shared_address.min_group = 3"),
    ("shared_address: {}\n", "shared_address.min_groups = '<missing>'"),
])
def test_ingest_settings_errors_name_file_key_and_value(tmp_path, small: Path, text: str,
                                                        message: str) -> None:
    settings = tmp_path / "ingest.yaml"
    settings.write_text(text)
    with pytest.raises(ConfigError, match=f"{settings}: {message}"):
        ingest(connect(tmp_path / "w.duckdb"), small, settings_path=settings)
