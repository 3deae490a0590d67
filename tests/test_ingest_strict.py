"""Ingest's own verdict (issue 14): a file that cannot be published fails the ingest, after
everything readable is in, with a message naming the source, the file, what is wrong and how
to fix it; a run never goes on to link it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import CONFIGS

from linkage.cli import cli
from linkage.config import ConfigError
from linkage.ingest.run import IngestFailed, ingest
from linkage.sources import load_sources
from linkage.warehouse import connect


def _extracts(small: Path, tmp_path: Path, *systems: str) -> Path:
    """A copy of the small population's extracts of `systems`."""
    data = tmp_path / "extracts"
    for system in systems:
        shutil.copytree(small / "extracts" / system, data / system)
    return data


def _drop_columns(path: Path, *columns: str) -> None:
    """Rewrite a CSV file without `columns` (a county's export that leaves them out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name not in columns]
    path.write_text("".join(",".join(line.split(",")[i] for i in keep) + "\n"
                            for line in lines), encoding="utf-8")


def _configs(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """A copy of the shipped source configs, cw.yaml's text edited by `edit` (old, new)."""
    folder = tmp_path / "sources"
    shutil.copytree(CONFIGS / "sources", folder)
    if edit:
        cw = folder / "cw.yaml"
        text = cw.read_text()
        assert edit[0] in text
        cw.write_text(text.replace(edit[0], edit[1]))
    return folder


def test_a_mapped_column_missing_from_a_file_fails_the_ingest(small: Path,
                                                              tmp_path: Path) -> None:
    data = _extracts(small, tmp_path, "cw", "cs")
    _drop_columns(data / "cw" / "persons.csv", "birth_date", "ssn")
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(IngestFailed) as failed:
        ingest(con, data, _configs(tmp_path), only=["cw", "cs"])
    message = str(failed.value)
    assert "source cw:" in message and "persons.csv has no column birth_date, ssn" in message
    assert "`optional_columns` under `tables.persons`" in message and "cw.yaml" in message
    assert [f.file for f in failed.value.summary if f.errors] == [
        str(data / "cw" / "persons.csv")]
    # what could be read is in, for the analyst to look at: CS whole, CW's rows staged
    staged = dict(con.execute("SELECT source, count(*) FROM staged.person_records GROUP BY 1"
                              ).fetchall())
    assert staged["cs"] > 0 and staged["cw"] > 0


def test_a_column_marked_optional_may_be_missing(small: Path, tmp_path: Path) -> None:
    data = _extracts(small, tmp_path, "cw")
    _drop_columns(data / "cw" / "persons.csv", "middle_name", "name_suffix")
    con = connect(tmp_path / "w.duckdb")
    summaries = ingest(con, data, _configs(tmp_path), only=["cw"])  # shipped: both optional
    warned = [w for s in summaries for w in s.warnings if "optional column" in w]
    assert len(warned) == 2 and not [e for s in summaries for e in s.errors]


def test_the_command_fails_naming_the_fix_and_claims_no_success(small: Path,
                                                                tmp_path: Path) -> None:
    data = _extracts(small, tmp_path, "cw")
    _drop_columns(data / "cw" / "persons.csv", "birth_date")
    result = CliRunner().invoke(cli, ["ingest", "--data", str(data), "--db",
                                      str(tmp_path / "w.duckdb"), "--config",
                                      str(_configs(tmp_path)), "--only", "cw"])
    assert result.exit_code == 1
    assert "has no column birth_date" in result.output and "optional_columns" in result.output
    assert "every file balances" not in result.output
    assert "persons.csv" in result.output  # the table of what was loaded is still shown


def test_a_semicolon_file_is_rejected_and_fails_the_ingest(small: Path, tmp_path: Path) -> None:
    data = _extracts(small, tmp_path, "cw")
    persons = data / "cw" / "persons.csv"
    persons.write_text(persons.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(IngestFailed) as failed:
        ingest(con, data, _configs(tmp_path), only=["cw"])
    message = str(failed.value)
    assert "persons.csv: its header has 1 column; it looks ';'-delimited, the config reads ','" \
        in message
    rows = len(persons.read_text(encoding="utf-8").splitlines()) - 1
    assert f"{rows:,} of {rows:,} rows rejected" in message
    [file] = [f for f in failed.value.summary if f.file == str(persons)]
    assert file.staged == 0 and file.rejected == file.read == rows  # never guessed


@pytest.mark.parametrize("edit, says", [
    (("optional_columns: [middle_name, name_suffix]", "optional_columns: [middle_nam]"),
     "tables.persons.optional_columns: middle_nam not mapped from this table"),
    (("optional_columns: [middle_name, name_suffix]", "optional_columns: [person_id]"),
     "tables.persons.optional_columns: person_id not mapped from this table"),
    (("  cases: {file: cases.csv, key: [case_id], required: [case_id]}",
      "  cases: {file: cases.csv, key: [case_id], required: [case_id, open_date],\n"
      "          optional_columns: [open_date]}"),
     "tables.cases.optional_columns: open_date also required"),
])
def test_optional_columns_are_checked_on_load(tmp_path: Path, edit: tuple[str, str],
                                              says: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_sources(_configs(tmp_path, edit))
    assert "cw.yaml" in str(error.value) and says in str(error.value)
