"""No record's values in any error, log or Prefect state (issue 14, item 7): a person's line of
17 MB, with planted values, and a participant naming a planted id no person has, go through
`famlink ingest` and the nightly flow; the run succeeds (the lines are rejected, named by file,
line, field and reason) and no planted value is in stdout, stderr, the work folder's reports
and logs, or anything under PREFECT_HOME (its SQLite database included)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from synthetic_data.generate import synthesize

FAMLINK = [sys.executable, "-c", "from flows.cli import main; main()"]
# obviously synthetic: no real person has these
PLANTED = {"first": "ZZPLANTFIRSTQX", "last": "ZZPLANTLASTQX", "dob": "1901-02-03",
           "ssn": "987654329", "street": "777 ZZPLANTSTREETQX", "city": "ZZPLANTCITYQX",
           "id": "ZZPLANTIDQX"}
WAREHOUSE_SUFFIXES = (".duckdb", ".duckdb.wal")  # raw.* keeps the extract as delivered


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    """300 synthetic persons' extracts, CW's persons.csv with a 17 MB line of planted values
    and its case_participants.csv with a line naming a planted person id."""
    out = tmp_path_factory.mktemp("planted")
    synthesize(300, 7, out)
    cw = out / "extracts" / "cw"
    persons = (cw / "persons.csv").read_bytes().split(b"\n")
    header = persons[0].decode().split(",")
    row = {name: "" for name in header}
    row.update(person_id="99999991", first_name=PLANTED["first"], last_name=PLANTED["last"],
               birth_date=PLANTED["dob"], ssn=PLANTED["ssn"], sex="F",
               address_line1=PLANTED["street"], city=PLANTED["city"])
    row["race"] = "Q" * (17 * 2**20)  # the line is 17 MB, past the reader's 16 MB
    persons.insert(5, ",".join(row[name] for name in header).encode())
    (cw / "persons.csv").write_bytes(b"\n".join(persons))
    participants = (cw / "case_participants.csv").read_text().splitlines()
    names = participants[0].split(",")
    first = dict(zip(names, participants[1].split(","), strict=True))
    first["person_id"] = PLANTED["id"]
    participants.insert(3, ",".join(first[name] for name in names))
    (cw / "case_participants.csv").write_text("\n".join(participants) + "\n")
    return out / "extracts"


def _run(args: list[str], prefect_home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_HOME": str(prefect_home),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    prefect_home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*FAMLINK, *args], capture_output=True, env=env, timeout=900)


def _leaks(*texts: bytes, folders: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """Where each planted value turns up: in `texts`, or in a file under `folders` (the
    warehouse files excepted)."""
    places: list[tuple[str, bytes]] = [(f"output {i}", t) for i, t in enumerate(texts)]
    for folder in folders:
        places += [(str(p), p.read_bytes()) for p in folder.rglob("*")
                   if p.is_file() and not p.name.endswith(WAREHOUSE_SUFFIXES)]
    found = {name: [where for where, data in places if value.encode() in data]
             for name, value in PLANTED.items()}
    return {name: where for name, where in found.items() if where}


def test_famlink_ingest_rejects_the_lines_and_shows_no_value(extracts: Path,
                                                             tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    result = _run(["ingest", "--data", str(extracts), "--db", str(tmp_path / "w.duckdb")], home)
    assert result.returncode == 0, result.stderr[-2000:]
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rejects = con.execute("SELECT file, line, field, reason FROM staged.rejects "
                              "ORDER BY file").fetchall()
    named = {(Path(file).name, line, field): reason for file, line, field, reason in rejects}
    assert "longer than the reader's limit" in named.pop(("persons.csv", 6, None))
    assert named == {("case_participants.csv", 4, "person_id"):
                     "person_id names a person the person file does not have"}
    assert _leaks(result.stdout, result.stderr, folders=(tmp_path,)) == {}


def test_the_nightly_flow_keeps_values_out_of_its_logs_and_prefect(extracts: Path,
                                                                   tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    work = tmp_path / "work"
    result = _run(["nightly", "--extracts", str(extracts), "--workdir", str(work)], home)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any(home.rglob("*.db")), "Prefect kept no database to search"
    assert _leaks(result.stdout, result.stderr, folders=(home, work)) == {}


def test_a_duckdb_failure_names_source_and_step_never_a_value(tmp_path: Path,
                                                              monkeypatch) -> None:  # noqa: ANN001
    """DuckDB's messages quote the value ("Could not convert string '...'") and the line
    ("Original Line: ..."): the ingest's error keeps the kind of failure alone, and drops the
    DuckDB error it came from (a traceback would print it)."""
    from linkage.ingest import run
    from linkage.ingest.loaded import IngestError
    from linkage.warehouse import connect

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "people.yaml").write_text(
        "system: county\nformat: csv\npath: people\ntables:\n"
        "  people: {file: people.csv, key: [id], required: [id]}\n"
        "person: {table: people, source_id: id, last_name: last}\n")
    (tmp_path / "data" / "people").mkdir(parents=True)
    (tmp_path / "data" / "people" / "people.csv").write_text(f"id,last\n1,{PLANTED['last']}\n")

    def standardize(con) -> None:  # noqa: ANN001 - fails on a value, as a macro could
        con.execute("SELECT last_name_raw::INTEGER FROM _person_rows").fetchall()

    monkeypatch.setattr(run, "standardize_persons", standardize)
    with pytest.raises(IngestError) as failed:
        run.ingest(connect(tmp_path / "w.duckdb"), tmp_path / "data", tmp_path / "sources")
    message = str(failed.value)
    assert message.startswith("source people: failed while standardizing names")
    assert "Conversion Error" in message and PLANTED["last"] not in message
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
