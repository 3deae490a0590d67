"""Child support (IV-D): CSV laid out like Federal Case Registry person records.

fcr_persons.csv holds one row per case and member (CH child, CP custodial party, NP
non-custodial parent, PF putative father) with the case's order indicator and, on a child's
row, the IV-E foster-care referral fields and paternity (E established on a date, P presumed,
N not established); locate.csv holds what locate found for NPs and PFs.
Dates are MM/DD/YYYY, as many state systems export them.
"""

from __future__ import annotations

import random

from synthetic_data.population import Family, Person
from synthetic_data.recording import Recorded, Recorder
from synthetic_data.sinks import CsvSink, us_date
from synthetic_data.systems.base import SystemWriter, parent_ssn
from synthetic_data.timeline import Story

_EMPLOYERS = (
    "RIVERTON FOODS INC", "METRO TRANSIT", "QUICKMART #214", "BAYSIDE LOGISTICS LLC",
    "COUNTY HOSPITAL", "SUNRISE CONSTRUCTION", "GOLDEN STATE STAFFING", "FRESHWAY GROCERY",
    "ACE AUTO REPAIR", "HARBOR WAREHOUSE CO", "CITY CAB", "GREENLEAF LANDSCAPING",
)


class CsWriter(SystemWriter):
    system = "cs"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.members = CsvSink(self.dir / "fcr_persons.csv", (
            "case_id", "member_id", "participant_type", "first_name", "middle_name",
            "last_name", "name_suffix", "ssn", "birth_date", "sex", "case_type", "case_status",
            "case_open_date", "order_indicator", "family_violence", "ive_referral_indicator",
            "ive_referral_date", "ive_cw_case_id", "paternity_status", "paternity_date"))
        self.locate = CsvSink(self.dir / "locate.csv", (
            "locate_id", "member_id", "case_id", "address_line1", "city", "state", "zip",
            "employer_name", "date_reported"))
        self._member_seq = self._case_seq = self._locate_seq = 0
        # member ids of the current family's people, with how each was recorded
        self._members: dict[int, tuple[str, Recorded]] = {}
        self.latest_locate: dict[int, tuple[str, str, int]] = {}  # pid -> (address, employer, day)
        self.locates: dict[int, list[tuple[str, int]]] = {}  # pid -> [(locate id, day)]

    def begin_family(self) -> None:
        super().begin_family()
        self._members = {}
        self.latest_locate = {}
        self.locates = {}

    def member_id(self, pid: int) -> str:
        """The member id this family's person first got in child support ('' if none)."""
        known = self._members.get(pid)
        return known[0] if known else ""

    def _member(self, story: Story, person: Person, day: int,
                recorder: Recorder) -> tuple[str, Recorded]:
        known = self._members.get(person.pid)
        if known is not None and recorder.rnd.random() >= self.c.coverage.cs_duplicate:
            return known
        self._member_seq += 1
        member_id = f"{self._member_seq:010d}"
        rec = recorder.record(person, day, "cs", parent_ssn(story, person))
        self._members.setdefault(person.pid, (member_id, rec))
        self.log(member_id, person, rec)
        return member_id, rec

    def write(self, story: Story, recorder: Recorder) -> None:
        fam, rnd = story.family, recorder.rnd
        cw_case = story.cw.case_id if story.cw else ""
        for case in story.cs:
            self._case_seq += 1
            case.case_id = f"CS{self._case_seq:09d}"
            common = ("F", "OPEN", us_date(case.opened), "Y" if case.order else "N")
            roles: list[tuple[Person, str]] = [(case.custodial, "CP")]
            if case.father is not None:
                roles.append((case.father, "PF" if case.putative else "NP"))
            roles += [(child, "CH") for child in case.children]
            for person, ptype in roles:
                member_id, rec = self._member(story, person, case.opened, recorder)
                referral = case.ive_referrals.get(person.pid)
                ive = ("Y", us_date(referral), cw_case) if referral is not None else (
                    ("N", "", "") if ptype == "CH" else ("", "", ""))
                violence = "Y" if ptype == "CP" and rnd.random() < 0.03 else ""
                case.family_violence = case.family_violence or violence == "Y"
                status, established = case.paternity.get(person.pid, ("", None)) \
                    if ptype == "CH" else ("", None)
                self.members.write((
                    case.case_id, member_id, ptype, rec.first, rec.middle, rec.last, rec.suffix,
                    rec.ssn, us_date(rec.dob), person.sex, *common, violence, *ive, status,
                    us_date(established)))
                if ptype in ("NP", "PF"):
                    self._locate(fam, case.case_id, member_id, person, case.opened, rnd)

    def _locate(self, fam: Family, case_id: str, member_id: str, person: Person, opened: int,
                rnd: random.Random) -> None:
        end = opened + 3650
        for _ in range(rnd.randint(0, 3)):
            day = rnd.randrange(opened, end)
            if day >= self.end:
                continue
            addr = fam.address_on(day, person)
            if addr is None:
                continue
            employer = rnd.choice(_EMPLOYERS) if rnd.random() < 0.6 else ""
            self._locate_seq += 1
            self.locate.write((f"L{self._locate_seq:09d}", member_id, case_id, addr.line,
                               addr.city, "XX", addr.zip, employer, us_date(day)))
            self.locates.setdefault(person.pid, []).append((f"L{self._locate_seq:09d}", day))
            best = self.latest_locate.get(person.pid)
            if best is None or day > best[2]:
                self.latest_locate[person.pid] = (addr.line, employer, day)

    def close(self) -> dict[str, int]:
        for sink in (self.members, self.locate):
            sink.close()
        return {f"cs/{s.path.name}": s.rows for s in (self.members, self.locate)}
