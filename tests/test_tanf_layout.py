"""Check the ACF-199 section 1 layouts against a real TANF-app sample file.

The fixture is HHS/TANF-app's ``small_tanf_section1.txt``; every value asserted below was read
off that file with the positions of TANF-app's schema definitions.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import FIXTURES

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
    parse_record,
    parse_t3_children,
    t3_child_fields,
)

FIXTURE = FIXTURES / "tanf" / "small_tanf_section1.txt"

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
