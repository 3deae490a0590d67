"""Child welfare: CSV files from a CCWIS-like system.

persons.csv, cases.csv, case_participants.csv, removals.csv (removal episodes) and
placements.csv (each removal's placements in order: a caregiver's person id where the child
lives with kin). A removal may carry the day CW found good cause not to refer the child to child
support and the day parental rights were terminated. Ids are zero-padded strings (their leading
zeros must survive the ingest).
"""

from __future__ import annotations

from synthetic_data.population import Person
from synthetic_data.recording import Recorder
from synthetic_data.sinks import CsvSink, iso
from synthetic_data.systems.base import SystemWriter, address_labels, parent_ssn
from synthetic_data.timeline import Story

_RACE = {"white": "WHITE", "black": "BLACK", "hispanic": "WHITE", "asian": "ASIAN",
         "native": "AMERICAN_INDIAN_ALASKA_NATIVE"}
class CwWriter(SystemWriter):
    system = "cw"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.persons = CsvSink(self.dir / "persons.csv", (
            "person_id", "first_name", "middle_name", "last_name", "name_suffix", "birth_date",
            "ssn", "sex", "race", "hispanic_latino", "address_line1", "city", "state", "zip",
            "date_created"), crlf=True)
        self.cases = CsvSink(self.dir / "cases.csv", (
            "case_id", "county_fips", "open_date", "close_date", "case_status",
            "case_plan_goal"), crlf=True)
        self.participants = CsvSink(self.dir / "case_participants.csv", (
            "case_id", "person_id", "participant_role", "father_type",
            "relationship_to_child", "start_date", "end_date"), crlf=True)
        self.removals = CsvSink(self.dir / "removals.csv", (
            "removal_id", "case_id", "child_person_id", "removal_date", "removal_reason",
            "discharge_date", "discharge_reason", "good_cause_date", "tpr_date"), crlf=True)
        self.placements = CsvSink(self.dir / "placements.csv", (
            "placement_id", "removal_id", "child_person_id", "begin_date", "end_date",
            "placement_setting", "caregiver_person_id"), crlf=True)
        self._person_seq = self._case_seq = self._removal_seq = self._placement_seq = 0

    def _person_row(self, story: Story, person: Person, day: int, recorder: Recorder) -> str:
        self._person_seq += 1
        pid = f"{self._person_seq:08d}"
        fam = story.family
        rec = recorder.record(person, day, "cw", parent_ssn(story, person))
        addr = fam.address_on(day, person if person in fam.fathers else None)
        address_labels(rec, addr)
        self.persons.write((
            pid, rec.first, rec.middle, rec.last, rec.suffix, iso(rec.dob), rec.ssn, person.sex,
            _RACE[person.group], "Y" if person.group == "hispanic" else "N",
            addr.line if addr else "", addr.city if addr else "", "XX" if addr else "",
            addr.zip if addr else "", iso(day)))
        self.log(pid, person, rec)
        return pid

    def write(self, story: Story, recorder: Recorder) -> None:
        case = story.cw
        if case is None:
            return
        fam, rnd = story.family, recorder.rnd
        self._case_seq += 1
        case.case_id = f"{self._case_seq:09d}"
        self.cases.write((case.case_id, "06075", iso(case.opened), iso(case.closed),
                          "OPEN" if case.closed is None else "CLOSED", case.goal))
        day = case.opened
        participants: list[tuple[Person, str, str, str]] = [
            (fam.mother, "MOTHER", "", "BIRTH_MOTHER")]
        for father in case.fathers:
            ftype = "LEGAL" if fam.married_on is not None and father is fam.fathers[0] else \
                rnd.choice(("BIOLOGICAL", "BIOLOGICAL", "ALLEGED", "PUTATIVE"))
            case.father_types[father.pid] = ftype
            participants.append((father, "FATHER", ftype, "BIRTH_FATHER"))
        if case.caregiver is not None:
            participants.append((case.caregiver, "OTHER_CAREGIVER", "",
                                 case.caregiver.role.upper()))
        participants += [(child, "CHILD", "", "") for child in case.children]
        ids: dict[int, str] = {}
        for person, role, ftype, relation in participants:
            pid = self._person_row(story, person, day, recorder)
            ids[person.pid] = pid
            self.participants.write((case.case_id, pid, role, ftype, relation, iso(day),
                                     iso(case.closed)))
        missed = {p.pid for p, *_ in participants if rnd.random() < self.c.coverage.cw_duplicate}
        if missed:
            self._rereferral(story, participants, ids, missed, recorder)
        for removal in case.removals:
            self._removal_seq += 1
            removal.removal_id = f"R{self._removal_seq:09d}"
            child_id = ids[removal.child.pid]
            self.removals.write((removal.removal_id, case.case_id, child_id, iso(removal.start),
                                 removal.reason, iso(removal.end), removal.discharge_reason,
                                 iso(removal.good_cause), iso(removal.tpr)))
            for begin, end, setting, caregiver in removal.placements:
                self._placement_seq += 1
                removal.placement_ids.append(f"PL{self._placement_seq:09d}")
                self.placements.write((
                    removal.placement_ids[-1], removal.removal_id, child_id, iso(begin),
                    iso(end), setting, ids.get(caregiver.pid, "") if caregiver else ""))

    def _rereferral(self, story: Story, participants: list[tuple[Person, str, str, str]],
                    ids: dict[int, str], missed: set[int], recorder: Recorder) -> None:
        """A later referral of the family, screened and closed, whose intake found some people
        and entered the `missed` ones anew: the in-system duplicates of child welfare."""
        case, rnd = story.cw, recorder.rnd
        assert case is not None
        day = rnd.randrange(case.opened + 30, case.opened + 900)
        if day >= self.end - 1:
            return
        closed = min(day + rnd.randint(10, 60), self.end - 1)
        self._case_seq += 1
        case_id = f"{self._case_seq:09d}"
        self.cases.write((case_id, "06075", iso(day), iso(closed), "CLOSED", "MAINTAIN_IN_HOME"))
        for person, role, ftype, relation in participants:
            if person.pid in missed:
                pid = self._person_row(story, person, day, recorder)
            elif role in ("MOTHER", "CHILD"):
                pid = ids[person.pid]
            else:
                continue
            self.participants.write((case_id, pid, role, ftype, relation, iso(day), iso(closed)))

    def close(self) -> dict[str, int]:
        sinks = (self.persons, self.cases, self.participants, self.removals, self.placements)
        for sink in sinks:
            sink.close()
        return {f"cw/{s.path.name}": s.rows for s in sinks}
