"""Record ids come from what identifies a record, never from the order of lines (issue 14).

Reviewers' decisions and stable person ids are keyed on record ids: an id that moves to another
person when a file arrives in another order silently corrupts both. Here every extract of a
small population is written again with its data lines in another order, and both deliveries
must give the same records under the same ids, the same persons, and decisions that land on
the same records.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb
import pytest
from helpers import CONFIGS, FIXTURES, read_csv

from linkage.evaluate import evaluate
from linkage.formats import tanf_section1 as layout
from linkage.ingest.run import ingest
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.review.decisions import Decision, decisions_path, record
from linkage.warehouse import connect
from synthetic_data.generate import synthesize

CONFIG = load_linkage_config()
TANF_FIXTURE = FIXTURES / "tanf" / "small_tanf_section1.txt"
# what tells a row where it came from, not what it says: left out when deliveries are compared
PLACE = ("source_file", "source_line")


# -------------------------------------------------------------------------------------------
# Writing a delivery again in another order
# -------------------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="latin-1").splitlines()


def _write(path: Path, lines: list[str], like: Path) -> None:
    """Write `lines` to `path` with the modification time of `like`: a TANF report's place
    among deliveries of the same quarter is its time, and only the order of lines may change."""
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    stat = like.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _reorder_csv(source: Path, target: Path, rnd: random.Random) -> None:
    """The header first, the data lines shuffled. Each data line must be one row (no value
    holds a line break), or shuffling lines would cut rows."""
    header, *rows = _lines(source)
    with open(source, newline="", encoding="latin-1") as fh:
        assert sum(1 for _ in csv.reader(fh)) == len(rows) + 1, f"{source.name}: multi-line rows"
    rnd.shuffle(rows)
    _write(target, [header, *rows], source)


def _swap_children(line: str) -> str:
    """A T3 line holding two children with the children's slots exchanged."""
    first, second = (line[o:o + layout.T3_CHILD_LENGTH] for o in layout.T3_CHILD_OFFSETS)
    if not second.strip():
        return line
    start, end = layout.T3_CHILD_OFFSETS[0], layout.T3_CHILD_OFFSETS[1] + layout.T3_CHILD_LENGTH
    return line[:start] + second + first + line[end:]


def _reorder_tanf(lines: list[str], rnd: random.Random) -> list[str]:
    """The HEADER first and the TRAILER last, as the format requires; everything between in
    any order (the reader ties adults and children to their family by case number and month,
    not by place), and the two children of each T3 line exchanged."""
    header, *records, trailer = lines
    records = [_swap_children(r) if r.startswith("T3") else r for r in records]
    rnd.shuffle(records)
    return [header, *records, trailer]


def _reordered(data: Path, out: Path, seed: int) -> Path:
    """A copy of the synthetic delivery `data` (its extracts and truth) with every extract's
    data lines in another order."""
    shutil.copytree(data, out)
    rnd = random.Random(seed)
    for path in sorted((data / "extracts").rglob("*")):
        if not path.is_file():
            continue
        target = out / path.relative_to(data)
        if path.suffix == ".csv":
            _reorder_csv(path, target, rnd)
        else:
            lines = _lines(path)
            assert layout.is_section1_header(lines[0]), path.name
            _write(target, _reorder_tanf(lines, rnd), path)
    return out


# -------------------------------------------------------------------------------------------
# What a warehouse holds, place left out
# -------------------------------------------------------------------------------------------


def _records(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Each staged person record's values by record id, with its file's name (not the folder
    it was read from) and without its line."""
    rows = con.execute(f"""SELECT record_id, regexp_extract(source_file, '[^/]+$'),
        COLUMNS(* EXCLUDE (record_id, {', '.join(PLACE)}))
        FROM staged.person_records""").fetchall()
    by_id = {row[0]: row[1:] for row in rows}
    assert len(by_id) == len(rows), "a record id names two records"
    return by_id


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """A staged table's rows as a sorted list (a multiset), their place left out."""
    rows = con.execute(f"SELECT COLUMNS(* EXCLUDE ({', '.join(PLACE)}))::VARCHAR "
                       f"FROM staged.{table}").fetchall()
    return sorted(rows, key=repr)


def _partition(con: duckdb.DuckDBPyConnection) -> set[frozenset[str]]:
    """The persons as sets of record ids (person ids themselves are minted per warehouse)."""
    rows = con.execute("SELECT list(record_id) FROM linked.persons GROUP BY person_id")
    return {frozenset(ids) for (ids,) in rows.fetchall()}


@contextmanager
def _reading(*dbs: Path) -> Iterator[list[duckdb.DuckDBPyConnection]]:
    """The warehouses open read-only, closed again even when an assertion fails (a connection
    left open keeps a later test from opening the file to write)."""
    cons = [connect(db, read_only=True) for db in dbs]
    try:
        yield cons
    finally:
        for con in cons:
            con.close()


def _unbalanced(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The files whose lines read are not the lines staged and rejected: a row lost."""
    return con.execute("SELECT file FROM staged.files "
                       "WHERE rows_read <> rows_staged + rows_rejected").fetchall()


def _person_of(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    return con.execute("SELECT person_id FROM linked.persons WHERE record_id = ?",
                       [record_id]).fetchall()[0][0]


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory) -> dict[str, Path]:
    """A small population as generated and reordered, each ingested and linked in a folder
    of its own (its own decisions store beside it)."""
    base = tmp_path_factory.mktemp("record_ids")
    synthesize(600, 3, base / "data")
    _reordered(base / "data", base / "reordered", seed=14)
    dbs = {}
    for name in ("data", "reordered"):
        db = base / f"{name}_db" / "famlink.duckdb"
        db.parent.mkdir()
        con = connect(db)
        ingest(con, base / name)
        assert _unbalanced(con) == [], name
        link(con, db, CONFIG)
        con.close()
        dbs[name] = db
    return {**dbs, "truth": base / "data" / "truth"}


def test_the_reordered_copy_reorders_every_file(deliveries: dict[str, Path]) -> None:
    """The test is only as good as its copy: every file with two data lines or more is in
    another order, and holds the same lines."""
    data = deliveries["truth"].parent
    moved = 0
    for path in (data / "extracts").rglob("*"):
        if path.is_file():
            lines = _lines(path)
            again = _lines(data.parent / "reordered" / path.relative_to(data))
            assert len(lines) == len(again) and lines[0] == again[0]
            moved += lines != again
    assert moved >= 15


def test_reordered_lines_give_the_same_records(deliveries: dict[str, Path]) -> None:
    with _reading(deliveries["data"], deliveries["reordered"]) as (first, second):
        records = _records(first)
        assert records == _records(second)
        assert {rid.split(":")[0] for rid in records} == {"cw", "cs", "hmis", "tanf"}
        for table in ("memberships", "events", "groups"):
            assert _rows(first, table) == _rows(second, table), table


def test_the_truth_names_the_records_the_ingest_names(deliveries: dict[str, Path]) -> None:
    """The generator builds the ids the ingest builds, so the truth maps every record."""
    truth = {row["record_id"] for row in read_csv(deliveries["truth"] / "records.csv")}
    with _reading(deliveries["reordered"]) as (con,):
        assert set(_records(con)) == truth


def test_reordered_lines_give_the_same_persons(deliveries: dict[str, Path]) -> None:
    with _reading(deliveries["data"], deliveries["reordered"]) as (first, second):
        assert _partition(first) == _partition(second)
        assert evaluate(first, deliveries["truth"]) == evaluate(second, deliveries["truth"])


def test_a_decision_lands_on_the_same_records(deliveries: dict[str, Path]) -> None:
    """A liaison splits a TANF record from the person the model put it in: taken by record id,
    the decision parts the same two records in both deliveries."""
    with _reading(deliveries["data"]) as (con,):
        pair = con.execute("""
            SELECT a.record_id, b.record_id FROM linked.persons a JOIN linked.persons b
              ON a.person_id = b.person_id AND a.record_id < b.record_id
            WHERE b.record_id LIKE 'tanf:%' AND a.record_id NOT LIKE 'tanf:%'
            ORDER BY 1, 2 LIMIT 1""").fetchall()[0]
    partitions = []
    for name in ("data", "reordered"):
        db = deliveries[name]
        record(decisions_path(db, CONFIG.review.decisions_file),
               Decision(*pair, "no_match", "Liaison A", "another person"))
        with closing(connect(db)) as con:
            link(con, db, CONFIG)
            assert _person_of(con, pair[0]) != _person_of(con, pair[1]), name
            partitions.append(_partition(con))
    assert partitions[0] == partitions[1]


# -------------------------------------------------------------------------------------------
# TANF, line by line
# -------------------------------------------------------------------------------------------


def _ingest_tanf(folder: Path, lines: list[str]) -> duckdb.DuckDBPyConnection:
    """Ingest one TANF report made of `lines` (TANF's source config alone)."""
    configs = folder / "sources"
    configs.mkdir(parents=True)
    shutil.copy(CONFIGS / "sources" / "tanf.yaml", configs)
    (folder / "extracts" / "tanf").mkdir(parents=True)
    (folder / "extracts" / "tanf" / "report.txt").write_text("\n".join(lines) + "\n")
    con = connect(folder / "famlink.duckdb")
    ingest(con, folder, configs)
    assert _unbalanced(con) == []
    return con


def _children(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {rid: values for rid, values in _records(con).items() if "-C-" in rid}


def test_two_t3_lines_swapped_keep_each_childs_id(tmp_path: Path) -> None:
    lines = _lines(TANF_FIXTURE)
    t3 = [n for n, line in enumerate(lines) if line.startswith("T3")]
    swapped = list(lines)
    swapped[t3[0]], swapped[t3[-1]] = lines[t3[-1]], lines[t3[0]]
    swapped[t3[-1]] = _swap_children(swapped[t3[-1]])  # and the two children of that line
    before = _children(_ingest_tanf(tmp_path / "before", lines))
    after = _children(_ingest_tanf(tmp_path / "after", swapped))
    assert len(before) == 6 and before == after


def test_the_ingest_and_the_layout_module_build_the_same_ids(tmp_path: Path) -> None:
    """`layout.person_ids` (the generator's) and the ingest's SQL agree on a real report,
    encrypted SSNs and all."""
    lines = _lines(TANF_FIXTURE)
    encrypted = layout.header_is_encrypted(lines[0])
    people: dict[tuple[str, str, str], list] = {}
    for line in lines[1:-1]:
        found = {"T2": [(layout.parse_record(layout.T2, line), line[19:])],
                 "T3": [(layout.parse_record(layout.T3_CHILD, slot), slot)
                        for slot in layout.t3_child_slots(line)]}.get(line[:2], [])
        for items, text in found:
            if encrypted:
                items["SSN"] = layout.decrypt_ssn(items["SSN"])
            key = (line[2:8], line[8:19].rstrip(), layout.PERSON_KINDS[line[:2]])
            people.setdefault(key, []).append((items, text.rstrip(" ")))
    expected = {f"tanf:{source_id}" for key, found in people.items()
                for source_id in layout.person_ids(*key, found)}
    assert len(expected) == 11
    assert set(_records(_ingest_tanf(tmp_path, lines))) == expected


def test_people_equal_in_every_identifying_item_stay_two_records(tmp_path: Path) -> None:
    """Twins without SSNs are equal in every item an id is made of: each is staged, numbered
    by content among the equal ones, and every id names the same values whichever line comes
    first."""
    lines = _lines(TANF_FIXTURE)
    t3 = next(n for n, line in enumerate(lines) if line.startswith("T3"))
    start, end = layout.T3_CHILD_OFFSETS[0], layout.T3_CHILD_OFFSETS[1]
    ssn = next(f for f in layout.T3_CHILD if f.name == "SSN")
    twin = lines[t3][start:end]
    twin = twin[:ssn.start] + " " * ssn.width + twin[ssn.end:]
    other = twin[:-1] + "1"  # the same person items, another amount of unearned income
    pair = lines[t3][:start] + twin + other
    one = lines[:t3 + 1] + [pair, _swap_children(pair)] + lines[t3 + 1:]
    two = lines[:t3 + 1] + [_swap_children(pair), pair] + lines[t3 + 1:]
    first = _children(_ingest_tanf(tmp_path / "one", one))
    assert first == _children(_ingest_tanf(tmp_path / "two", two))
    case = f"tanf:{lines[t3][2:8]}-{lines[t3][8:19].rstrip()}-C-"
    by_digest: dict[str, list[str]] = {}
    for rid in sorted(first):
        if rid.startswith(case):
            by_digest.setdefault(rid[len(case):len(case) + 8], []).append(rid)
    assert len(first) == 6 + 4
    # the child as reported, and the four equal ones: the first keeps the id, the others add -n
    equal = max(by_digest.values(), key=len)
    assert sorted(map(len, by_digest.values())) == [1, 4]
    assert equal == [equal[0]] + [f"{equal[0]}-{n}" for n in (2, 3, 4)]
    # the generator's function numbers them alike (no SSN to decrypt)
    slots = [(layout.parse_record(layout.T3_CHILD, slot), slot.rstrip(" "))
             for slot in (twin, other, other, twin)]
    month, number = lines[t3][2:8], lines[t3][8:19].rstrip()
    assert sorted(f"tanf:{rid}" for rid in layout.person_ids(month, number, "C", slots)) == equal
