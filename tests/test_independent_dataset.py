"""The independent person-list generator (benchmarks/datasets/independent.py).

Why: it is the yardstick famlink's accuracy is measured with when its own generator would
flatter it, so it must be what it says it is: famlink's generic Parquet layout, the same files
for a seed, a truth that accounts for every record, each error at the rate its constant states
(binomial tolerance), and the traps it promises (twins, siblings, unrelated neighbours).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import sys
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import ROOT

from linkage.sources import load_sources


def _load_module():
    """Import the generator from its file: `benchmarks` is not an installed package."""
    name = "famlink_independent_dataset"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / "datasets" / "independent.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


ind = _load_module()
RECORDS = 2000
SEED = 7
EXPECTED_YAML = """system: SYSTEM
format: parquet
path: SYSTEM
date_formats: ["%Y-%m-%d"]
tables:
  people: {file: people.parquet, key: [rec_id], required: [rec_id]}
person: {table: people, source_id: rec_id, first_name: given_name, middle_name: middle_name, \
last_name: surname, sex: sex, dob: date_of_birth, ssn: ssn, address_line: street, city: city, \
state: state, zip: zip}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("independent")
    ind.write(out, RECORDS, SEED)
    return out


def _people(out: Path) -> dict[str, list[dict[str, str]]]:
    return {s: pq.read_table(out / "extracts" / s / "people.parquet").to_pylist()
            for s in ind.SYSTEMS}


def _truth(out: Path) -> dict[str, str]:
    with open(out / "truth.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["record_id", "true_id"]
    truth = {r["record_id"]: r["true_id"] for r in rows}
    assert len(truth) == len(rows), "a record id appears twice in truth.csv"
    return truth


def test_layout_is_famlinks_generic_parquet_source(data: Path) -> None:
    for system in ind.SYSTEMS:
        schema = pq.read_schema(data / "extracts" / system / "people.parquet")
        assert schema.names == list(ind.COLUMNS)
        assert all(t == pa.string() for t in schema.types), schema
        assert (data / "sources" / f"{system}.yaml").read_text() == EXPECTED_YAML.replace(
            "SYSTEM", system)
    sources = load_sources(data / "sources")  # famlink's own validation of the configs
    assert sorted(sources) == sorted(ind.SYSTEMS)
    assert all(s.format == "parquet" and s.person.middle_name == "middle_name"
               for s in sources.values())
    formats = {"sex": r"[FM]?", "date_of_birth": r"(\d{4}-\d{2}-\d{2})?", "ssn": r"(\d{9})?",
               "state": r"([A-Z]{2})?", "zip": r"(\d{5})?", "rec_id": r"\d{8}"}
    for system, rows in _people(data).items():
        for row in rows:
            for column, pattern in formats.items():
                assert re.fullmatch(pattern, row[column]), (system, column, row[column])
            for column in ("given_name", "middle_name", "surname"):  # Latin script only
                assert all(not ch.isalpha() or unicodedata.name(ch).startswith("LATIN")
                           for ch in row[column]), (system, row[column])
    persons = pq.read_table(data / "truth_persons.parquet").to_pylist()
    assert len({p["locale"] for p in persons}) >= 15


def test_same_seed_same_files_other_seed_other_files(data: Path, tmp_path: Path) -> None:
    ind.write(tmp_path / "again", RECORDS, SEED)
    ind.write(tmp_path / "other", RECORDS, SEED + 1)
    files = sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "again")
                           for p in (tmp_path / "again").rglob("*") if p.is_file())
    for f in files:
        assert (data / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    assert (data / "truth.csv").read_bytes() != (tmp_path / "other" / "truth.csv").read_bytes()


def test_truth_accounts_for_every_record(data: Path) -> None:
    truth = _truth(data)
    people = _people(data)
    ids = {f"{s}:{r['rec_id']}" for s, rows in people.items() for r in rows}
    assert len(ids) == sum(len(rows) for rows in people.values()) == RECORDS
    assert set(truth) == ids
    persons = {p["true_id"]: p for p in pq.read_table(data / "truth_persons.parquet").to_pylist()}
    assert set(truth.values()) == set(persons)
    per_person: dict[str, list[str]] = {}
    for record_id, true_id in truth.items():
        per_person.setdefault(true_id, []).append(record_id.split(":")[0])
    assert all(len(per_person[t]) == p["records"] for t, p in persons.items())
    assert any(len(set(s)) > 1 for s in per_person.values()), "nobody is in two lists"
    assert any(len(s) > len(set(s)) for s in per_person.values()), "nobody twice in one list"
    errors = pq.read_table(data / "truth_errors.parquet")
    assert errors.column_names == ["record_id", *ind.ERROR_RATES]
    assert set(errors.column("record_id").to_pylist()) == ids


def test_records_without_errors_are_their_person(data: Path) -> None:
    """A record no error touched carries its person's values, as its system writes them; a
    record with a `missing` error has the field empty."""
    truth = _truth(data)
    persons = {p["true_id"]: p for p in pq.read_table(data / "truth_persons.parquet").to_pylist()}
    errors = {e.pop("record_id"): e for e in pq.read_table(
        data / "truth_errors.parquet").to_pylist()}
    clean = 0
    addresses: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for system, rows in _people(data).items():
        for row in rows:
            rid = f"{system}:{row['rec_id']}"
            person, flags = persons[truth[rid]], errors[rid]
            for flag, column in (("dob_missing", "date_of_birth"), ("ssn_missing", "ssn"),
                                 ("sex_missing", "sex"), ("address_missing", "street"),
                                 ("zip_missing", "zip"), ("first_name_missing", "given_name")):
                if flags[flag] == 1:
                    assert row[column] == "", (rid, flag)
            if all(v <= 0 for v in flags.values()):
                clean += 1
                for column in ("given_name", "middle_name", "surname"):
                    assert row[column] == ind.style(person[column], system), (rid, column)
                for column in ("sex", "date_of_birth", "ssn"):
                    assert row[column] == person[column], (rid, column)
            if all(flags[f] <= 0 for f in ("moved", "address_format", "address_missing",
                                          "zip_missing")):
                addresses.setdefault((system, truth[rid]), set()).add(
                    (row["street"], row["city"], row["state"], row["zip"]))
                assert row["city"] == ind.style(person["city"], system)
                assert row["zip"] == person["zip"]
    assert clean > RECORDS // 10
    assert all(len(a) == 1 for a in addresses.values()), "a person's home differs in one list"


def test_each_error_at_its_rate(data: Path) -> None:
    errors = pq.read_table(data / "truth_errors.parquet")
    for name, rate in ind.ERROR_RATES.items():
        flags = errors.column(name).to_pylist()
        eligible = sum(f >= 0 for f in flags)
        hits = sum(f == 1 for f in flags)
        assert eligible >= 50, (name, eligible)
        expected = eligible * rate
        tolerance = 4 * math.sqrt(eligible * rate * (1 - rate)) + 1
        assert abs(hits - expected) <= tolerance, (name, hits, eligible, rate)


def test_twins_siblings_and_neighbours_are_there(data: Path) -> None:
    """The traps: twins (same DOB, surname family and address, other first name, consecutive
    SSNs), siblings (same address, other first names and DOBs), unrelated neighbours who
    share a surname."""
    persons = pq.read_table(data / "truth_persons.parquet").to_pylist()
    groups: dict[str, list[dict]] = {}
    for p in persons:
        if p["group_id"]:
            groups.setdefault(p["group_id"], []).append(p)
    twins = [g for k, g in groups.items() if k.startswith("T") and len(g) == 2]
    assert len(twins) >= 3
    for a, b in twins:
        assert a["date_of_birth"] == b["date_of_birth"]
        assert (a["street"], a["city"], a["zip"]) == (b["street"], b["city"], b["zip"])
        assert a["given_name"] != b["given_name"]
        assert a["true_id"] != b["true_id"]
        if a["ssn"] and b["ssn"]:
            assert abs(int(a["ssn"]) - int(b["ssn"])) == 1
    assert any(a["surname"] == b["surname"] for a, b in twins)
    siblings = [g for k, g in groups.items() if k.startswith("S")]
    assert siblings
    for g in siblings:
        assert len({p["street"] for p in g}) == 1
        assert len({p["given_name"] for p in g}) == len(g)
        assert len({p["date_of_birth"] for p in g}) == len(g)
    buildings: dict[str, list[str]] = {}
    for p in persons:
        if p["building_id"]:
            buildings.setdefault(p["building_id"], []).append(p["surname"])
    assert any(len(s) > len(set(s)) for s in buildings.values())
