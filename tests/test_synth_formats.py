"""The extracts are in their real formats: HMIS headers equal HUD's fixture, TANF lines are
fixed-width at the right positions, CW and CS carry the fields the ingest will map."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from helpers import FIXTURES, read_csv

from linkage.formats import hmis_csv, tanf_section1
from synthetic_data.generate import synthesize

HMIS_FILES = ("Export", "Organization", "Project", "Client", "Enrollment", "Exit")


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize("name", HMIS_FILES)
def test_hmis_2024_headers_equal_the_real_export(small: Path, name: str) -> None:
    fixture = FIXTURES / "hmis_csv" / "greenriver-datalab-fy2024" / f"{name}.csv"
    assert _header(small / "extracts" / "hmis" / f"{name}.csv") == _header(fixture)


def test_hmis_2026_layout(tmp_path: Path) -> None:
    synthesize(400, 2, tmp_path, hmis_version="2026")
    hmis = tmp_path / "extracts" / "hmis"
    for name in HMIS_FILES:
        assert _header(hmis / f"{name}.csv") == list(hmis_csv.COLUMNS["2026"][name])
    export = read_csv(hmis / "Export.csv")[0]
    assert export["CSVVersion"] == "2026 v1.0"
    clients = read_csv(hmis / "Client.csv")
    assert clients and {c["Sex"] for c in clients} <= {"0", "1"}
    assert "Woman" not in clients[0] and "HispanicLatinao" in clients[0]


def test_hmis_codes_are_hud_codes(small: Path) -> None:
    hmis = small / "extracts" / "hmis"
    assert read_csv(hmis / "Export.csv")[0]["CSVVersion"] == "2024 v1.3"
    projects = {p["ProjectID"]: int(p["ProjectType"]) for p in read_csv(hmis / "Project.csv")}
    assert set(projects.values()) <= set(hmis_csv.PROJECT_TYPE)
    assert {0, 1, 2, 3, 4, 8, 13} <= set(projects.values())  # ES, SO, SH, TH, RRH, PSH
    clients = {c["PersonalID"]: c for c in read_csv(hmis / "Client.csv")}
    for c in clients.values():
        assert int(c["NameDataQuality"]) in hmis_csv.NAME_DATA_QUALITY
        assert int(c["SSNDataQuality"]) in hmis_csv.SSN_DATA_QUALITY
        assert int(c["DOBDataQuality"]) in hmis_csv.DOB_DATA_QUALITY
        if c["SSN"] == "":
            assert c["SSNDataQuality"] in {"8", "9", "99"}
        if c["DOB"] == "":
            assert c["DOBDataQuality"] in {"8", "9", "99"}
    enrollments = read_csv(hmis / "Enrollment.csv")
    households: dict[str, list[int]] = {}
    for e in enrollments:
        assert e["PersonalID"] in clients and e["ProjectID"] in projects
        assert int(e["RelationshipToHoH"]) in hmis_csv.RELATIONSHIP_TO_HOH
        if e["LivingSituation"]:
            assert int(e["LivingSituation"]) in hmis_csv.PRIOR_LIVING_SITUATION
        households.setdefault(e["HouseholdID"], []).append(int(e["RelationshipToHoH"]))
    assert all(rel.count(1) == 1 for rel in households.values())  # one head per household
    enrollment_ids = {e["EnrollmentID"] for e in enrollments}
    for x in read_csv(hmis / "Exit.csv"):
        assert x["EnrollmentID"] in enrollment_ids
        assert int(x["Destination"]) in hmis_csv.DESTINATION


def _tanf_files(root: Path) -> list[Path]:
    files = sorted((root / "extracts" / "tanf").glob("tanf_section1_*.txt"))
    assert files
    return files


def test_tanf_files_are_fixed_width_with_header_and_trailer(small: Path) -> None:
    for path in _tanf_files(small):
        lines = path.read_text(encoding="ascii").split("\n")
        assert lines[-1] == ""  # ends with a newline
        lines = lines[:-1]
        header = tanf_section1.parse_record(tanf_section1.HEADER, lines[0])
        year, quarter = path.stem.split("_")[-1].split("Q")
        assert header["TITLE"] == "HEADER" and header["YEAR"] == year
        assert header["QUARTER"] == quarter and header["PROGRAM_TYPE"] == "TAN"
        assert header["STATE_FIPS"] == "06" and header["ENCRYPTION"] == "E"
        trailer = tanf_section1.parse_record(tanf_section1.TRAILER, lines[-1])
        assert trailer["TITLE"] == "TRAILER"
        assert int(trailer["RECORD_COUNT"]) == len(lines) - 2
        assert len(lines[0]) == len(lines[-1]) == 23
        months = {f"{year}{m:02d}" for m in range(3 * int(quarter) - 2, 3 * int(quarter) + 1)}
        for line in lines[1:-1]:
            assert len(line) == tanf_section1.RECORD_LENGTH[line[:2]] == 156
            assert line[:2] in {"T1", "T2", "T3"}
            assert line[2:8] in months


def test_tanf_fields_decode(small: Path) -> None:
    adults = children = 0
    for path in _tanf_files(small):
        case = None
        for line in path.read_text(encoding="ascii").splitlines()[1:-1]:
            kind = line[:2]
            if kind == "T1":
                t1 = tanf_section1.parse_record(tanf_section1.T1, line)
                case = t1["CASE_NUMBER"]
                assert int(t1["NBR_FAMILY_MEMBERS"]) >= 2
                assert t1["ZIP_CODE"] == "" or len(t1["ZIP_CODE"]) == 5
                continue
            people = ([tanf_section1.parse_record(tanf_section1.T2, line)] if kind == "T2"
                      else tanf_section1.parse_t3_children(line))
            for p in people:
                assert p["CASE_NUMBER"] == case  # T2/T3 follow their family's T1
                if p["DATE_OF_BIRTH"]:
                    date(int(p["DATE_OF_BIRTH"][:4]), int(p["DATE_OF_BIRTH"][4:6]),
                         int(p["DATE_OF_BIRTH"][6:]))
                if p["SSN"]:
                    assert len(tanf_section1.decrypt_ssn(p["SSN"])) == 9
                assert p["GENDER"] in {"1", "2"}
            adults += kind == "T2"
            children += len(people) if kind == "T3" else 0
    assert adults and children


def test_cw_and_cs_files(small: Path) -> None:
    cw = small / "extracts" / "cw"
    persons = {p["person_id"]: p for p in read_csv(cw / "persons.csv")}
    assert all(len(pid) == 8 and pid.isdigit() for pid in persons)  # zero-padded ids
    cases = {c["case_id"]: c for c in read_csv(cw / "cases.csv")}
    assert {c["case_status"] for c in cases.values()} == {"OPEN", "CLOSED"}
    roles = read_csv(cw / "case_participants.csv")
    assert {r["participant_role"] for r in roles} >= {"CHILD", "MOTHER", "FATHER"}
    assert {r["father_type"] for r in roles if r["participant_role"] == "FATHER"} >= {
        "BIOLOGICAL", "ALLEGED"}
    assert all(r["person_id"] in persons and r["case_id"] in cases for r in roles)
    removals = read_csv(cw / "removals.csv")
    assert removals and all(r["child_person_id"] in persons for r in removals)
    removal_ids = {r["removal_id"] for r in removals}
    assert all(p["removal_id"] in removal_ids for p in read_csv(cw / "placements.csv"))

    cs = small / "extracts" / "cs"
    members = read_csv(cs / "fcr_persons.csv")
    assert {m["participant_type"] for m in members} == {"CH", "CP", "NP", "PF"}
    assert {m["order_indicator"] for m in members} == {"Y", "N"}
    assert {m["ive_referral_indicator"] for m in members if m["participant_type"] == "CH"} == {
        "Y", "N"}
    for m in members:
        if m["birth_date"]:
            month, day, year = m["birth_date"].split("/")
            date(int(year), int(month), int(day))
    np_ids = {m["member_id"] for m in members if m["participant_type"] in {"NP", "PF"}}
    locate = read_csv(cs / "locate.csv")
    assert locate and all(row["member_id"] in np_ids for row in locate)
