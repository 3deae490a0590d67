"""Check the ACF-199 section 1 layouts against a real TANF-app sample file, and the TANF reader
against the files TDRS and TANF-app produce: names without an extension, lines that cannot be
identified, a quarter delivered twice.

The fixtures are HHS/TANF-app's ``small_tanf_section1.txt``, ``ADS.E2J.FTP1.TS142`` and
``small_bad_tanf_s1.txt`` (tests/fixtures/tanf/README.md); every value asserted below was read
off those files with the positions of TANF-app's schema definitions.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import ROOT

from linkage.formats.tanf_section1 import (
    ENCRYPTED_FLAG,
    ENCRYPTION_FIELD,
    HEADER,
    RECORD_LENGTH,
    SSN_DECRYPTION_MAP,
    SSN_ENCRYPTION_MAP,
    T1,
    T2,
    T3,
    T3_BLANK,
    T3_CHILD,
    T3_CHILD_LENGTH,
    T3_CHILD_OFFSETS,
    T3_MIN_LENGTH,
    T3_PREFIX,
    TRAILER,
    Field,
    decrypt_ssn,
    encrypt_ssn,
    format_record,
    format_t3_record,
    header_is_encrypted,
    is_section1_header,
    parse_record,
    parse_t3_children,
    t3_child_fields,
)
from linkage.ingest.run import FileSummary, IngestFailed, ingest
from linkage.warehouse import connect

TANF_FIXTURES = ROOT / "tests" / "fixtures" / "tanf"
FIXTURE = TANF_FIXTURES / "small_tanf_section1.txt"
TDRS_NAMED = TANF_FIXTURES / "ADS.E2J.FTP1.TS142"
ERROR_TEST = TANF_FIXTURES / "small_bad_tanf_s1.txt"  # TANF-app's error-test file
SOURCE = ROOT / "configs" / "sources" / "tanf.yaml"

LAYOUTS = {"HEADER": HEADER, "TRAILER": TRAILER, "T1": T1, "T2": T2, "T3": T3}


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return FIXTURE.read_text(encoding="ascii").splitlines()


def _of(lines: list[str], record_type: str) -> list[str]:
    return [line for line in lines if line.startswith(record_type)]


# ---------------------------------------------------------------------------------------------
# Layout shape
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_tiles_record_without_gaps_or_overlaps(name: str) -> None:
    fields = LAYOUTS[name]
    assert fields[0].start == 0
    for left, right in zip(fields, fields[1:], strict=False):
        assert left.end == right.start, f"{name}: gap/overlap between {left} and {right}"
    assert fields[-1].end == RECORD_LENGTH[name]
    assert sum(f.width for f in fields) == RECORD_LENGTH[name]
    assert len({f.name for f in fields}) == len(fields), f"{name}: duplicate field names"
    assert all(f.kind in ("N", "A") for f in fields)


def test_record_lengths() -> None:
    assert RECORD_LENGTH == {"HEADER": 23, "TRAILER": 23, "T1": 156, "T2": 156, "T3": 156}


def test_t3_child_slots() -> None:
    assert T3_CHILD_LENGTH == 41
    assert T3_CHILD_OFFSETS == (19, 60)
    assert T3_MIN_LENGTH == {1: 60, 2: 101}
    assert [f.name for f in T3_PREFIX] == ["RecordType", "RPT_MONTH_YEAR", "CASE_NUMBER"]
    assert T3_CHILD[0].start == 0
    for left, right in zip(T3_CHILD, T3_CHILD[1:], strict=False):
        assert left.end == right.start
    assert (T3_BLANK.name, T3_BLANK.start, T3_BLANK.end, T3_BLANK.kind) == ("BLANK", 101, 156, "A")
    child2 = {f.name: f for f in t3_child_fields(2)}
    assert (child2["SSN"].start, child2["SSN"].end) == (69, 78)
    assert (child2["FAMILY_AFFILIATION"].start, child2["OTHER_UNEARNED_INCOME"].end) == (60, 101)


def test_known_positions_match_tanf_app() -> None:
    t1 = {f.name: (f.start, f.end) for f in T1}
    assert t1["COUNTY_FIPS_CODE"] == (19, 22)
    assert t1["ZIP_CODE"] == (24, 29)
    assert t1["CASH_AMOUNT"] == (55, 59)
    assert t1["FAMILY_NEW_CHILD"] == (116, 117)
    assert t1["BLANK"] == (117, 156)
    t2 = {f.name: (f.start, f.end) for f in T2}
    assert t2["DATE_OF_BIRTH"] == (21, 29)
    assert t2["SSN"] == (29, 38)
    assert t2["EDUCATION_LEVEL"] == (55, 57)
    assert t2["WORK_PART_STATUS"] == (68, 70)
    assert t2["OTHER_UNEARNED_INCOME"] == (152, 156)
    header = {f.name: (f.start, f.end) for f in HEADER}
    assert header[ENCRYPTION_FIELD] == (21, 22)


def test_field_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError):
        Field("X", 3, 3, "N")
    with pytest.raises(ValueError):
        Field("X", 0, 1, "Z")


# ---------------------------------------------------------------------------------------------
# The fixture
# ---------------------------------------------------------------------------------------------
def test_fixture_shape(lines: list[str]) -> None:
    assert lines[0].startswith("HEADER") and lines[-1].startswith("TRAILER")
    counts = {rt: len(_of(lines, rt)) for rt in ("T1", "T2", "T3")}
    assert counts == {"T1": 5, "T2": 5, "T3": 5}
    assert len(lines[0]) == len(lines[-1]) == 23
    for line in _of(lines, "T1") + _of(lines, "T2"):
        assert len(line) == 156
    t3_lengths = [len(line) for line in _of(lines, "T3")]
    assert t3_lengths == [156, 156, 156, 156, 103]


def test_header(lines: list[str]) -> None:
    h = parse_record(HEADER, lines[0])
    assert h == {
        "TITLE": "HEADER",
        "YEAR": "2020",
        "QUARTER": "4",
        "TYPE": "A",
        "STATE_FIPS": "06",
        "TRIBE_CODE": "",
        "PROGRAM_TYPE": "TAN",
        "EDIT": "1",
        "ENCRYPTION": "E",
        "UPDATE": "D",
    }
    assert h[ENCRYPTION_FIELD] == ENCRYPTED_FLAG
    assert header_is_encrypted(lines[0])
    assert not header_is_encrypted("HEADER20204A06   TAN1 D")
    assert format_record(HEADER, h) == lines[0]


def test_trailer(lines: list[str]) -> None:
    t = parse_record(TRAILER, lines[-1])
    assert t == {"TITLE": "TRAILER", "RECORD_COUNT": "0002643", "BLANK": ""}
    # The sample was cut from a bigger file: its count does not describe the lines present.
    assert int(t["RECORD_COUNT"]) != len(lines) - 2
    assert format_record(TRAILER, t) == lines[-1]


def test_every_data_line_is_october_2020(lines: list[str]) -> None:
    for line in _of(lines, "T1"):
        assert parse_record(T1, line)["RPT_MONTH_YEAR"] == "202010"
    for line in _of(lines, "T2"):
        assert parse_record(T2, line)["RPT_MONTH_YEAR"] == "202010"
    for line in _of(lines, "T3"):
        for child in parse_t3_children(line):
            assert child["RPT_MONTH_YEAR"] == "202010"


def test_case_numbers_tie_families_together(lines: list[str]) -> None:
    t1_cases = [parse_record(T1, line)["CASE_NUMBER"] for line in _of(lines, "T1")]
    t2_cases = [parse_record(T2, line)["CASE_NUMBER"] for line in _of(lines, "T2")]
    t3_cases = [parse_record(T3_PREFIX, line)["CASE_NUMBER"] for line in _of(lines, "T3")]
    assert t1_cases == ["11111111112", "11111111115", "11111111140", "11111111147", "11111111151"]
    assert t2_cases == t1_cases
    assert t3_cases == t1_cases
    # Records come grouped per family: T1, then its T2, then its T3.
    for i in range(1, len(lines) - 1, 3):
        cases = {line[8:19] for line in lines[i : i + 3]}
        assert [line[:2] for line in lines[i : i + 3]] == ["T1", "T2", "T3"]
        assert len(cases) == 1


def test_t1_values(lines: list[str]) -> None:
    first = parse_record(T1, _of(lines, "T1")[0])
    assert first["COUNTY_FIPS_CODE"] == "230"
    assert first["STRATUM"] == "03"
    assert first["ZIP_CODE"] == "40336"
    assert first["FUNDING_STREAM"] == "1"
    assert first["NBR_FAMILY_MEMBERS"] == "02"
    assert first["FAMILY_TYPE"] == "1"
    assert first["CASH_AMOUNT"] == "0873"
    assert first["NBR_MONTHS"] == "001"
    assert first["WAIVER_EVAL_CONTROL_GRPS"] == "9"
    assert first["FAMILY_EXEMPT_TIME_LIMITS"] == "01"
    assert first["FAMILY_NEW_CHILD"] == "2"
    assert first["BLANK"] == ""
    for line in _of(lines, "T1"):
        rec = parse_record(T1, line)
        assert int(rec["NBR_FAMILY_MEMBERS"]) >= 1
        assert rec["DISPOSITION"] == "1"


def test_t2_values(lines: list[str]) -> None:
    first = parse_record(T2, _of(lines, "T2")[0])
    assert first["FAMILY_AFFILIATION"] == "1"
    assert first["NONCUSTODIAL_PARENT"] == "2"
    assert first["DATE_OF_BIRTH"] == "19740114"
    assert first["SSN"] == "WTTTTTY@W"
    assert decrypt_ssn(first["SSN"]) == "900000719"
    assert first["GENDER"] == "2"
    assert first["RELATIONSHIP_HOH"] == "01"
    assert first["EDUCATION_LEVEL"] == "12"
    assert first["CITIZENSHIP_STATUS"] == "1"
    assert first["WORK_PART_STATUS"] == "15"
    assert first["OTHER_UNEARNED_INCOME"] == "0291"
    for line in _of(lines, "T2"):
        rec = parse_record(T2, line)
        born = dt.datetime.strptime(rec["DATE_OF_BIRTH"], "%Y%m%d").date()
        assert dt.date(1900, 1, 1) < born < dt.date(2020, 10, 1)
        ssn = decrypt_ssn(rec["SSN"])
        assert len(ssn) == 9 and ssn.isdigit()
        assert rec["GENDER"] in ("1", "2")


def test_t3_children(lines: list[str]) -> None:
    t3_lines = _of(lines, "T3")
    per_line = [parse_t3_children(line) for line in t3_lines]
    assert [len(children) for children in per_line] == [1, 1, 1, 1, 2]
    first = per_line[0][0]
    assert first["CASE_NUMBER"] == "11111111112"
    assert first["DATE_OF_BIRTH"] == "20190127"
    assert decrypt_ssn(first["SSN"]) == "900002595"
    assert first["RELATIONSHIP_HOH"] == "04"
    assert first["EDUCATION_LEVEL"] == "98"
    a, b = per_line[-1]
    assert a["CASE_NUMBER"] == b["CASE_NUMBER"] == "11111111151"
    assert (a["DATE_OF_BIRTH"], b["DATE_OF_BIRTH"]) == ("20170525", "20151113")
    assert (decrypt_ssn(a["SSN"]), decrypt_ssn(b["SSN"])) == ("900001867", "900002006")
    for children in per_line:
        for child in children:
            born = dt.datetime.strptime(child["DATE_OF_BIRTH"], "%Y%m%d").date()
            assert dt.date(1990, 1, 1) < born < dt.date(2020, 12, 31)
            ssn = decrypt_ssn(child["SSN"])
            assert len(ssn) == 9 and ssn.isdigit()
            assert child["FAMILY_AFFILIATION"] == "1"


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("record_type", ["T1", "T2"])
def test_round_trip_t1_t2(lines: list[str], record_type: str) -> None:
    fields = LAYOUTS[record_type]
    for line in _of(lines, record_type):
        assert format_record(fields, parse_record(fields, line)) == line


def test_round_trip_t3(lines: list[str]) -> None:
    for line in _of(lines, "T3"):
        children = parse_t3_children(line)
        rebuilt = format_t3_record(children[0], children)
        # The fixture's two-child line stops at 103 characters; the layout pads to 156.
        assert rebuilt == line.ljust(RECORD_LENGTH["T3"])
        assert parse_t3_children(rebuilt) == children
        for number, child in enumerate(children, start=1):
            slot = format_record(T3_CHILD, child)
            start = T3_CHILD_OFFSETS[number - 1]
            assert slot == line[start : start + T3_CHILD_LENGTH]
        assert format_record(T3, parse_record(T3, line)) == line.ljust(RECORD_LENGTH["T3"])


def test_absent_second_child_rules() -> None:
    prefix = "T3202010" + "12345678901"
    child = "1" + "20150101" + "WTTTT9TT#" + "222212" + "2" + "22" + "04" + "3" + "98" + "1"
    child += "0000" + "0000"
    assert len(child) == 41
    assert len(parse_t3_children(prefix + child)) == 1  # shortened line
    assert len(parse_t3_children(prefix + child + " " * 41)) == 1  # blank slot
    assert len(parse_t3_children(prefix + child + "0" * 41)) == 1  # all-zero slot
    assert len(parse_t3_children(prefix + child + child)) == 2


# ---------------------------------------------------------------------------------------------
# format_record rules and SSN substitution
# ---------------------------------------------------------------------------------------------
def test_format_record_padding_and_errors() -> None:
    fields = (Field("NUM", 0, 4, "N"), Field("TXT", 4, 8, "A"))
    assert format_record(fields, {"NUM": 7, "TXT": "ab"}) == "0007ab  "
    assert format_record(fields, {"NUM": "0042"}) == "0042    "
    assert format_record(fields, {"NUM": None, "TXT": None}) == " " * 8
    assert format_record(fields, {}) == " " * 8
    with pytest.raises(ValueError, match="NUM"):
        format_record(fields, {"NUM": 12345})
    with pytest.raises(ValueError, match="TXT"):
        format_record(fields, {"TXT": "toolong"})
    with pytest.raises(ValueError, match="NUM"):
        format_record(fields, {"NUM": "12a"})
    with pytest.raises(ValueError, match="NUM"):
        format_record(fields, {"NUM": -1})


def test_ssn_maps_are_inverse_bijections() -> None:
    assert SSN_DECRYPTION_MAP == {
        "@": "1", "9": "2", "Z": "3", "P": "4", "0": "5",
        "#": "6", "Y": "7", "B": "8", "W": "9", "T": "0",
    }  # fmt: skip
    assert sorted(SSN_DECRYPTION_MAP.values()) == list("0123456789")
    assert {v: k for k, v in SSN_ENCRYPTION_MAP.items()} == SSN_DECRYPTION_MAP


@pytest.mark.parametrize("ssn", ["123456789", "000000000", "987654320", "900000719"])
def test_ssn_round_trip(ssn: str) -> None:
    encrypted = encrypt_ssn(ssn)
    assert len(encrypted) == len(ssn)
    assert decrypt_ssn(encrypted) == ssn


def test_ssn_known_values_and_errors() -> None:
    assert encrypt_ssn("123456789") == "@9ZP0#YBW"
    assert decrypt_ssn("@90#Y0B") == "1256758"  # TANF-app's own test vector
    with pytest.raises(ValueError):
        encrypt_ssn("12345678X")
    with pytest.raises(ValueError):
        decrypt_ssn("TANFSSN")


def test_section1_header_is_told_by_its_first_line(lines: list[str]) -> None:
    assert is_section1_header(lines[0])
    assert is_section1_header(TDRS_NAMED.read_text(encoding="ascii").splitlines()[0])
    assert is_section1_header("\ufeff" + lines[0])  # a byte-order mark before it
    assert not is_section1_header("HEADER20204C06   TAN1ED")  # section 2, closed cases
    assert not is_section1_header("HEADER20205A06   TAN1ED")  # no quarter 5
    assert not is_section1_header(lines[1])
    assert not is_section1_header("ThisLineShouldError")


# ---------------------------------------------------------------------------------------------
# The reader: which files, which lines, which delivery
# ---------------------------------------------------------------------------------------------
def _ingest(tmp_path: Path, files: dict[str, bytes | Path], source: str | None = None,
            modified: dict[str, int] | None = None,
            ) -> tuple[duckdb.DuckDBPyConnection, dict[str, FileSummary]]:
    """Ingest a TANF folder holding `files` (name -> bytes, or a fixture to copy) with the
    shipped tanf.yaml or the YAML text `source`; `modified` sets files' modification times
    (seconds). Returns the warehouse and the summaries by file name."""
    folder = tmp_path / "extracts" / "tanf"
    folder.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_bytes(content)
    for name, seconds in (modified or {}).items():
        os.utime(folder / name, (seconds, seconds))
    configs = tmp_path / "sources"
    configs.mkdir()
    (configs / "tanf.yaml").write_text(source or SOURCE.read_text(encoding="utf-8"),
                                       encoding="utf-8")
    con = connect(tmp_path / "t.duckdb")
    try:
        summaries = ingest(con, tmp_path / "extracts", configs)
    except IngestFailed as failed:  # a file that stages nothing fails it, once all is in
        summaries = failed.summary
    return con, {Path(s.file).name: s for s in summaries}


def _counts(summary: FileSummary) -> tuple[int, int, int]:
    return summary.read, summary.staged, summary.rejected


def _report(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("ascii")


def _rejects(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, str | None, str]]:
    return [(Path(f).name, line, field, reason) for f, line, field, reason in con.execute(
        "SELECT file, line, field, reason FROM staged.rejects ORDER BY file, line").fetchall()]


def test_files_named_as_tdrs_names_them_are_read(tmp_path: Path) -> None:
    """`ADS.E2J.FTP1.TS06` and `ADS.E2J.FTP1.TS142` (no extension, one stem) are reports
    because their first line is a section 1 HEADER; each keeps a raw table of its own."""
    con, summaries = _ingest(tmp_path, {"ADS.E2J.FTP1.TS06": FIXTURE,
                                        "ADS.E2J.FTP1.TS142": TDRS_NAMED})
    assert _counts(summaries["ADS.E2J.FTP1.TS06"]) == (15, 15, 0)
    assert _counts(summaries["ADS.E2J.FTP1.TS142"]) == (3, 3, 0)
    people = dict(con.execute("SELECT source_file, count(*) FROM staged.person_records "
                              "GROUP BY ALL").fetchall())
    assert {Path(f).name: n for f, n in people.items()} == {
        "ADS.E2J.FTP1.TS06": 11, "ADS.E2J.FTP1.TS142": 3}  # TS142: an adult and two children
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    assert tables == {"tanf__ads_e2j_ftp1_ts06", "tanf__ads_e2j_ftp1_ts142"}


def test_files_that_are_not_reports_are_named_not_read(tmp_path: Path) -> None:
    section2 = b"HEADER20204C06   TAN1ED\nTRAILER0000000         \n"  # closed cases
    con, summaries = _ingest(tmp_path, {"ADS.E2J.FTP1.TS142": TDRS_NAMED,
                                        "ADS.E2J.FTP2.TS06": section2,
                                        "README.md": b"# what the state sent\n",
                                        "cases.csv": b"case,month\n1,202010\n"})
    for name in ("ADS.E2J.FTP2.TS06", "README.md", "cases.csv"):
        assert _counts(summaries[name]) == (0, 0, 0)
        [warning] = summaries[name].warnings
        assert name in warning and "not read" in warning and "not a TANF section 1" in warning
    assert _rejects(con) == []
    files = dict(con.execute("SELECT file, rows_read FROM staged.files").fetchall())
    assert {Path(f).name: n for f, n in files.items()} == {
        "ADS.E2J.FTP1.TS142": 3, "ADS.E2J.FTP2.TS06": 0, "README.md": 0, "cases.csv": 0}


def test_files_pattern_names_reports_of_any_name(tmp_path: Path, lines: list[str]) -> None:
    """`files:` reads what it names even without a HEADER (refused, each line with the
    reason), and replaces the default `*.txt`."""
    source = "system: tanf\nformat: tanf_section1\npath: tanf\nfiles: ['*.dat']\n"
    con, summaries = _ingest(tmp_path, {"q4.dat": _report(lines[1:]),  # its HEADER lost
                                        "closed.dat": b"HEADER20204C06   TAN1ED\nT4\n"
                                                      b"TRAILER0000001         \n",
                                        "notes.txt": b"not a report\n",
                                        "ADS.E2J.FTP1.TS142": TDRS_NAMED}, source)
    assert _counts(summaries["q4.dat"]) == (15, 0, 15)
    assert any("no HEADER" in w for w in summaries["q4.dat"].warnings)
    assert _counts(summaries["closed.dat"]) == (1, 0, 1)  # section 2: refused
    assert any("TYPE C" in w for w in summaries["closed.dat"].warnings)
    assert _counts(summaries["notes.txt"]) == (0, 0, 0)
    assert "*.dat" in summaries["notes.txt"].warnings[0]
    assert _counts(summaries["ADS.E2J.FTP1.TS142"]) == (3, 3, 0)


def test_lines_that_cannot_be_identified_are_rejected(tmp_path: Path) -> None:
    """TANF-app's error-test file (report month blank on its T1, T2, T3, a line of junk) no
    longer stops the ingest: each line is rejected with its reason, and the good report beside
    it is staged."""
    con, summaries = _ingest(tmp_path, {"small_bad_tanf_s1.txt": ERROR_TEST,
                                        "ADS.E2J.FTP1.TS06": FIXTURE})
    assert _counts(summaries["small_bad_tanf_s1.txt"]) == (4, 0, 4)
    assert _counts(summaries["ADS.E2J.FTP1.TS06"]) == (15, 15, 0)
    blank_month = "the report month (RPT_MONTH_YEAR) is blank: the line cannot be tied to a month"
    assert _rejects(con) == [
        ("small_bad_tanf_s1.txt", 2, "RPT_MONTH_YEAR", blank_month),
        ("small_bad_tanf_s1.txt", 3, "RPT_MONTH_YEAR", blank_month),
        ("small_bad_tanf_s1.txt", 4, "RPT_MONTH_YEAR", blank_month),
        ("small_bad_tanf_s1.txt", 5, "RecordType",
         "record type Th is not a section 1 record (T1, T2 or T3)"),
    ]
    assert con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0] == 11


def test_month_and_case_number_must_identify_the_line(tmp_path: Path, lines: list[str]) -> None:
    bad = list(lines)
    bad[1] = bad[1][:2] + "202013" + bad[1][8:]  # no 13th month
    bad[2] = bad[2][:8] + " " * 11 + bad[2][19:]  # blank case number
    bad[3] = bad[3][:19] + " " * 82  # a T3 line without a child
    con, summaries = _ingest(tmp_path, {"q.txt": _report(bad)})
    assert _counts(summaries["q.txt"]) == (15, 12, 3)
    rejects = _rejects(con)
    assert [(line, field) for _, line, field, _ in rejects] == [
        (2, "RPT_MONTH_YEAR"), (3, "CASE_NUMBER"), (4, None)]
    assert "not a year and month" in rejects[0][3] and "case number" in rejects[1][3]
    assert "no child" in rejects[2][3]
    for _, _, _, reason in rejects:  # reasons carry no value of the line
        assert "202013" not in reason and "11111111112" not in reason


def _corrected(lines: list[str]) -> list[str]:
    """The fixture as a state might send it again: the first adult's birth date corrected,
    the last family dropped."""
    fixed = list(lines[:13]) + [lines[-1]]
    fixed[2] = fixed[2][:21] + "19740115" + fixed[2][29:]
    return fixed


def test_a_quarter_delivered_twice_keeps_the_newer_file(tmp_path: Path,
                                                         lines: list[str]) -> None:
    """The newer delivery (modified later; its name sorts first) replaces the older whole: the
    family it dropped goes too. The older file's lines are rejected naming both files."""
    con, summaries = _ingest(tmp_path, {"a_resent.txt": _report(_corrected(lines)),
                                        "b_first.txt": FIXTURE},
                             modified={"b_first.txt": 1_700_000_000,
                                       "a_resent.txt": 1_700_086_400})
    assert _counts(summaries["a_resent.txt"]) == (12, 12, 0)
    assert _counts(summaries["b_first.txt"]) == (15, 0, 15)
    rejects = _rejects(con)
    assert {(file, field) for file, _, field, _ in rejects} == {("b_first.txt", None)}
    for _, _, _, reason in rejects:
        assert "superseded by" in reason and "a_resent.txt" in reason
        assert "modified later" in reason
    assert any("a_resent.txt" in w and "superseded" in w
               for w in summaries["b_first.txt"].warnings)
    assert any("b_first.txt" in w and "replaces" in w
               for w in summaries["a_resent.txt"].warnings)
    people = con.execute("SELECT count(*), count(DISTINCT record_id), "
                         "min(dob) FILTER (source_id LIKE '202010-11111111112-A-%') "
                         "FROM staged.person_records").fetchall()[0]
    assert people[0] == people[1] == 8 and str(people[2]) == "1974-01-15"


def test_deliveries_modified_at_once_go_by_name(tmp_path: Path, lines: list[str]) -> None:
    con, summaries = _ingest(tmp_path, {"q_1.txt": FIXTURE,
                                        "q_2.txt": _report(_corrected(lines))},
                             modified={"q_1.txt": 1_700_000_000, "q_2.txt": 1_700_000_000})
    assert _counts(summaries["q_2.txt"]) == (12, 12, 0)
    assert _counts(summaries["q_1.txt"]) == (15, 0, 15)
    assert "later by name" in _rejects(con)[0][3]


@pytest.mark.parametrize("header", [
    "HEADER20204A06   TAN1EU",  # the same quarter again, adding and updating only
    "HEADER20211A06   TAN1ED",  # another quarter's report that repeats a family and month
])
def test_families_delivered_again_replace_only_themselves(tmp_path: Path, lines: list[str],
                                                          header: str) -> None:
    update = [header] + _corrected(lines)[1:4] + ["TRAILER0000003         "]
    con, summaries = _ingest(tmp_path, {"q.txt": FIXTURE, "update.txt": _report(update)},
                             modified={"q.txt": 1_700_000_000, "update.txt": 1_700_086_400})
    assert _counts(summaries["update.txt"]) == (3, 3, 0)
    assert _counts(summaries["q.txt"]) == (15, 12, 3)
    rejects = _rejects(con)
    assert [(file, line) for file, line, _, _ in rejects] == [("q.txt", 2), ("q.txt", 3),
                                                              ("q.txt", 4)]
    assert all("update.txt" in r and "same family and month" in r for *_, r in rejects)
    assert any("3 lines superseded" in w for w in summaries["q.txt"].warnings)
    dob = con.execute("SELECT dob FROM staged.person_records "
                      "WHERE source_id LIKE '202010-11111111112-A-%'").fetchall()
    assert [str(d) for (d,) in dob] == ["1974-01-15"]
    assert con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0] == 11


def test_one_files_trouble_never_stops_the_ingest(tmp_path: Path, lines: list[str]) -> None:
    """Everything at once: a TDRS-named report, its resubmission, TANF-app's error-test file,
    a file cut short, and a stray file; every file balances and the good lines are staged."""
    con, summaries = _ingest(tmp_path, {
        "ADS.E2J.FTP1.TS06": FIXTURE, "ADS.E2J.FTP1.TS06.resent": _report(_corrected(lines)),
        "small_bad_tanf_s1.txt": ERROR_TEST, "cut.txt": _report(lines[:7]),
        "ADS.E2J.FTP1.TS142": TDRS_NAMED, "Thumbs.db": b"\x00\x01binary"},
        # the error-test file reports the same state and quarter: delivered first here, or
        # its empty delivery would replace the quarter
        modified={"small_bad_tanf_s1.txt": 1_600_000_000, "ADS.E2J.FTP1.TS06": 1_700_000_000,
                  "ADS.E2J.FTP1.TS06.resent": 1_700_086_400})
    assert {name: _counts(s) for name, s in summaries.items()} == {
        "ADS.E2J.FTP1.TS06": (15, 0, 15), "ADS.E2J.FTP1.TS06.resent": (12, 12, 0),
        "small_bad_tanf_s1.txt": (4, 0, 4), "cut.txt": (6, 0, 6),
        "ADS.E2J.FTP1.TS142": (3, 3, 0), "Thumbs.db": (0, 0, 0)}
    assert con.execute("SELECT count(*) - count(DISTINCT record_id), count(*) "
                       "FROM staged.person_records").fetchall()[0] == (0, 8 + 3)
