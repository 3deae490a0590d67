"""The ground truth, written beside the extracts in `DIR/truth/`.

`records.csv` ties every source person record to its true person and family, with the hard
cases that apply; the other files hold the true people, families, relationships and the true
answers to the program staff's questions, so every later stage can be scored.
"""

from __future__ import annotations

from pathlib import Path

from synthetic_data.population import Family, Person
from synthetic_data.sinks import CsvSink, iso

# The one vocabulary of hard-case labels (documented in synthetic_data/README.md).
HARD_CASES = (
    "twin", "jr_sr", "nickname", "name_swap", "surname_change", "compound_surname",
    "hyphen_space_variant", "middle_missing", "first_name_typo", "first_initial",
    "first_last_swap", "dob_error", "dob_off_by_one_day", "dob_approximate", "dob_missing",
    "dob_placeholder", "ssn_missing", "ssn_error", "ssn_placeholder", "ssn_of_parent",
    "shelter_address", "no_fixed_address", "in_system_duplicate",
)

ANSWERS = {
    "joint_families": ("true_family_id", "systems", "n_systems"),
    "absent_parents": ("cw_case_id", "true_family_id", "child_true_person_id",
                       "parent_true_person_id", "parent_role", "found_in", "cs_member_id",
                       "locate_address", "locate_employer"),
    "homeless_with_open_cw": ("cw_case_id", "true_family_id", "hmis_household_id",
                              "entry_date", "exit_date"),
    "support_in_error": ("cs_case_id", "cs_child_member_id", "child_true_person_id",
                         "custodial_true_person_id", "cw_case_id", "cw_removal_id",
                         "removal_date"),
    # events of the extract's last ALERT_DAYS days that raise an alert (famlink evaluate keeps
    # those of the days marts.yaml looks back on a first run); `key` is the source ids the
    # alert names, `child` the child it is about (empty for a case's alert)
    "alerts": ("alert_type", "agency", "event_date", "key", "child_true_person_id",
               "other_true_person_id"),
    "paternity": ("cw_case_id", "child_true_person_id", "cs_case_id", "father_true_person_id",
                  "paternity_status"),
    "referrals": ("kind", "cw_case_id", "removal_id", "child_true_person_id", "cs_case_id",
                  "reasons"),
}
ALERT_DAYS = 366


class TruthWriter:
    def __init__(self, out: Path) -> None:
        self.dir = out / "truth"
        self.records = CsvSink(self.dir / "records.csv", (
            "record_id", "system", "true_person_id", "true_family_id", "hard_cases"))
        self.persons = CsvSink(self.dir / "persons.csv", (
            "true_person_id", "true_family_id", "role", "sex", "dob", "first_name",
            "middle_name", "surname_at_birth", "current_surname", "suffix", "ssn", "ethnicity",
            "mother_id", "father_id", "twin_of", "jr_of", "hard_cases"))
        self.families = CsvSink(self.dir / "families.csv", (
            "true_family_id", "ethnicity", "n_persons", "low_income", "systems", "homeless",
            "married", "split"))
        self.relationships = CsvSink(self.dir / "relationships.csv", (
            "true_person_id", "related_true_person_id", "relationship"))
        self.answers = {name: CsvSink(self.dir / "answers" / f"{name}.csv", header)
                        for name, header in ANSWERS.items()}

    def record(self, system: str, source_id: str, person: Person, labels: set[str]) -> None:
        self.records.write((f"{system}:{source_id}", system, person.pid, person.family_id,
                            ";".join(sorted(labels))))

    def family(self, fam: Family, systems: list[str]) -> None:
        people = fam.persons
        for p in people:
            self.persons.write((
                p.pid, p.family_id, p.role, p.sex, iso(p.dob), p.first, p.middle, p.surname,
                p.current_surname, p.suffix, p.ssn, p.group, p.mother or "", p.father or "",
                p.twin_of or "", p.jr_of or "", ";".join(sorted(p.labels))))
        self.families.write((fam.family_id, fam.group, len(people), int(fam.low_income),
                             ";".join(systems), int(bool(fam.homeless)),
                             int(fam.married_on is not None or fam.second_married_on is not None),
                             int(fam.split_on is not None)))
        rel = self.relationships.write
        for child in fam.children:
            if child.mother is not None:
                rel((fam.mother.pid, child.pid, "mother_of"))
            if child.father is not None:
                rel((child.father, child.pid, "father_of"))
            if child.twin_of is not None:
                rel((child.twin_of, child.pid, "twin_of"))
            if child.jr_of is not None:
                rel((child.jr_of, child.pid, "senior_of"))
            if fam.caregiver is not None:
                rel((fam.caregiver.pid, child.pid, f"{fam.caregiver.role}_of"))
        if fam.caregiver is not None and fam.caregiver.role == "grandmother":
            rel((fam.caregiver.pid, fam.mother.pid, "mother_of"))
        elif fam.caregiver is not None:
            rel((fam.caregiver.pid, fam.mother.pid, "sister_of"))
        for father in fam.fathers:
            rel((father.pid, fam.mother.pid, "partner_of"))
        if fam.fathers and fam.married_on is not None:
            rel((fam.fathers[0].pid, fam.mother.pid, "spouse_of"))
        if len(fam.fathers) == 2 and fam.second_married_on is not None:
            rel((fam.fathers[1].pid, fam.mother.pid, "spouse_of"))

    def answer(self, name: str, row: tuple) -> None:
        self.answers[name].write(row)

    def close(self) -> dict[str, int]:
        sinks = [self.records, self.persons, self.families, self.relationships,
                 *self.answers.values()]
        for sink in sinks:
            sink.close()
        return {sink.path.stem: sink.rows for sink in sinks}
