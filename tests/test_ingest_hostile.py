"""A hostile corpus: every kind of broken extract gives a clear message or a reject row,
nothing crashes, and for every file rows read = rows staged + rows rejected."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from linkage.config import ConfigError
from linkage.ingest.run import ingest
from linkage.warehouse import connect

CONFIG = """\
system: county
format: csv
path: people
date_formats: ["%Y-%m-%d"]
tables:
  people: {file: people.csv, key: [id], required: [id]}
person: {table: people, source_id: id, first_name: first, last_name: last, dob: dob,
         ssn: ssn, sex: sex, sex_codes: {F: F, M: M}}
"""
HEADER = b"id,first,last,dob,ssn,sex\n"
ROWS = [b"1,ANA,DIAZ,1990-01-02,212-45-6789,F\n", b"2,BO,LEE,1985-05-06,312456789,M\n",
        b"3,CY,ROE,2001-12-31,,M\n"]


def _ingest(tmp_path: Path, content: bytes):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.yaml").write_text(CONFIG)
    (tmp_path / "data" / "people").mkdir(parents=True)
    (tmp_path / "data" / "people" / "people.csv").write_bytes(content)
    con = connect(tmp_path / "h.duckdb")
    [summary] = ingest(con, tmp_path / "data", tmp_path / "sources")
    assert summary.read == summary.staged + summary.rejected  # counts always balance
    rejects = con.execute("SELECT line, field, reason FROM staged.rejects ORDER BY line"
                          ).fetchall()
    people = {r[0]: r[1:] for r in con.execute(
        "SELECT source_id, first_name, last_name, dob, ssn, ssn_flag, dob_flag, "
        "first_name_raw FROM staged.person_records").fetchall()}
    # people[id] = (first, last, dob, ssn, ssn_flag, dob_flag, first_name_raw)
    return summary, rejects, people


def test_clean_file(tmp_path: Path) -> None:
    summary, rejects, people = _ingest(tmp_path, HEADER + b"".join(ROWS))
    assert (summary.read, summary.staged, summary.rejected) == (3, 3, 0)
    assert people["1"][:4] == ("ANA", "DIAZ", date(1990, 1, 2), "212456789")


def test_truncated_file(tmp_path: Path) -> None:
    summary, rejects, people = _ingest(tmp_path, HEADER + b"".join(ROWS) + b"4,JO")
    assert summary.rejected == 1 and rejects[0][0] == 5
    assert "fewer fields" in rejects[0][2] and set(people) == {"1", "2", "3"}


def test_missing_required_column(tmp_path: Path) -> None:
    body = b"".join(r.split(b",", 1)[1] for r in ROWS)
    summary, rejects, _ = _ingest(tmp_path, b"first,last,dob,ssn,sex\n" + body)
    assert summary.staged == 0 and summary.rejected == 3
    assert "no column id" in rejects[0][2] and rejects[0][1] == "id"


def test_extra_columns_and_a_row_with_too_many_fields(tmp_path: Path) -> None:
    content = (b"id,first,last,dob,ssn,sex,note\n" + b"".join(r[:-1] + b",x\n" for r in ROWS)
               + b"4,DE,FOX,1970-01-01,,F,y,surplus\n")
    summary, rejects, people = _ingest(tmp_path, content)
    assert summary.staged == 3 and rejects == [(5, None, rejects[0][2])]
    assert "more fields" in rejects[0][2]


def test_wrong_delimiter(tmp_path: Path) -> None:
    content = (HEADER + b"".join(ROWS)).replace(b",", b";")
    summary, rejects, _ = _ingest(tmp_path, content)
    assert summary.staged == 0 and summary.rejected == 3
    assert "delimiter" in rejects[0][2]


def test_bad_dates_and_letters_in_ssns_are_flagged_not_lost(tmp_path: Path) -> None:
    content = HEADER + b"1,ANA,DIAZ,31/02/1990,12A-45-6789,F\n2,BO,LEE,not a date,000000000,M\n"
    summary, rejects, people = _ingest(tmp_path, content)
    assert summary.staged == 2 and not rejects
    assert people["1"][2] is None and people["1"][4] == "invalid" and people["1"][3] is None
    assert people["2"][4] == "placeholder" and people["2"][5] == "invalid"


def test_duplicate_primary_keys(tmp_path: Path) -> None:
    summary, rejects, people = _ingest(tmp_path, HEADER + b"".join(ROWS) + ROWS[1])
    assert summary.rejected == 1 and rejects[0][0] == 5 and rejects[0][1] == "id"
    assert "first seen at line 3" in rejects[0][2]


def test_huge_name_and_nul_bytes(tmp_path: Path) -> None:
    content = HEADER + b"1," + b"A" * 10_000 + b",DIAZ,1990-01-02,,F\n2,B\x00O,LEE,,,M\n"
    summary, rejects, people = _ingest(tmp_path, content)
    assert summary.staged == 2 and not rejects
    assert len(people["1"][0]) == 10_000 and people["2"][0] == "BO"
    assert any("NUL" in w for w in summary.warnings)


def test_nul_bytes_are_removed_from_every_value_before_any_check(tmp_path: Path) -> None:
    """An id, an SSN or a date with NUL bytes in it is the value without them; a required
    field holding nothing but NULs and blanks is empty."""
    content = (HEADER + b"4\x00,B\x00O,LEE,1985-05-06\x00,312\x00456789,M\x00\n"
               + b"\x00 \x00,CY,ROE,,,M\n")
    summary, rejects, people = _ingest(tmp_path, content)
    assert summary.staged == 1 and [r[:2] for r in rejects] == [(3, "id")]
    assert "is empty" in rejects[0][2]
    first, _, dob, ssn, *_, first_raw = people["4"]
    assert (first, dob, ssn, first_raw) == ("BO", date(1985, 5, 6), "312456789", "BO")


def test_mixed_encodings_reject_the_foreign_line(tmp_path: Path) -> None:
    content = HEADER + "1,JOSÉ,DIAZ,,,M\n".encode() + b"2,JOS\xc9,PEREZ,,,M\n"
    summary, rejects, people = _ingest(tmp_path, content)
    assert summary.staged == 1 and rejects[0][0] == 3 and "UTF-8" in rejects[0][2]
    assert people["1"][0] == "JOSE" and people["1"][6] == "JOSÉ"


def test_latin1_file_is_read_as_latin1(tmp_path: Path) -> None:
    summary, _, people = _ingest(tmp_path, HEADER + b"1,JOS\xc9,PE\xd1A,,,M\n")
    assert summary.staged == 1 and people["1"][:2] == ("JOSE", "PENA")
    assert any("Latin-1" in w for w in summary.warnings)


def test_bom_crlf_quoted_newline_and_trailing_blank_lines(tmp_path: Path) -> None:
    content = (b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n")
               + b'1,"ANA\r\nMARIA",DIAZ,1990-01-02,,F\r\n2,"",LEE,,,M\r\n\r\n\r\n')
    summary, rejects, people = _ingest(tmp_path, content)
    assert (summary.staged, summary.rejected) == (2, 0)
    assert people["1"][0] == "ANA MARIA" and people["2"][0] is None


def test_excel_mangled_values(tmp_path: Path) -> None:
    content = HEADER + b"00042,ANA,DIAZ,32874,12345678,F\n"
    summary, _, people = _ingest(tmp_path, content)
    assert "00042" in people  # leading zeros kept in ids
    assert str(people["00042"][2]) == "1990-01-01" and people["00042"][3] == "012345678"


def test_empty_file(tmp_path: Path) -> None:
    summary, rejects, _ = _ingest(tmp_path, b"")
    assert summary.read == summary.staged == 0
    assert any("empty" in r[2] for r in rejects)


def test_config_errors_name_file_key_and_value(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    bad = tmp_path / "sources" / "people.yaml"
    bad.write_text(CONFIG.replace("format: csv", "format: xls"))
    with pytest.raises(ConfigError) as err:
        ingest(connect(tmp_path / "c.duckdb"), tmp_path, tmp_path / "sources")
    assert str(bad) in str(err.value) and "format" in str(err.value) and "xls" in str(err.value)


def _ingest_parquet(tmp_path: Path, select: str):
    """Ingest the rows of `select` (columns id, first, last, dob, ssn, sex) as a Parquet
    person list: (its summary, the warehouse)."""
    import duckdb

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.yaml").write_text(
        CONFIG.replace("format: csv", "format: parquet").replace("people.csv", "people.parquet"))
    (tmp_path / "data" / "people").mkdir(parents=True)
    duckdb.sql(select).write_parquet(str(tmp_path / "data" / "people" / "people.parquet"))
    con = connect(tmp_path / "p.duckdb")
    [summary] = ingest(con, tmp_path / "data", tmp_path / "sources")
    return summary, con


def test_parquet_person_list_through_a_mapping(tmp_path: Path) -> None:
    summary, con = _ingest_parquet(
        tmp_path, "SELECT * FROM (VALUES ('007', 'Ana', 'Díaz', '1990-01-02', '212456789', 'F'), "
                  "('008', 'Bo', 'Lee', NULL, NULL, 'M'), ('007', 'Dup', 'Key', NULL, NULL, 'F')) "
                  "t(id, first, last, dob, ssn, sex)")
    assert (summary.read, summary.staged, summary.rejected) == (3, 2, 1)
    rows = con.execute("SELECT record_id, last_name, dob FROM staged.person_records "
                       "ORDER BY 1").fetchall()
    assert rows[0] == ("county:007", "DIAZ", date(1990, 1, 2)) and rows[1][0] == "county:008"
    # raw as for CSV: provenance in the table's definition, the id stored plain
    [raw] = con.execute("SELECT 'raw.' || table_name FROM duckdb_tables() "
                        "WHERE schema_name = 'raw'").fetchall()[0]
    assert con.execute(f"SELECT DISTINCT _file FROM {raw}").fetchall() == [(summary.file,)]
    assert {row[0] for row in con.execute(
        f"SELECT DISTINCT compression FROM pragma_storage_info('{raw}') "
        f"WHERE column_name = 'id' AND segment_type <> 'VALIDITY'").fetchall()} == {
        "Uncompressed"}


def test_parquet_values_lose_nul_characters_too(tmp_path: Path) -> None:
    """A Parquet file's bytes cannot tell whether its strings hold NULs: they are removed."""
    summary, con = _ingest_parquet(
        tmp_path, "SELECT '7' || chr(0) AS id, 'B' || chr(0) || 'O' AS first, 'LEE' AS last, "
                  "'1985-05-06' || chr(0) AS dob, NULL AS ssn, 'M' AS sex")
    assert (summary.read, summary.staged) == (1, 1) and not summary.warnings
    assert con.execute("SELECT record_id, first_name_raw, dob FROM staged.person_records"
                       ).fetchall() == [("county:7", "BO", date(1985, 5, 6))]


@pytest.mark.parametrize("bad", [set(), {1_000, 150_000, 299_999}])  # a field too many
def test_line_numbers_hold_across_row_groups_threads_and_rejects(tmp_path: Path,
                                                                  bad: set[int]) -> None:
    """Raw rows are numbered as DuckDB reads them, in parallel and in row groups of 122,880;
    every row keeps its own line, also after lines DuckDB rejected, and a reject names its
    line."""
    import duckdb

    from linkage.ingest.reading import inspect, load_csv

    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("line,name\n")
        for line in range(2, 300_002):
            fh.write(f"{line},x,extra\n" if line in bad else f"{line},person {line}\n")
    con = duckdb.connect()
    con.execute("SET threads = 2; CREATE SCHEMA raw")
    rejects = load_csv(con, inspect(path), "big")
    assert sorted(r.line for r in rejects) == sorted(bad)
    wrong = con.execute("SELECT count(*) FROM raw.big WHERE _line <> line::BIGINT "
                        "OR name <> 'person ' || line").fetchall()[0][0]
    assert wrong == 0
    assert con.execute("SELECT count(*) FROM raw.big").fetchall()[0][0] == 300_000 - len(bad)


def test_phone_numbers_keep_their_digits(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.yaml").write_text(
        CONFIG.replace("sex_codes: {F: F, M: M}}", "sex_codes: {F: F, M: M}, phone: phone}"))
    (tmp_path / "data" / "people").mkdir(parents=True)
    (tmp_path / "data" / "people" / "people.csv").write_bytes(
        b"id,first,last,dob,ssn,sex,phone\n1,ANA,DIAZ,1990-01-02,,F,(555) 123-4567\n"
        b"2,BO,LEE,1985-05-06,,M,n/a\n")
    con = connect(tmp_path / "h.duckdb")
    ingest(con, tmp_path / "data", tmp_path / "sources")
    assert con.execute("SELECT source_id, phone FROM staged.person_records ORDER BY 1"
                       ).fetchall() == [("1", "5551234567"), ("2", None)]


@pytest.mark.parametrize("content, lines", [
    (b"", []),
    (b"\n", [""]),
    (b"\r\n", [""]),
    (b"A", ["A"]),
    (b"A\n", ["A"]),
    (b"A\r\nB\r\n", ["A", "B"]),
    (b"A\rB", ["A", "B"]),
    (b"A\n\nB\n\n", ["A", "", "B", ""]),
    (b"A\x00B\n", ["AB"]),
])
def test_fixed_width_lines_are_numbered_as_in_the_file(tmp_path: Path, content: bytes,
                                                       lines: list[str]) -> None:
    """A TANF report is read line by line: every physical line (blank ones too) keeps its
    number, whatever the line ends, and NUL bytes are dropped."""
    from linkage.ingest.reading import inspect, load_lines
    path = tmp_path / "report.txt"
    path.write_bytes(content)
    con = connect(tmp_path / "w.duckdb")
    assert load_lines(con, inspect(path), "report") == len(lines)
    assert con.execute("SELECT _line, text FROM raw.report ORDER BY _line").fetchall() == \
        list(enumerate(lines, start=1))
