"""`staged.quality` (issue 13, item 5): per file and column, the values that were there but did
not survive mapping and standardization, with counts, example lines and masked shapes; never
a value itself."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from linkage.ingest.quality import quality_table
from linkage.ingest.run import ingest
from linkage.warehouse import connect

CONFIG = """\
system: county
format: csv
path: county
date_formats: ["%Y-%m-%d"]
tables:
  people: {file: people.csv, key: [id], required: [id]}
  links: {file: links.csv, key: [link_id], required: [link_id, id]}
person: {table: people, source_id: id, first_name: given, last_name: family, dob: born,
         ssn: soc_sec, sex: gender, sex_codes: {F: F, M: M}, zip: postal, state: st,
         seen: entered}
memberships:
  - {table: links, record: id, group: case_id, group_type: case, role: role,
     roles: {CHILD: child, MOTHER: mother}, start: began, end: ended}
events:
  - {table: links, event_type: case_start, record: id, group: case_id, start: began}
"""
PEOPLE = (
    "id,given,family,born,soc_sec,gender,postal,st,entered\n"
    "1,ANA,DIAZ,1990-01-02,212456789,F,02134,MA,2020-01-01\n"
    "2,BO,LEE,08-MAY-67,123456789,M,02134,New York,2020-01-01\n"  # unreadable DOB, sample SSN
    "3,CY,ROE,1900-01-01,,X,02134-1234,NY,2020-02-30\n"  # placeholder DOB, sex X, no 30 Feb
    "4,???,FOX,1970-01-01,12A456789,F,ABCDE,NY,2020-01-01\n"  # no letter, bad SSN, bad ZIP
    "5,ED,FOX,08-JUN-71,,F,,,\n"  # a second unreadable DOB of the same shape
)
LINKS = (
    "link_id,id,case_id,role,began,ended\n"
    "1,1,C1,CHILD,2020-01-01,\n"
    "2,2,C1,GRANDMA,2020-13-45,31/12/2020\n"
    "3,3,C2,MOTHER,2021-05-05,2022-01-01\n"
)
# every value above that is lost: none may show anywhere in staged.quality or its table (a
# shape keeps punctuation, the format, so "???" is its own shape: it tells of no one)
LOST = ("08-MAY-67", "08-JUN-71", "1900-01-01", "123456789", "12A456789", "New York",
        "ABCDE", "GRANDMA", "2020-13-45", "31/12/2020", "2020-02-30")


def _ingest(tmp_path: Path, people: str = PEOPLE, links: str = LINKS):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "county.yaml").write_text(CONFIG)
    (tmp_path / "data" / "county").mkdir(parents=True)
    (tmp_path / "data" / "county" / "people.csv").write_text(people)
    (tmp_path / "data" / "county" / "links.csv").write_text(links)
    con = connect(tmp_path / "q.duckdb")
    ingest(con, tmp_path / "data", tmp_path / "sources")
    return con


def _quality(con) -> dict[tuple[str, str, str], tuple]:  # noqa: ANN001 - a DuckDB connection
    """(file name, field, first word of the problem) -> (target, n, lines, shapes)."""
    rows = con.execute("SELECT file, field, problem, target, n_values, example_lines, "
                       "example_shapes FROM staged.quality").fetchall()
    return {(Path(f).name, field, problem.split(" (")[0]): (target, n, lines, shapes)
            for f, field, problem, target, n, lines, shapes in rows}


def test_lost_values_are_counted_per_file_and_column_with_lines(tmp_path: Path) -> None:
    quality = _quality(_ingest(tmp_path))
    assert quality[("people.csv", "born", "unreadable date")] == (
        "person_records.dob", 2, [3, 6], ["99-AAA-99"])
    assert quality[("people.csv", "born", "placeholder or impossible date")][1:3] == (1, [4])
    assert quality[("people.csv", "soc_sec", "placeholder SSN")][1:3] == (
        1, [3])
    assert quality[("people.csv", "soc_sec", "not an SSN")][1:] == (1, [5], ["99A999999"])
    assert quality[("people.csv", "gender", "unknown code")][:3] == (
        "person_records.sex", 1, [4])
    assert quality[("people.csv", "postal", "not a ZIP code")][1:] == (1, [5], ["AAAAA"])
    assert quality[("people.csv", "st", "not a two-letter state")][1:3] == (1, [3])
    assert quality[("people.csv", "entered", "unreadable date")][1:3] == (1, [4])
    assert quality[("people.csv", "given", "no letter in the name")][1:3] == (1, [5])
    assert quality[("links.csv", "role", "unknown code")][:3] == (
        "memberships (case)", 1, [3])
    assert quality[("links.csv", "ended", "unreadable date")][1:] == (1, [3], ["99/99/9999"])
    # and `began` (below); a ZIP+4, an empty value and a clean row lose nothing
    assert len(quality) == 12


def test_a_column_feeding_two_tables_is_one_entry(tmp_path: Path) -> None:
    """`began` is a membership's start and an event's: its lost value is counted once, under
    both targets."""
    target, n, lines, _ = _quality(_ingest(tmp_path))[("links.csv", "began", "unreadable date")]
    assert (target, n, lines) == ("events (case_start), memberships (case)", 1, [3])


def test_no_value_is_ever_shown(tmp_path: Path) -> None:
    con = _ingest(tmp_path)
    cells = " ".join(str(cell) for row in con.execute("SELECT * FROM staged.quality"
                                                      ).fetchall() for cell in row)
    assert not [value for value in LOST if value in cells]
    printed = _render(quality_table(con, limit=50))
    assert "born" in printed and not [value for value in LOST if value in printed]


def test_a_clean_extract_loses_nothing(tmp_path: Path) -> None:
    people = PEOPLE.splitlines()[0] + "\n" + PEOPLE.splitlines()[1] + "\n"
    links = "\n".join(LINKS.splitlines()[:2]) + "\n"
    con = _ingest(tmp_path, people, links)
    assert con.execute("SELECT count(*) FROM staged.quality").fetchall()[0][0] == 0
    assert quality_table(con) is None


def test_the_ingest_command_prints_the_top_entries(tmp_path: Path) -> None:
    from linkage.cli import cli

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "county.yaml").write_text(CONFIG)
    (tmp_path / "data" / "county").mkdir(parents=True)
    (tmp_path / "data" / "county" / "people.csv").write_text(PEOPLE)
    (tmp_path / "data" / "county" / "links.csv").write_text(LINKS)
    result = CliRunner().invoke(cli, ["ingest", "--data", str(tmp_path / "data"), "--db",
                                      str(tmp_path / "c.duckdb"), "--config",
                                      str(tmp_path / "sources")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "values lost in mapping and standardization" in result.output
    assert "staged.quality" in result.output and "99-AAA-99" in result.output
    assert not [value for value in LOST if value in result.output]


def _render(table) -> str:  # noqa: ANN001 - a rich Table
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()
