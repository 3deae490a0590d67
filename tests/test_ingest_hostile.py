"""A hostile corpus: every kind of broken extract gives a clear message or a reject row,
nothing crashes, and for every file rows read = rows staged + rows rejected."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import random
import zipfile
from datetime import date
from pathlib import Path

import pytest

from linkage.config import ConfigError
from linkage.ingest.run import IngestFailed, IngestSummary, ingest
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
    [summary] = _loaded(con, tmp_path / "data", tmp_path / "sources")
    assert summary.read == summary.staged + summary.rejected  # counts always balance
    rejects = con.execute("SELECT line, field, reason FROM staged.rejects ORDER BY line"
                          ).fetchall()
    people = {r[0]: r[1:] for r in con.execute(
        "SELECT source_id, first_name, last_name, dob, ssn, ssn_flag, dob_flag, "
        "first_name_raw FROM staged.person_records").fetchall()}
    # people[id] = (first, last, dob, ssn, ssn_flag, dob_flag, first_name_raw)
    return summary, rejects, people


def _loaded(con, data: Path, sources: Path) -> IngestSummary:  # noqa: ANN001 - DuckDB
    """What the ingest loaded, whether or not it can be published: a file staging nothing
    fails the ingest (`IngestFailed`) after everything readable is in; its reasons are in
    each file's `errors`."""
    try:
        return ingest(con, data, sources)
    except IngestFailed as failed:
        return failed.summary


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
    [error] = summary.errors
    assert "its header has no column id (3 of 3 rows rejected" in error


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
    assert "no column id" in rejects[0][2]
    [error] = summary.errors  # what happened, said once for the file; the run fails
    assert ("its header has 1 column; it looks ';'-delimited, the config reads ','" in error
            and "3 of 3 rows rejected" in error)


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
    assert summary.errors == [f"{summary.file}: refused as a whole: the file is empty: no "
                              f"header line"]


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


# --- files no CSV reader takes as they are (issue 13, item 2) ----------------------------------
# Each is rejected (the whole file, or each line that cannot be read) with its reason in
# staged.rejects, and every other file and source still loads: a second, clean source `kids`
# is ingested beside `people` in each of these tests.

KIDS = CONFIG.replace("system: county", "system: kids").replace("path: people", "path: kids")
CLEAN = HEADER + b"".join(ROWS)


def _beside_a_clean_source(tmp_path: Path, files: dict[str, bytes]):
    """Ingest `files` as the folder of source `people` and a clean source `kids` beside it:
    (people's summaries, the warehouse). Every file must balance, and kids load whole."""
    import duckdb

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.yaml").write_text(CONFIG)
    (tmp_path / "sources" / "kids.yaml").write_text(KIDS)
    for name, content in files.items():
        (tmp_path / "data" / "people" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "people" / name).write_bytes(content)
    (tmp_path / "data" / "kids").mkdir(parents=True)
    (tmp_path / "data" / "kids" / "people.csv").write_bytes(CLEAN)
    con = connect(tmp_path / "h.duckdb")
    summaries = _loaded(con, tmp_path / "data", tmp_path / "sources")
    for s in summaries:
        assert s.read == s.staged + s.rejected
    assert con.execute("SELECT count(*) FROM staged.person_records WHERE source = 'kids'"
                       ).fetchall()[0][0] == 3
    assert isinstance(con, duckdb.DuckDBPyConnection)
    return [s for s in summaries if s.source == "people"], con


def _rejects(con) -> list[tuple]:  # noqa: ANN001 - a DuckDB connection
    return con.execute("SELECT file, line, field, reason, text FROM staged.rejects "
                       "WHERE source = 'people' ORDER BY line").fetchall()


def test_random_bytes_are_rejected_as_a_file_not_a_traceback(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(2 * 2**20)
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": noise})
    [(file, line, field, reason, text)] = _rejects(con)
    assert file.endswith("people.csv") and line is None and field is None and text is None
    assert reason.startswith("not a text file")
    assert (summary.read, summary.staged) == (0, 0)
    assert summary.errors == [f"{file}: refused as a whole: {reason}"]
    # no warning about its encoding or NUL bytes: what its bytes look like no longer matters
    assert not [w for w in summary.warnings if "UTF-8" in w or "NUL" in w]


@pytest.mark.parametrize("name, pack", [
    ("people.csv.gz", gzip.compress),
    ("people.csv", gzip.compress),  # a gzip stream named as the CSV file itself
    ("people.csv.bz2", bz2.compress),
    ("people.csv.xz", lzma.compress),
    ("export.zip", lambda data: _zip({"extract/people.csv": data, "README.txt": b"hi"})),
    ("people.csv", lambda data: _zip({"persons_2024.csv": data})),  # its one member
])
def test_compressed_extracts_are_read(tmp_path: Path, name: str, pack) -> None:  # noqa: ANN001
    [summary], con = _beside_a_clean_source(tmp_path, {name: pack(CLEAN)})
    assert (summary.read, summary.staged, summary.rejected) == (3, 3, 0)
    delivered = tmp_path / "data" / "people" / name
    assert summary.file.startswith(str(delivered))
    assert con.execute("SELECT first_name FROM staged.person_records WHERE source = 'people' "
                       "ORDER BY source_line").fetchall() == [("ANA",), ("BO",), ("CY",)]
    [sha] = con.execute("SELECT sha256 FROM staged.files WHERE source = 'people'").fetchall()[0]
    if name.endswith((".gz", ".bz2", ".xz")):  # the hash of the delivered file, to check it by
        assert sha == hashlib.sha256(delivered.read_bytes()).hexdigest()
    if name == "export.zip":
        assert summary.file == f"{delivered}!extract/people.csv"
    if name == "people.csv":
        assert any("its name does not say so" in w for w in summary.warnings)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("content, why", [
    (_zip({"report.pdf": b"%PDF-1.4", "notes.txt": b"x"}), "no file named like people.csv"),
    (_zip({"xl/workbook.xml": b"<x/>", "[Content_Types].xml": b"<x/>"}), "Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003"),
    (gzip.compress(CLEAN)[:12] + b"\xff" * 40, "corrupt"),
    (b"PAR1" + bytes(100), "set `format: parquet`"),
])
def test_what_cannot_hold_the_table_is_rejected_with_its_reason(tmp_path: Path,
                                                                content: bytes, why: str) -> None:
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": content})
    [(_, line, _, reason, _)] = _rejects(con)
    assert line is None and why in reason and summary.staged == 0
    assert summary.errors and why in summary.errors[0]


def test_a_gzip_stream_cut_short_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    rows = b"".join(b"%d,DE,FOX,1970-01-01,,F\n" % n for n in range(4, 20_000))
    packed = gzip.compress(CLEAN + rows)
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv.gz": packed[:-100]})
    assert summary.staged > 15_000 and any("ends early" in w for w in summary.warnings)


def test_an_unterminated_quote_costs_its_own_line_only(tmp_path: Path) -> None:
    """DuckDB would read everything after the quote as one value; the lines after it are
    read on their own instead, and the one with the quote is rejected."""
    lines = [b"%d,ANA,DIAZ,1990-01-02,212456789,F\n" % n for n in range(2, 301)]
    lines[98] = b'100,"ANA,DIAZ,1990-01-02,212456789,F\n'  # line 100
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": HEADER + b"".join(lines)})
    [(_, line, _, reason, text)] = _rejects(con)
    assert line == 100 and "never closes" in reason and text is None
    assert (summary.read, summary.staged, summary.rejected) == (299, 298, 1)
    staged = con.execute("SELECT source_id, source_line FROM staged.person_records "
                         "WHERE source = 'people' AND source_line > 98 ORDER BY 2 LIMIT 3"
                         ).fetchall()
    assert staged == [("99", 99), ("101", 101), ("102", 102)]  # each on its own line


def test_a_line_over_the_readers_limit_is_rejected_without_its_value(tmp_path: Path) -> None:
    lines = [b"%d,ANA,DIAZ,1990-01-02,,F\n" % n for n in range(2, 21)]
    lines[8] = b"10,ANA," + b"Q" * (50 * 2**20) + b",1990-01-02,,F\n"  # line 10, 50 MB
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": HEADER + b"".join(lines)})
    [(_, line, _, reason, text)] = _rejects(con)
    assert line == 10 and "longer than the reader's limit" in reason and "QQ" not in reason
    assert text is None and (summary.staged, summary.rejected) == (18, 1)


def test_mixed_line_endings_are_read_as_line_ends(tmp_path: Path) -> None:
    """CRLF and LF (and a lone CR) in one file, as HMIS vendors' exports have them: every
    line is read, no value keeps a CR, and a quoted value keeps its own line break."""
    content = (HEADER.replace(b"\n", b"\r\n") + ROWS[0] + ROWS[1].replace(b"\n", b"\r\n")
               + b'3,"CY\r\nJO",ROE,2001-12-31,,M\r' + b"4,DE,FOX,1970-01-01,,F\n")
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": content})
    assert (summary.read, summary.staged, summary.rejected) == (4, 4, 0)
    assert con.execute("SELECT count(*) FROM staged.person_records WHERE source = 'people' "
                       "AND (sex IS NULL OR contains(last_name_raw, chr(13)))"
                       ).fetchall()[0][0] == 0
    assert con.execute("SELECT first FROM raw.people__people WHERE id = '3'"
                       ).fetchall() == [("CY\r\nJO",)]
    assert any("mixed" in w for w in summary.warnings)


def test_utf16_text_is_read(tmp_path: Path) -> None:
    content = "id,first,last,dob,ssn,sex\r\n1,JOSÉ,DIAZ,1990-01-02,,M\r\n".encode("utf-16")
    [summary], con = _beside_a_clean_source(tmp_path, {"people.csv": content})
    assert summary.staged == 1
    assert con.execute("SELECT first_name_raw FROM staged.person_records WHERE source = "
                       "'people'").fetchall() == [("JOSÉ",)]


@pytest.mark.parametrize("damage", [set(), {1_000, 150_000, 299_999}])
def test_the_careful_path_keeps_every_line_number(tmp_path: Path, damage: set[int]) -> None:
    """A file DuckDB cannot read as it is (here: its line ends change half-way) goes through
    the careful path; its rows and rejects keep the lines of the file, with quoted values
    across lines and lines DuckDB then rejects (a field too many) in between."""
    import duckdb

    from linkage.ingest.reading import inspect, load_csv

    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:
        fh.write(b"line,name\r\n")
        for line in range(2, 300_002):
            end = b"\r\n" if line < 150_000 else b"\n"
            if line in damage:
                fh.write(b"%d,x,extra%s" % (line, end))
            elif line % 1000 == 0:  # a quoted value across two lines counts as one line
                fh.write(b'%d,"person\n%d"%s' % (line, line, end))
            else:
                fh.write(b"%d,person %d%s" % (line, line, end))
    con = duckdb.connect()
    con.execute("SET threads = 2; CREATE SCHEMA raw")
    info = inspect(path)
    rejects = load_csv(con, info, "big")
    assert any("mixed" in w for w in info.warnings)
    assert sorted(r.line for r in rejects) == sorted(damage)
    assert all(r.text and r.text.startswith(f"{r.line},") for r in rejects)
    wrong = con.execute("SELECT count(*) FROM raw.big WHERE _line <> line::BIGINT OR "
                        "replace(name, chr(10), ' ') <> 'person ' || line").fetchall()[0][0]
    assert wrong == 0
    assert con.execute("SELECT count(*) FROM raw.big").fetchall()[0][0] == 300_000 - len(damage)


def test_an_hmis_export_with_mixed_line_endings_reads_as_the_clean_one(small: Path,
                                                                        tmp_path: Path) -> None:
    """HMIS vendors' exports mix CRLF and LF (hmis-warehouse corrects it): the generic reader
    reads such files to the same rows as the clean export, and says so."""
    import shutil

    from helpers import ROOT

    counts = {}
    for kind in ("clean", "mixed"):
        root = tmp_path / kind
        shutil.copytree(small / "extracts" / "hmis", root / "data" / "hmis")
        (root / "sources").mkdir()
        shutil.copy(ROOT / "configs" / "sources" / "hmis.yaml", root / "sources")
        if kind == "mixed":
            for name in ("Client.csv", "Enrollment.csv", "Exit.csv"):
                path = root / "data" / "hmis" / name
                lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
                path.write_bytes(b"".join(line + (b"\r\n" if n % 2 else b"\n")
                                          for n, line in enumerate(lines[:-1])))
        con = connect(root / "w.duckdb")
        summaries = ingest(con, root / "data", root / "sources")
        counts[kind] = con.execute(
            "SELECT (SELECT count(*) FROM staged.rejects), (SELECT list(record_id ORDER BY "
            "record_id) FROM staged.person_records), (SELECT count(*) FROM staged.events), "
            "(SELECT count(*) FROM staged.person_records WHERE contains(first_name_raw || "
            "last_name_raw, chr(13)))").fetchall()[0]
        warned = [w for s in summaries for w in s.warnings if "mixed" in w]
        assert len(warned) == (3 if kind == "mixed" else 0)
    assert counts["mixed"] == counts["clean"] and counts["clean"][0] == 0
