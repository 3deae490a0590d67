"""Reviewer decisions in their own store (issue 14, item 3): liaisons recording at once keep
every decision, a decision on a record that does not exist is refused, the store is
append-only and private, the legacy JSON-lines log is imported once, "unsure" keeps a pair
queued with its note, and a run reads the decisions as they were when it started."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from helpers import ROOT

from linkage.cli import cli
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.review.decisions import (
    Decision,
    DecisionError,
    decisions_path,
    latest_seq,
    load_latest,
    open_store,
    read_decisions,
    record,
)
from linkage.warehouse import connect

CONFIG = load_linkage_config()

# One liaison working through 200 pairs, each decision a `famlink review decide` as typed
# (in one process, the linkage config parsed once: parsing it is most of a decision's time
# and no part of what is tested).
LIAISON = """
import functools, sys, time
from pathlib import Path
import linkage.cli
from linkage.cli import cli
linkage.cli._linkage_config = functools.cache(linkage.cli._linkage_config)
db, who, first, start = sys.argv[1:]
Path(f"{start}.{first}").touch()  # imported, ready
while not Path(start).exists():
    time.sleep(0.005)
for i in range(int(first), int(first) + 200):
    cli.main(["review", "decide", f"cw:{2 * i:04d},cw:{2 * i + 1:04d}", "--match",
              "--by", who, "--note", f"decision {i}", "--db", db], standalone_mode=False)
"""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse holding staged records cw:0000 ... cw:0999 and nothing else: all that
    recording a decision reads."""
    db = tmp_path / "famlink.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA staged; CREATE TABLE staged.person_records AS "
                    "SELECT printf('cw:%04d', i) AS record_id FROM range(1000) t(i)")
    return db


def _store(db: Path) -> Path:
    return decisions_path(db, CONFIG.review.decisions_file)


def test_two_liaisons_recording_200_decisions_each_at_once_keep_all_400(
        warehouse: Path, tmp_path: Path) -> None:
    start = tmp_path / "start"
    liaisons = [subprocess.Popen([sys.executable, "-c", LIAISON, str(warehouse), who, first,
                                  str(start)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
                for who, first in (("Liaison A", "0"), ("Liaison B", "200"))]
    ready = [Path(f"{start}.{first}") for first in ("0", "200")]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in ready) and time.monotonic() < deadline:
        time.sleep(0.01)  # both have imported famlink and wait at the line, however slowly
    start.touch()
    for liaison in liaisons:
        assert liaison.wait(timeout=300) == 0, liaison.stderr.read()[-2000:]
        liaison.stderr.close()
    rows = read_decisions(_store(warehouse))
    assert len(rows) == 400 and [row[0] for row in rows] == list(range(1, 401))
    assert {row[4]: sum(r[4] == row[4] for r in rows) for row in rows} == \
        {"Liaison A": 200, "Liaison B": 200}
    assert len({(row[1], row[2]) for row in rows}) == 400
    interleaved = [row[4] for row in rows]
    assert interleaved != sorted(interleaved)  # they did record at the same time


def test_a_decision_on_a_record_that_does_not_exist_is_refused(warehouse: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-c", "from flows.cli import main; main()", "review", "decide",
         "cw:TYPO1,cw:TYPO2", "--match", "--by", "Liaison C", "--db", str(warehouse)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "no record cw:TYPO1, cw:TYPO2 in the warehouse" in refused.stderr
    assert "nothing recorded" in refused.stderr
    half = CliRunner().invoke(cli, ["review", "decide", "cw:0001,cw:TYPO3", "--no-match",
                                    "--by", "Liaison C", "--db", str(warehouse)])
    assert half.exit_code == 1 and "no record cw:TYPO3 in" in half.output
    assert latest_seq(_store(warehouse)) == 0


def test_decisions_are_append_only_and_private(warehouse: Path) -> None:
    store = _store(warehouse)
    record(store, Decision("cw:0002", "cw:0001", "no_match", "Liaison A", "twins"))
    with open_store(store) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        for sql in ("UPDATE decisions SET decision = 'match'", "DELETE FROM decisions",
                    "INSERT OR REPLACE INTO decisions (seq, record_id_l, record_id_r, decision, "
                    "reviewer, note, at) VALUES (1, 'cw:0001', 'cw:0002', 'match', 'X', '', "
                    "'2025-01-01 00:00:00')"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)
        with pytest.raises(sqlite3.IntegrityError):  # the store's own guard, not only famlink's
            con.execute("INSERT INTO decisions (record_id_l, record_id_r, decision, reviewer, "
                        "at) VALUES ('cw:0001', 'cw:0002', 'maybe', 'X', '2025-01-01')")
        wal = Path(f"{store}-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert [row[1:6] for row in read_decisions(store)] == [
        ("cw:0001", "cw:0002", "no_match", "Liaison A", "twins")]


def test_the_legacy_log_is_imported_once_in_order(tmp_path: Path) -> None:
    legacy = tmp_path / "review_decisions.jsonl"
    lines = [("cw:1", "cw:2", "match", "2025-01-01 09:00:00"),
             ("cw:3", "cw:4", "unsure", "2025-01-02 09:00:00"),
             ("cw:1", "cw:2", "no_match", "2025-01-03 09:00:00")]
    legacy.write_text("".join(json.dumps({"record_id_l": left, "record_id_r": right,
                                          "decision": what, "reviewer": "Liaison A",
                                          "note": "", "at": at}) + "\n"
                              for left, right, what, at in lines))
    store = decisions_path(tmp_path / "famlink.duckdb", "review_decisions.sqlite")
    assert latest_seq(store) == 3  # read before anything was recorded: imported
    record(store, Decision("cw:3", "cw:4", "match", "Liaison B"))
    assert latest_seq(store) == 4  # not imported again
    assert [(row[1], row[2], row[3]) for row in read_decisions(store)] == [
        *[line[:3] for line in lines], ("cw:3", "cw:4", "match")]
    # a config still naming the old log gets the store of the same name, not a second one
    assert decisions_path(tmp_path / "famlink.duckdb", "review_decisions.jsonl") == store


def test_a_broken_legacy_log_names_its_line_and_imports_nothing(tmp_path: Path) -> None:
    legacy = tmp_path / "review_decisions.jsonl"
    legacy.write_text('{"record_id_l": "cw:1", "record_id_r": "cw:2", "decision": "match", '
                      '"reviewer": "A", "at": "2025-01-01 09:00:00"}\n{"record_id_l": "cw:1"')
    store = legacy.with_suffix(".sqlite")
    with pytest.raises(DecisionError, match=r"line 2: not a decision .*nothing was imported"):
        latest_seq(store)
    legacy.write_text(legacy.read_text().splitlines()[0] + "\n")  # the liaison fixes it
    assert latest_seq(store) == 1


def test_a_run_reads_the_decisions_as_they_were_when_it_started(tmp_path: Path) -> None:
    store = tmp_path / "review_decisions.sqlite"
    con = duckdb.connect()
    assert latest_seq(store) == 0 and load_latest(con, store, as_of=0) == 0
    assert not store.exists()  # reading creates nothing
    record(store, Decision("cw:1", "cw:2", "match", "Liaison A"))
    record(store, Decision("cw:3", "cw:4", "unsure", "Liaison A", "same DOB, other city?"))
    started = latest_seq(store)
    record(store, Decision("cw:2", "cw:1", "no_match", "Liaison B"))  # while the run runs
    record(store, Decision("cw:5", "cw:6", "match", "Liaison B"))
    assert started == 2 and latest_seq(store) == 4
    assert load_latest(con, store, as_of=started) == 2
    assert sorted(con.execute("SELECT record_id_l, decision, note FROM _decisions")
                  .fetchall()) == [("cw:1", "match", ""), ("cw:3", "unsure",
                                                          "same DOB, other city?")]
    assert load_latest(con, store, "_later") == 3
    assert con.execute("SELECT decision FROM _later WHERE record_id_l = 'cw:1'").fetchall() \
        == [("no_match",)]


def test_review_decisions_lists_them_as_csv(warehouse: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for pair, what, note in (("cw:0001,cw:0002", "--unsure", "ask CW"),
                             ("cw:0003,cw:0004", "--no-match", ""),
                             ("cw:0002,cw:0001", "--match", "CW says: same child")):
        done = runner.invoke(cli, ["review", "decide", pair, what, "--by", "Liaison A",
                                   "--note", note, "--db", str(warehouse)])
        assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, ["review", "decisions", "--db", str(warehouse)])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [(r["seq"], r["record_id_l"], r["decision"], r["note"]) for r in rows] == [
        ("1", "cw:0001", "unsure", "ask CW"), ("2", "cw:0003", "no_match", ""),
        ("3", "cw:0001", "match", "CW says: same child")]
    assert all(r["reviewer"] == "Liaison A" and r["at"] for r in rows)
    out = tmp_path / "latest.csv"
    latest = runner.invoke(cli, ["review", "decisions", "--db", str(warehouse), "--latest",
                                 "--out", str(out)])
    assert latest.exit_code == 0, latest.output
    with open(out, newline="") as fh:
        assert [(r["seq"], r["decision"]) for r in csv.DictReader(fh)] == \
            [("2", "no_match"), ("3", "match")]


def test_unsure_stays_queued_with_its_note_after_a_relink(linked: Path, tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    with duckdb.connect(str(db), read_only=True) as con:
        (unsure, left, right), (settled, *_) = con.execute(
            "SELECT pair_id, record_id_l, record_id_r FROM review.queue ORDER BY position "
            "LIMIT 2").fetchall()
    runner = CliRunner()
    said = {}
    for pair, what, note in ((unsure, "--unsure", "same DOB, ask CW about the address"),
                             (settled, "--no-match", "")):
        done = runner.invoke(cli, ["review", "decide", pair, what, "--by", "Liaison A",
                                   "--note", note, "--db", str(db)])
        assert done.exit_code == 0, done.output
        said[pair] = " ".join(done.output.split())  # as read, not as wrapped
    assert "stays in the queue" in said[unsure] and "next `famlink link`" in said[settled]
    con = connect(db)
    link(con, db, CONFIG)
    queued = dict(con.execute("SELECT pair_id, position FROM review.queue").fetchall())
    con.close()
    assert unsure in queued and settled not in queued
    shown = runner.invoke(cli, ["review", "queue", "--db", str(db),
                                "--limit", str(queued[unsure])])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "earlier: unsure by Liaison A" in text
    assert "same DOB, ask CW about the address" in text
    assert left in text and right in text
