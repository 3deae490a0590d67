"""The truth agrees with the extracts: every source record has exactly one truth row and a true
person, every family member exists, the answers are backed by the extracts, and the same seed
gives the same bytes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

from helpers import read_csv

from linkage.formats import tanf_section1
from synthetic_data.generate import synthesize
from synthetic_data.truth import HARD_CASES


def _tanf_ids(path: Path) -> list[str]:
    """A TANF report's person ids, read back as the ingest reads them: the people of each case,
    month and kind (T2 adults, T3 children) by their items and own text."""
    lines = path.read_text(encoding="ascii").splitlines()
    encrypted = tanf_section1.header_is_encrypted(lines[0])
    people: defaultdict[tuple[str, str, str], list] = defaultdict(list)
    own = tanf_section1.T3_PREFIX[-1].end
    for line in lines[1:-1]:
        if line.startswith("T2"):
            found = [(tanf_section1.parse_record(tanf_section1.T2, line), line[own:])]
        elif line.startswith("T3"):
            found = [(tanf_section1.parse_record(tanf_section1.T3_CHILD, slot), slot)
                     for slot in tanf_section1.t3_child_slots(line)]
        else:
            continue
        for items, text in found:
            if encrypted and items["SSN"]:
                items["SSN"] = tanf_section1.decrypt_ssn(items["SSN"])
            key = (line[2:8], line[8:19].rstrip(), tanf_section1.PERSON_KINDS[line[:2]])
            people[key].append((items, text.rstrip(" ")))
    return [source_id for key, found in people.items()
            for source_id in tanf_section1.person_ids(*key, found)]


def _source_ids(root: Path) -> Counter[str]:
    """The record ids the ingest will give, read from the extracts alone."""
    ids: Counter[str] = Counter()
    ex = root / "extracts"
    ids.update(f"cw:{p['person_id']}" for p in read_csv(ex / "cw" / "persons.csv"))
    ids.update({f"cs:{m['member_id']}" for m in read_csv(ex / "cs" / "fcr_persons.csv")})
    ids.update(f"hmis:{c['PersonalID']}" for c in read_csv(ex / "hmis" / "Client.csv"))
    for path in sorted((ex / "tanf").glob("*.txt")):
        ids.update(f"tanf:{source_id}" for source_id in _tanf_ids(path))
    return ids


def test_every_source_record_has_one_truth_row(small: Path) -> None:
    records = read_csv(small / "truth" / "records.csv")
    truth_ids = Counter(r["record_id"] for r in records)
    assert max(truth_ids.values()) == 1
    source = _source_ids(small)
    assert max(source.values()) == 1
    assert set(truth_ids) == set(source)
    assert {r["system"] for r in records} == {"cw", "cs", "hmis", "tanf"}


def test_every_record_has_a_true_person_and_family(small: Path) -> None:
    persons = {p["true_person_id"]: p for p in read_csv(small / "truth" / "persons.csv")}
    assert len(persons) == 3000
    for r in read_csv(small / "truth" / "records.csv"):
        person = persons[r["true_person_id"]]
        assert person["true_family_id"] == r["true_family_id"]
        assert set(filter(None, r["hard_cases"].split(";"))) <= set(HARD_CASES)


def test_family_members_exist(small: Path) -> None:
    persons = {p["true_person_id"]: p for p in read_csv(small / "truth" / "persons.csv")}
    families = {f["true_family_id"]: f for f in read_csv(small / "truth" / "families.csv")}
    sizes = Counter(p["true_family_id"] for p in persons.values())
    for fid, fam in families.items():
        assert int(fam["n_persons"]) == sizes[fid]
    for p in persons.values():
        for key in ("mother_id", "father_id", "twin_of", "jr_of"):
            if p[key]:
                assert persons[p[key]]["true_family_id"] == p["true_family_id"]
    for rel in read_csv(small / "truth" / "relationships.csv"):
        assert rel["true_person_id"] in persons and rel["related_true_person_id"] in persons
    roles = Counter(p["role"] for p in persons.values())
    assert roles["mother"] == len(families)
    assert roles["child"] > roles["mother"] and roles["father"] > 0
    assert roles["grandmother"] > 0 and roles["aunt"] > 0
    # children with different fathers, couples that split, kinship caregivers
    fathers_per_family = Counter(p["true_family_id"] for p in persons.values()
                                 if p["role"] == "father")
    assert any(n == 2 for n in fathers_per_family.values())
    assert any(f["split"] == "1" for f in families.values())


def test_answers_are_backed_by_the_extracts(small: Path) -> None:
    ex, answers = small / "extracts", small / "truth" / "answers"
    members = read_csv(ex / "cs" / "fcr_persons.csv")
    removals = {r["removal_id"]: r for r in read_csv(ex / "cw" / "removals.csv")}
    cases = {c["case_id"]: c for c in read_csv(ex / "cw" / "cases.csv")}
    errors = read_csv(answers / "support_in_error.csv")
    assert errors
    for row in errors:
        child = [m for m in members if m["case_id"] == row["cs_case_id"]
                 and m["member_id"] == row["cs_child_member_id"]]
        assert child and child[0]["participant_type"] == "CH"
        assert child[0]["order_indicator"] == "Y" and child[0]["ive_referral_indicator"] == "N"
        removal = removals[row["cw_removal_id"]]
        assert removal["discharge_date"] == "" and removal["case_id"] == row["cw_case_id"]
    homeless = read_csv(answers / "homeless_with_open_cw.csv")
    households = {e["HouseholdID"] for e in read_csv(ex / "hmis" / "Enrollment.csv")}
    assert homeless
    for row in homeless:
        assert cases[row["cw_case_id"]]["case_status"] == "OPEN"
        assert row["hmis_household_id"] in households
    truth = {r["record_id"]: r for r in read_csv(small / "truth" / "records.csv")}
    participants: dict[str, set[str]] = {}
    for p in read_csv(ex / "cw" / "case_participants.csv"):
        participants.setdefault(p["case_id"], set()).add(truth[f"cw:{p['person_id']}"][
            "true_person_id"])
    absent = read_csv(answers / "absent_parents.csv")
    assert absent
    for row in absent:
        assert row["parent_true_person_id"] not in participants[row["cw_case_id"]]
        assert row["child_true_person_id"] in participants[row["cw_case_id"]]
        assert row["found_in"]
    joint = read_csv(answers / "joint_families.csv")
    systems_of: dict[str, set[str]] = {}
    for r in truth.values():
        systems_of.setdefault(r["true_family_id"], set()).add(r["system"])
    assert {j["true_family_id"] for j in joint} == {
        f for f, s in systems_of.items() if len(s) >= 2}


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    synthesize(800, 42, tmp_path / "a")
    synthesize(800, 42, tmp_path / "b")
    synthesize(800, 43, tmp_path / "c")
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert a == b
    assert a["truth/records.csv"] != c["truth/records.csv"]


def test_chunks_join_seamlessly(tmp_path: Path, config) -> None:
    """Many small chunks: exact person count, ids unique across chunk boundaries."""
    small_chunks = config.model_copy(update={
        "output": config.output.model_copy(update={"chunk_persons": 300})})
    from synthetic_data.generate import generate

    summary = generate(tmp_path, 2017, 3, small_chunks)
    assert summary.persons == 2017
    persons = read_csv(tmp_path / "truth" / "persons.csv")
    assert len(persons) == 2017 and len({p["true_person_id"] for p in persons}) == 2017
    assert len({p["ssn"] for p in persons}) == 2017  # every true SSN distinct
    assert max(Counter(_source_ids(tmp_path)).values()) == 1
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["persons"] == 2017 and manifest["seed"] == 3
