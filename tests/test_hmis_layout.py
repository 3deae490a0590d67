"""HMIS CSV as exports really come: every layout in use (FY2020-FY2026), CSVVersion however it is
written or missing, several export rows, dates as vendors write them, files cut short.

Why: the generator writes and the ingest reads HMIS CSV through `linkage.formats.hmis_csv`; if a
header or a code list drifts from what real exports contain, both sides would agree with each
other and still be wrong. So the layout is pinned to a real DataLab export, and the ingest is held
to what greenriver/hmis-warehouse's importer (the peer) does with its own spec fixtures. Every
file read lies in tests/fixtures/hmis_csv/ (see its README for source, commit and licence).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from linkage.formats import hmis_csv as h
from linkage.ingest.hmis import register_macros
from linkage.ingest.loaded import IngestError
from linkage.ingest.run import FileSummary, IngestFailed, ingest
from linkage.warehouse import connect

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "hmis_csv"
DATALAB = FIXTURES / "greenriver-datalab-fy2024"
PEER = FIXTURES / "hmis-warehouse-importer-fy2024"
SOURCES = HERE.parent / "configs" / "sources"
FILES = ("Export", "Organization", "Project", "Client", "Enrollment", "Exit")


# -------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------


def _open(folder: Path, name: str):
    # utf-8-sig: tolerate a byte-order mark, which some HMIS vendors write.
    return (folder / f"{name}.csv").open(newline="", encoding="utf-8-sig")


def _header(folder: Path, name: str) -> list[str]:
    with _open(folder, name) as fh:
        return next(csv.reader(fh))


def _column(name: str, column: str, folder: Path = DATALAB) -> list[str]:
    with _open(folder, name) as fh:
        return [row[column] for row in csv.DictReader(fh)]


def _codes(values: list[str]) -> set[int]:
    """Non-blank cells as ints; fails the test if a cell is not a plain integer."""
    out = set()
    for value in values:
        if value == "":
            continue
        assert value.isdigit(), f"non-integer code {value!r}"
        out.add(int(value))
    return out


def _rewrite(path: Path, change: Callable[[list[list[str]]], list[list[str]]]) -> None:
    """Rewrite a CSV file's rows (header first) through `change`, as an export would have them."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(change(rows))


def _set_csv_version(folder: Path, value: str | None) -> None:
    """Export.csv's CSVVersion set to `value` in every row, or the column dropped (None)."""
    def change(rows: list[list[str]]) -> list[list[str]]:
        at = rows[0].index("CSVVersion")
        if value is None:
            return [row[:at] + row[at + 1:] for row in rows]
        return [rows[0]] + [row[:at] + [value] + row[at + 1:] for row in rows[1:]]
    _rewrite(folder / "Export.csv", change)


def _ingest(tmp_path: Path, fixture: Path, edit: Callable[[Path], None] | None = None,
            ) -> tuple[duckdb.DuckDBPyConnection, dict[str, FileSummary]]:
    """Ingest a copy of an HMIS fixture folder (changed by `edit`) as the only source."""
    folder = tmp_path / "extracts" / "hmis"
    shutil.copytree(fixture, folder, ignore=shutil.ignore_patterns("*.md"))
    for path in folder.iterdir():
        path.chmod(0o644)
    if edit:
        edit(folder)
    configs = tmp_path / "sources"
    configs.mkdir()
    shutil.copy(SOURCES / "hmis.yaml", configs)
    con = connect(tmp_path / "famlink.duckdb")
    try:
        summaries = ingest(con, tmp_path / "extracts", configs)
    except IngestFailed as failed:  # a file that stages nothing fails it, once all is in
        summaries = failed.summary
    return con, {Path(s.file).name: s for s in summaries}


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchall()[0][0]


def _person(con: duckdb.DuckDBPyConnection, source_id: str) -> tuple:
    return con.execute("SELECT dob, dob_flag, sex, last_name_raw FROM staged.person_records "
                       "WHERE source_id = ?", [source_id]).fetchall()[0]


def _details(con: duckdb.DuckDBPyConnection, event_type: str, key: str) -> dict[str, str]:
    """Each person's value of `key` in their events' details."""
    return dict(con.execute(
        "SELECT split_part(record_id, ':', 2), details->>? FROM staged.events "
        "WHERE event_type = ?", [key, event_type]).fetchall())


# -------------------------------------------------------------------------------------------
# the layouts
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_fy2024_headers_match_fixture(name: str) -> None:
    # Organization.csv quotes its header names; csv.reader strips the quotes.
    assert tuple(_header(DATALAB, name)) == h.COLUMNS["2024"][name]


@pytest.mark.parametrize("name", FILES)
def test_peer_fixture_headers_are_fy2024(name: str) -> None:
    for folder in ("bad_data", "duplicate_primary_keys", "bom_test"):
        assert tuple(_header(PEER / folder, name)) == h.COLUMNS["2024"][name], folder


def test_every_version_covers_the_same_files_without_duplicate_columns() -> None:
    assert set(h.COLUMNS) == set(h.KNOWN_VERSIONS) == {"2020", "2022", "2024", "2026"}
    for version, files in h.COLUMNS.items():
        assert set(files) == set(FILES), version
        for name, cols in files.items():
            assert len(cols) == len(set(cols)), (version, name)
            assert cols[-1] == "ExportID" or name == "Export", (version, name)


def test_fy2020_and_fy2022_layouts() -> None:
    """As greenriver's hmis_structure lists them (see linkage/formats/hmis_csv.py)."""
    c20, c22 = h.COLUMNS["2020"], h.COLUMNS["2022"]
    assert "CSVVersion" not in c20["Export"]  # arrived in FY2022
    assert "CSVVersion" in c22["Export"] and "ImplementationID" not in c22["Export"]
    assert "Gender" in c20["Client"] and "NativeHIOtherPacific" in c20["Client"]
    assert {"Female", "Male", "NoSingleGender"} <= set(c22["Client"])
    assert not {"Woman", "Man", "Sex", "HispanicLatinaeo"} & set(c20["Client"] + c22["Client"])
    assert "VictimServicesProvider" in c20["Organization"]
    assert "VictimServiceProvider" in c22["Organization"]
    assert "TrackingMethod" in c20["Project"] and "TrackingMethod" in c22["Project"]
    assert "MentalHealthIssuesFam" in c20["Enrollment"]
    assert "MentalHealthDisorderFam" in c22["Enrollment"]
    assert "EnrollmentCoC" not in c22["Enrollment"] and "RentalSubsidyType" not in c22["Enrollment"]
    assert set(c20["Exit"]) == set(h.COLUMNS["2024"]["Exit"]) - {"DestinationSubsidyType"}


def test_fy2026_client_has_sex_and_no_gender_columns() -> None:
    client = h.COLUMNS["2026"]["Client"]
    assert "Sex" in client
    assert "HispanicLatinao" in client
    assert "HispanicLatinaeo" not in client
    assert not set(h.GENDER_COLUMNS_2024) & set(client)
    assert h.GENDER_TEXT_COLUMN_2024 not in client
    # Sex sits right after DOBDataQuality, as in the greenriver FY2026 output.
    assert client[client.index("DOBDataQuality") + 1] == "Sex"
    assert set(h.RACE_COLUMNS["2026"]) <= set(client)
    assert set(h.RACE_COLUMNS["2024"]) <= set(h.COLUMNS["2024"]["Client"])


def test_fy2026_client_is_fy2024_minus_gender_plus_sex_with_rename() -> None:
    renames = h.COLUMN_RENAMES_2024_TO_2026["Client"]
    dropped = set(h.GENDER_COLUMNS_2024) | {h.GENDER_TEXT_COLUMN_2024}
    expected = [renames.get(c, c) for c in h.COLUMNS["2024"]["Client"] if c not in dropped]
    expected.insert(expected.index("DOBDataQuality") + 1, "Sex")
    assert tuple(expected) == h.COLUMNS["2026"]["Client"]


def test_fy2026_enrollment_changes() -> None:
    e24, e26 = h.COLUMNS["2024"]["Enrollment"], h.COLUMNS["2026"]["Enrollment"]
    assert "MentalHealthConsultation" in e26 and "MentalHealthConsultation" not in e24
    assert "SexualOrientation" not in e26 and "SexualOrientationOther" not in e26
    assert set(e26) - set(e24) == {"MentalHealthConsultation"}


@pytest.mark.parametrize("written, version", [
    ("2024 v1.3", "2024"), ("FY2024", "2024"), ("2024", "2024"), ("fy 2024 v1.3", "2024"),
    ("2024v1.3", "2024"), ("FY24", "2024"), ("2024 version 1.3", "2024"), (" 2024 V1.3 ", "2024"),
    ("FY2022", "2022"), ("2022", "2022"), ("2022 v1.0", "2022"), ("2022 v1.3", "2022"),
    ("2026 v1.0", "2026"), ("FY 2026", "2026"), ("2026 v1.3", "2026"), ("2020 v1.8", "2020"),
])
def test_version_of_reads_csv_version_as_exports_write_it(written: str, version: str) -> None:
    assert h.version_of(written) == version


def test_version_of_the_datalab_export() -> None:
    (csv_version,) = _column("Export", "CSVVersion")
    assert csv_version == h.CSV_VERSION["2024"]
    assert h.version_of(csv_version) == "2024"
    assert h.version_of(h.CSV_VERSION["2026"]) == "2026"


@pytest.mark.parametrize("garbage", ["", "garbage", "v1.3", "2024 v", "2018 v1.0", "6.12",
                                     "24 v1.3", "FY2028", "20245", None])
def test_version_of_refuses_what_it_cannot_read(garbage) -> None:
    with pytest.raises(ValueError):
        h.version_of(garbage)


@pytest.mark.parametrize("version", h.KNOWN_VERSIONS)
def test_each_layout_is_told_by_its_headers(version: str) -> None:
    headers = {name: set(h.COLUMNS[version][name]) for name in ("Client", "Enrollment")}
    assert h.version_from_headers(headers) == version
    assert h.version_from_headers({"Client": headers["Client"]}) == version


def test_headers_tell_layouts_despite_vendor_quirks() -> None:
    c26 = set(h.COLUMNS["2026"]["Client"])
    # greenriver's FY2026 output keeps HispanicLatinaeo; a later FY2026 drops the C4 columns
    greenriver = {"Client": c26 - {"HispanicLatinao"} | {"HispanicLatinaeo"},
                  "Enrollment": set(h.COLUMNS["2026"]["Enrollment"])
                  - set(h.ENROLLMENT_C4_COLUMNS)}
    assert h.version_from_headers(greenriver) == "2026"
    for folder in (DATALAB, PEER / "bad_data"):
        assert h.version_from_headers(
            {n: set(_header(folder, n)) for n in ("Client", "Enrollment")}) == "2024"
    assert h.version_from_headers({"Client": {"PersonalID", "Foo", "Bar"}}) is None
    assert h.version_from_headers({}) is None


def test_living_situations_are_known_codes() -> None:
    values = _column("Enrollment", "LivingSituation")
    codes = _codes(values)
    # Blank is legitimate: 3.917 is asked of heads of household and adults only.
    assert sum(v != "" for v in values) > len(values) // 2
    assert codes <= set(h.PRIOR_LIVING_SITUATION)
    assert codes <= set(h.LIVING_SITUATION)


def test_destinations_are_known_codes() -> None:
    codes = _codes(_column("Exit", "Destination"))
    assert codes
    assert codes <= set(h.DESTINATION)
    subsidies = _codes(_column("Exit", "DestinationSubsidyType"))
    assert subsidies <= set(h.RENTAL_SUBSIDY_TYPE)
    assert _codes(_column("Enrollment", "RentalSubsidyType")) <= set(h.RENTAL_SUBSIDY_TYPE)


def test_project_types_are_known_codes() -> None:
    codes = _codes(_column("Project", "ProjectType"))
    assert codes and codes <= set(h.PROJECT_TYPE)


def test_client_and_household_codes_are_known() -> None:
    assert _codes(_column("Enrollment", "RelationshipToHoH")) <= set(h.RELATIONSHIP_TO_HOH)
    assert _codes(_column("Client", "NameDataQuality")) <= set(h.NAME_DATA_QUALITY)
    assert _codes(_column("Client", "SSNDataQuality")) <= set(h.SSN_DATA_QUALITY)
    assert _codes(_column("Client", "DOBDataQuality")) <= set(h.DOB_DATA_QUALITY)
    assert _codes(_column("Client", "VeteranStatus")) <= set(h.NO_YES_REASONS_FOR_MISSING_DATA)
    for col in h.GENDER_COLUMNS_2024[:-1] + h.RACE_COLUMNS["2024"]:
        assert _codes(_column("Client", col)) <= set(h.NO_YES), col
    assert _codes(_column("Client", "GenderNone")) <= set(h.RACE_NONE)
    assert _codes(_column("Client", "RaceNone")) <= set(h.RACE_NONE)


def test_2022_mapping_targets_are_valid_2024_codes() -> None:
    assert set(h.LIVING_SITUATION_2022_TO_2024) == set(h.LIVING_SITUATION_2022)
    assert set(h.LIVING_SITUATION_2022_TO_2024.values()) <= set(h.LIVING_SITUATION)
    for old, new in h.LIVING_SITUATION_2022_TO_2024.items():
        if new >= 100 and new != 435:
            # Category digit + the old code, zero-padded (16 -> 116, 1 -> 101, 15 -> 215).
            assert new % 100 == old, (old, new)
    for old, subsidy in h.LIVING_SITUATION_2022_TO_SUBSIDY_TYPE.items():
        assert h.LIVING_SITUATION_2022_TO_2024[old] == 435
        assert subsidy in h.RENTAL_SUBSIDY_TYPE
    assert h.LIVING_SITUATION_2022_TO_2024[16] == 116
    assert h.LIVING_SITUATION_2022_TO_2024[1] == 101
    assert h.LIVING_SITUATION_2022_TO_2024[3] == 435


def test_living_situation_subsets_and_categories() -> None:
    for subset in (h.PRIOR_LIVING_SITUATION, h.DESTINATION, h.CURRENT_LIVING_SITUATION):
        assert subset.items() <= h.LIVING_SITUATION.items()
    assert 335 in h.PRIOR_LIVING_SITUATION and 335 not in h.DESTINATION
    assert 312 in h.DESTINATION and 312 not in h.PRIOR_LIVING_SITUATION
    assert h.living_situation_category(116) == "homeless"
    assert h.living_situation_category(215) == "institutional"
    assert h.living_situation_category(336) == "temporary"
    assert h.living_situation_category(435) == "permanent"
    assert h.living_situation_category(99) is None
    assert h.living_situation_category(199) is None
    assert set(h.SEX) == {0, 1, 8, 9, 99}


# -------------------------------------------------------------------------------------------
# dates as vendors export them (the peer's bad_data spec, and more)
# -------------------------------------------------------------------------------------------

T = dt.datetime
NEXT_YEAR_END = dt.date(dt.date.today().year + 1, 12, 31)


@pytest.mark.parametrize("text, latest, expected", [
    # bad_data: DOBs, whose two-digit years never land in the future
    ("08-MAY-67", dt.date(2021, 1, 1), T(1967, 5, 8)),
    ("17-JUN-20", dt.date(2021, 1, 1), T(2020, 6, 17)),
    ("17-JUN-20", dt.date(2017, 12, 30), T(1920, 6, 17)),
    # bad_data: DateUpdated and Project operating dates
    ("9-10-2015 21:39:00", NEXT_YEAR_END, T(2015, 9, 10, 21, 39)),
    ("9/10/2015 21:39:00", NEXT_YEAR_END, T(2015, 9, 10, 21, 39)),
    ("7/14/16 09:59:00", NEXT_YEAR_END, T(2016, 7, 14, 9, 59)),
    ("04-28-19 05:17:00", NEXT_YEAR_END, T(2019, 4, 28, 5, 17)),
    ("04-28-19 05:17:00", dt.date(2018, 12, 31), T(1919, 4, 28, 5, 17)),  # peer on 2017-12-30
    ("12-31-2015", NEXT_YEAR_END, T(2015, 12, 31)),
    # ISO, with or without a time; other spellings of the same layouts
    ("2015-12-31", NEXT_YEAR_END, T(2015, 12, 31)),
    ("2015-9-1", NEXT_YEAR_END, T(2015, 9, 1)),
    ("2015-12-31 13:14:15", NEXT_YEAR_END, T(2015, 12, 31, 13, 14, 15)),
    ("2015-12-31T13:14:15.250", NEXT_YEAR_END, T(2015, 12, 31, 13, 14, 15, 250000)),
    ("2015/12/31 13:14", NEXT_YEAR_END, T(2015, 12, 31, 13, 14)),
    ("8-May-1967", dt.date(2021, 1, 1), T(1967, 5, 8)),
    ("08-may-67", dt.date(2021, 1, 1), T(1967, 5, 8)),
    ("08-SEPTEMBER-1967 10:00", NEXT_YEAR_END, T(1967, 9, 8, 10)),
    ("3/4/2020 1:05 PM", NEXT_YEAR_END, T(2020, 3, 4, 13, 5)),
    ("3/4/2020 12:05 AM", NEXT_YEAR_END, T(2020, 3, 4, 0, 5)),
    (" 2015-12-31 ", NEXT_YEAR_END, T(2015, 12, 31)),
    # still no date: NULL (the value is kept as text; staging leaves it empty with its flag)
    ("31-FEB-80", NEXT_YEAR_END, None),
    ("2015-13-01", NEXT_YEAR_END, None),
    ("13-31-2015", NEXT_YEAR_END, None),
    ("08-MAX-67", NEXT_YEAR_END, None),
    ("banana", NEXT_YEAR_END, None),
    ("", NEXT_YEAR_END, None),
    (None, NEXT_YEAR_END, None),
])
def test_vendor_dates(text: str | None, latest: dt.date, expected: dt.datetime | None) -> None:
    con = duckdb.connect()
    register_macros(con)
    assert _one(con, "SELECT hmis_timestamp(?, ?::DATE)", [text, latest]) == expected


# -------------------------------------------------------------------------------------------
# the peer's own fixtures, with the counts its specs expect
# -------------------------------------------------------------------------------------------


def test_bad_data_keeps_every_client_with_a_last_name(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, PEER / "bad_data")
    assert (files["Client.csv"].read, files["Client.csv"].staged) == (134, 134)
    assert _one(con, "SELECT count(last_name_raw) FROM staged.person_records") == 134
    # quotes doubled inside quotes, as the file writes them
    assert _person(con, "6921")[3] == '"Last2 "BAD DATA""'
    # the Client file's ExportID names no export row: kept, and said so
    assert any("ExportID that Export.csv does not have" in w
               for w in files["Client.csv"].warnings)


def test_bad_data_dobs_in_vendor_formats(tmp_path: Path) -> None:
    con, _ = _ingest(tmp_path, PEER / "bad_data")
    assert _person(con, "6798")[:2] == (dt.date(1967, 5, 8), None)  # 08-MAY-67
    assert _person(con, "6800")[:2] == (dt.date(2020, 6, 17), None)  # 17-JUN-20
    assert _one(con, "SELECT count(*) FROM staged.person_records WHERE dob_flag = 'invalid'") == 0


def test_bad_data_project_operating_dates(tmp_path: Path) -> None:
    con, _ = _ingest(tmp_path, PEER / "bad_data")  # written 12-31-2015 and 12-31-2025
    assert con.execute("SELECT start_date, end_date FROM staged.groups "
                       "WHERE group_type = 'hmis_project'").fetchall() == [
        (dt.date(2015, 12, 31), dt.date(2025, 12, 31))]


def test_bad_data_enrollments_without_household_or_client(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, PEER / "bad_data")
    enrollments = files["Enrollment.csv"]
    # two name clients the file does not have; the other two, with a blank HouseholdID, are
    # households of their own (hmis-warehouse's FixBlankHouseholdIds does the same)
    assert (enrollments.read, enrollments.staged, enrollments.rejected) == (4, 2, 2)
    # the reason names the field, never its value (the line leads to it in raw)
    assert enrollments.top_reasons == [
        ("PersonalID names a person the person file does not have", 2)]
    assert sorted(r[0] for r in con.execute(
        "SELECT group_id FROM staged.memberships").fetchall()) == [
        "enrollment:557331", "enrollment:557890"]


def test_duplicate_primary_keys_keep_one_row_per_key(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, PEER / "duplicate_primary_keys")
    client, enrollment = files["Client.csv"], files["Enrollment.csv"]
    assert (client.read, client.staged, client.rejected) == (5, 3, 2)
    assert (enrollment.read, enrollment.staged, enrollment.rejected) == (5, 4, 1)
    rejects = con.execute("SELECT regexp_extract(file, '[^/]+$'), line, field, reason "
                          "FROM staged.rejects ORDER BY ALL").fetchall()
    assert rejects == [
        ("Client.csv", 5, "PersonalID", "duplicate key PersonalID: first seen at line 4"),
        ("Client.csv", 6, "PersonalID", "duplicate key PersonalID: first seen at line 4"),
        ("Enrollment.csv", 6, "EnrollmentID", "duplicate key EnrollmentID: first seen at line 3"),
    ]
    assert _one(con, "SELECT last_name_raw FROM staged.person_records WHERE source_id = "
                     "'7b8c1279001142afac2fd0bde7a8f6bf'") == "Three"


def _with_bom(folder: Path) -> None:
    for path in folder.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


@pytest.mark.parametrize("edit", [None, _with_bom], ids=["as-published", "every-file-with-bom"])
def test_bom_test_reads_like_any_other(tmp_path: Path, edit) -> None:
    """The peer's bom_test puts byte-order marks on files famlink does not read; here every
    file it reads starts with one too."""
    con, files = _ingest(tmp_path, PEER / "bom_test", edit)
    assert {name: (s.read, s.staged) for name, s in files.items()} == {
        "Export.csv": (1, 1), "Client.csv": (3, 3), "Enrollment.csv": (4, 4),
        "Exit.csv": (1, 1), "Project.csv": (1, 1), "Organization.csv": (1, 1)}
    assert _person(con, "2f4b963171644a8b9902bdfe79a4b403")[0] == dt.date(1982, 10, 17)
    assert _one(con, "SELECT count(*) FROM staged.rejects") == 0


# -------------------------------------------------------------------------------------------
# every layout, however CSVVersion is written
# -------------------------------------------------------------------------------------------


def test_fy2020_export_without_csv_version(tmp_path: Path) -> None:
    """FY2020: no CSVVersion column (told by the headers), one Gender column, two-digit living
    situations, a shelter's TrackingMethod, dates as vendors write them."""
    con, files = _ingest(tmp_path, FIXTURES / "fy2020")
    assert all(s.rejected == 0 and s.read == s.staged for s in files.values())
    assert {r[0] for r in con.execute("SELECT version FROM staged.files").fetchall()} == {"2020"}
    assert _person(con, "C1")[:3] == (dt.date(1967, 5, 8), None, "F")  # 08-MAY-67
    assert _person(con, "C2")[:3] == (dt.date(1990, 5, 8), None, "M")  # 5/8/1990
    assert _person(con, "C3")[:3] == (dt.date(2012, 1, 30), None, "F")  # with a time
    assert _person(con, "C4")[:3] == (None, "invalid", None)  # 31-FEB-80; Gender 2
    assert _details(con, "hmis_enrollment", "_living_situation") == {
        "C1": "116", "C2": "116", "C3": None, "C4": "336"}
    assert _details(con, "hmis_enrollment", "_project_type") == {
        "C1": "0", "C2": "0", "C3": "0", "C4": "1"}  # entry/exit and night-by-night shelters
    assert _details(con, "hmis_exit", "_destination") == {"C4": "410"}
    assert _one(con, "SELECT start_date FROM staged.events WHERE record_id = 'hmis:C1'") == \
        dt.date(2020, 3, 15)  # 03-15-2020
    assert _one(con, "SELECT attributes->>'VictimServiceProvider' FROM staged.groups "
                     "WHERE group_type = 'hmis_organization'") == "0"
    assert not any("not in the file" in w for s in files.values() for w in s.warnings)


def test_fy2022_export(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, FIXTURES / "fy2022")  # CSVVersion "FY2022"
    assert all(s.rejected == 0 and s.read == s.staged for s in files.values())
    assert {r[0] for r in con.execute("SELECT version FROM staged.files").fetchall()} == {"2022"}
    assert _person(con, "K1")[2] == "F" and _person(con, "K2")[2] == "M"  # Female / Male
    assert _person(con, "K2")[0] == dt.date(2020, 6, 17)  # 17-JUN-20
    assert _details(con, "hmis_enrollment", "_living_situation") == {"K1": "101", "K2": None}
    assert _details(con, "hmis_exit", "_destination") == {"K1": "435"}  # 31: RRH subsidy


def test_fy2026_export(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, FIXTURES / "fy2026")
    assert all(s.rejected == 0 and s.read == s.staged for s in files.values())
    assert {r[0] for r in con.execute("SELECT version FROM staged.files").fetchall()} == {"2026"}
    assert _person(con, "S1")[2] == "F" and _person(con, "S2")[2] == "M"  # Sex 0 / 1
    assert _details(con, "hmis_enrollment", "_living_situation") == {"S1": "116", "S2": None}


@pytest.mark.parametrize("fixture, written, version", [
    ("fy2022", "FY2022", "2022"), ("fy2022", "2022", "2022"), ("fy2022", "2022 v1.0", "2022"),
    ("fy2022", "fy 2022", "2022"),
    ("greenriver-datalab-fy2024", "FY2024", "2024"),
    ("greenriver-datalab-fy2024", "2024v1.3", "2024"),
    ("fy2026", "FY2026", "2026"), ("fy2026", " 2026 ", "2026"),
])
def test_csv_version_however_written(tmp_path: Path, fixture: str, written: str,
                                     version: str) -> None:
    con, files = _ingest(tmp_path, FIXTURES / fixture, lambda f: _set_csv_version(f, written))
    assert {r[0] for r in con.execute("SELECT version FROM staged.files").fetchall()} == {version}
    assert not files["Export.csv"].warnings or fixture.startswith("greenriver")  # ExportDate


@pytest.mark.parametrize("fixture, version", [
    ("fy2022", "2022"), ("greenriver-datalab-fy2024", "2024"), ("fy2026", "2026")])
@pytest.mark.parametrize("written", [None, "", "banana"], ids=["no-column", "blank", "unreadable"])
def test_csv_version_missing_or_unreadable_is_told_by_headers(
        tmp_path: Path, fixture: str, version: str, written: str | None) -> None:
    con, files = _ingest(tmp_path, FIXTURES / fixture, lambda f: _set_csv_version(f, written))
    assert {r[0] for r in con.execute("SELECT version FROM staged.files").fetchall()} == {version}
    assert any(f"read as FY{version}" in w for w in files["Export.csv"].warnings)
    assert sum(s.rejected for s in files.values()) == 0


def test_fy2022_codes_in_fy2024_columns_trust_csv_version(tmp_path: Path) -> None:
    """An FY2022 export rewritten in FY2024 columns still carries two-digit codes: a readable
    CSVVersion decides how codes are read; the disagreement is a warning."""
    def edit(folder: Path) -> None:
        _set_csv_version(folder, "2022 v1.3")
        def two_digit(rows: list[list[str]]) -> list[list[str]]:
            at = rows[0].index("LivingSituation")
            return [rows[0]] + [row[:at] + [{"116": "16", "336": "36"}.get(row[at], row[at])]
                                + row[at + 1:] for row in rows[1:]]
        _rewrite(folder / "Enrollment.csv", two_digit)
    con, files = _ingest(tmp_path, DATALAB, edit)
    codes = set(_details(con, "hmis_enrollment", "_living_situation").values())
    assert {"116", "336"} <= codes and not codes & {"16", "36"}
    assert any("CSVVersion says FY2022 but the columns" in w
               for w in files["Export.csv"].warnings)


def test_an_export_of_no_known_layout_is_one_clear_error(tmp_path: Path) -> None:
    def edit(folder: Path) -> None:
        _set_csv_version(folder, "banana")
        (folder / "Client.csv").write_text("PersonalID,Foo,Bar\r\n1,2,3\r\n")
        (folder / "Enrollment.csv").write_text("EnrollmentID,PersonalID,Baz\r\n1,1,3\r\n")
    with pytest.raises(IngestError, match=r"Export\.csv: CSVVersion 'banana' names no HMIS CSV "
                                          r"version famlink reads") as caught:
        _ingest(tmp_path, FIXTURES / "fy2022", edit)
    assert "\n" not in str(caught.value)


# -------------------------------------------------------------------------------------------
# several exports in one Export.csv
# -------------------------------------------------------------------------------------------


def test_several_export_rows_each_record_keeps_its_own(tmp_path: Path) -> None:
    """Like HUD's FY2026 LSA sample (Export.csv with one row per ExportID)."""
    con, files = _ingest(tmp_path, FIXTURES / "multi_export")
    assert (files["Export.csv"].read, files["Export.csv"].staged) == (3, 3)
    assert all(s.rejected == 0 and s.read == s.staged and not s.warnings
               for s in files.values())
    assert con.execute("SELECT group_id, attributes->>'CSVVersion' FROM staged.groups WHERE "
                       "group_type = 'hmis_export' ORDER BY 1").fetchall() == [
        ("X100", "2024 v1.3"), ("X200", "2024 v1.3"), ("X300", "2024 v1.3")]
    assert _details(con, "hmis_enrollment", "ExportID") == {
        "A1": "X100", "A2": "X100", "B1": "X200", "C1": "X300"}
    assert _details(con, "hmis_exit", "ExportID") == {"B1": "X200"}
    assert dict(con.execute("SELECT group_id, attributes->>'ExportID' FROM staged.groups "
                            "WHERE group_type = 'hmis_project'").fetchall()) == {
        "P1": "X100", "P2": "X200", "P3": "X300"}
    # a person's record leads back to its line, whose ExportID is its export's
    assert con.execute("""SELECT p.source_id, c.ExportID FROM staged.person_records p
                          JOIN raw.hmis__client c ON c._line = p.source_line
                          ORDER BY 1""").fetchall() == [
        ("A1", "X100"), ("A2", "X100"), ("B1", "X200"), ("C1", "X300")]


def test_several_export_rows_naming_different_versions_go_by_the_headers(
        tmp_path: Path) -> None:
    def edit(folder: Path) -> None:
        _rewrite(folder / "Export.csv", lambda rows: [rows[0]] + [
            [("2022 v1.0" if i == 1 and c == "CSVVersion" else v)
             for c, v in zip(rows[0], row, strict=True)] for i, row in enumerate(rows[1:])])
    con, files = _ingest(tmp_path, FIXTURES / "multi_export", edit)
    assert _one(con, "SELECT DISTINCT version FROM staged.files") == "2024"
    assert any("several versions" in w for w in files["Export.csv"].warnings)


# -------------------------------------------------------------------------------------------
# files cut short, and files that cannot be read
# -------------------------------------------------------------------------------------------


def _cut(name: str, keep: int) -> Callable[[Path], None]:
    """Cut a file `keep` bytes before its end (negative) as an interrupted transfer does."""
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[:keep])
    return edit


@pytest.mark.parametrize("keep, field", [
    (-3, "ExportID"),  # inside the last field: every field is there, the ExportID is not whole
    (-40, "DateUpdated"),  # fields missing
])
def test_a_file_cut_mid_row_rejects_that_row_only(tmp_path: Path, keep: int, field: str) -> None:
    con, files = _ingest(tmp_path, DATALAB, _cut("Enrollment.csv", keep))
    enrollment = files["Enrollment.csv"]
    assert (enrollment.read, enrollment.staged, enrollment.rejected) == (574, 573, 1)
    rejects = con.execute("SELECT DISTINCT line, reason FROM staged.rejects WHERE field = ?",
                          [field]).fetchall()
    assert len(rejects) == 1 and rejects[0][0] == 575, rejects
    line, reason = rejects[0]
    assert "cut short" in reason or "truncated" in reason
    last = (DATALAB / "Enrollment.csv").read_text().splitlines()[-1].split(",")
    assert not any(value in reason for value in last if len(value) > 2)  # no record values
    assert _one(con, "SELECT count(*) FROM staged.events WHERE event_type = 'hmis_enrollment'"
                ) == 573


def test_a_compressed_file_cut_inside_its_last_field_rejects_that_row(tmp_path: Path) -> None:
    """The same cut, delivered gzipped: whether the file ends inside a line is read while the
    decompressed copy exists (it once was asked of the copy after it was gone, and the cut
    line was kept)."""
    def edit(folder: Path) -> None:
        _cut("Enrollment.csv", -3)(folder)
        path = folder / "Enrollment.csv"
        (folder / "Enrollment.csv.gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    con, _ = _ingest(tmp_path, DATALAB, edit)
    assert con.execute("SELECT line FROM staged.rejects WHERE field = 'ExportID'"
                       ).fetchall() == [(575,)]
    assert _one(con, "SELECT count(*) FROM staged.events WHERE event_type = 'hmis_enrollment'"
                ) == 573


def test_a_file_missing_only_its_last_line_break_is_whole(tmp_path: Path) -> None:
    con, files = _ingest(tmp_path, DATALAB, _cut("Enrollment.csv", -1))
    assert (files["Enrollment.csv"].staged, files["Enrollment.csv"].rejected) == (574, 0)


def test_a_file_cut_inside_a_quoted_value_is_never_a_traceback(tmp_path: Path) -> None:
    """A line cut inside quotes leaves a quote open to the end of the file. Either the reader
    rejects that line with its reason, or the ingest stops with one line naming the file."""
    def edit(folder: Path) -> None:
        path = folder / "Client.csv"
        path.write_bytes(path.read_bytes() + b'9999,First,,"Smi')
    try:
        con, files = _ingest(tmp_path, PEER / "bad_data", edit)
    except IngestError as exc:
        assert "Client.csv" in str(exc) and "\n" not in str(exc)
    else:
        assert (files["Client.csv"].staged, files["Client.csv"].rejected) == (134, 1)


def test_an_unreadable_file_is_never_a_traceback(tmp_path: Path) -> None:
    """Random bytes for Project.csv: a reject naming the file, or one line naming it."""
    def edit(folder: Path) -> None:
        (folder / "Project.csv").write_bytes(bytes(range(256)) * 64)
    try:
        con, files = _ingest(tmp_path, PEER / "bad_data", edit)
    except IngestError as exc:
        assert "Project.csv" in str(exc) and "\n" not in str(exc)
    else:
        assert files["Project.csv"].staged == 0
        assert _one(con, "SELECT count(*) FROM staged.rejects WHERE file LIKE '%Project.csv'")
        assert files["Client.csv"].staged == 134
