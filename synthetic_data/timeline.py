"""What happens to a family in each system: the cases, removals, shelter stays and TANF months.

Planned once per family, before any system writes a record, because the systems' stories
depend on each other (a removal in child welfare should trigger a referral in child support)
and the true answers to the program staff's questions are read off this plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from synthetic_data.config import SyntheticConfig
from synthetic_data.population import DAYS_PER_YEAR, Family, Person

ADULT_DAYS = int(18 * DAYS_PER_YEAR)


@dataclass
class Removal:
    child: Person
    start: int
    end: int | None  # None: still in foster care at the extract
    reason: str
    discharge_reason: str  # "" while in care
    placements: list[tuple[int, int | None, str, Person | None]] = field(default_factory=list)
    good_cause: int | None = None  # the day CW found good cause not to refer the child to CS
    tpr: int | None = None  # the day the court terminated the parents' rights
    removal_id: str = ""
    placement_ids: list[str] = field(default_factory=list)  # as written, in order

    def covers(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class CwCase:
    opened: int
    closed: int | None
    children: list[Person]
    fathers: list[Person]  # fathers who are participants on the case
    caregiver: Person | None
    goal: str
    removals: list[Removal]
    case_id: str = ""
    father_types: dict[int, str] = field(default_factory=dict)  # father pid -> as written

    def open_on(self, day: int) -> bool:
        return self.opened <= day and (self.closed is None or day <= self.closed)


@dataclass
class CsCase:
    opened: int
    custodial: Person
    father: Person | None
    putative: bool  # paternity not established: the father is a PF, not an NP
    children: list[Person]
    order: bool
    ive_referrals: dict[int, int]  # child pid -> date the IV-E foster-care referral arrived
    # child pid -> (status, day): E established (acknowledged or by CS) on day, P presumed
    # (the mother's husband), N not established (a putative father)
    paternity: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    case_id: str = ""
    family_violence: bool = False  # as written on the custodial party's row


@dataclass
class Stay:
    entry: int
    exit: int | None
    members: list[tuple[Person, int]]  # (person, RelationshipToHoH)
    household_id: str = ""
    project_type: int = -1  # HUD ProjectType of the project the household entered
    entry_situation: int | None = None  # the head's LivingSituation at entry


@dataclass
class TanfSpell:
    start: int
    report_month: int  # ordinal of the first day of the reported month
    adults: list[tuple[Person, str]]  # (person, RELATIONSHIP_HOH code)
    children: list[Person]
    case_number: str = ""


@dataclass
class Story:
    family: Family
    cw: CwCase | None
    cs: list[CsCase]
    stays: list[Stay]
    tanf: TanfSpell | None


_REMOVAL_REASONS = ("NEGLECT", "PHYSICAL_ABUSE", "PARENT_DRUG_ABUSE", "INADEQUATE_HOUSING",
                    "CAREGIVER_INABILITY_TO_COPE", "ABANDONMENT", "SEXUAL_ABUSE")
_GOALS = ("REUNIFICATION", "ADOPTION", "GUARDIANSHIP", "LIVE_WITH_RELATIVE",
          "MAINTAIN_IN_HOME", "PLANNED_PERMANENT_LIVING_ARRANGEMENT")


def _month_start(day: int) -> int:
    d = date.fromordinal(day)
    return date(d.year, d.month, 1).toordinal()


class Planner:
    def __init__(self, config: SyntheticConfig, rnd: random.Random, start: int, end: int,
                 events: random.Random):
        self.c = config
        self.rnd = rnd
        # Draws for the events added after the rest (paternity, TPR, good cause, moves to
        # kin) come from their own stream, so that adding them left every earlier draw, and so
        # the extracts' people and records, as they were.
        self.events = events
        self.start, self.end = start, end

    def _chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def _between(self, lo: int, hi: int) -> int:
        return lo if hi <= lo else self.rnd.randrange(lo, hi)

    def plan(self, fam: Family) -> Story:
        if not fam.children:  # only the trimmed last family of a run can be childless
            return Story(fam, None, [], self._stays(fam, None), None)
        cw = self._cw(fam) if fam.in_cw else None
        return Story(fam, cw, self._cs(fam, cw) if fam.in_cs else [], self._stays(fam, cw),
                     self._tanf(fam, cw) if fam.in_tanf else None)

    def _minors_on(self, fam: Family, day: int, cw: CwCase | None = None) -> list[Person]:
        """Children under 18 on `day` living at home (not in foster care under `cw`)."""
        away = {r.child.pid for r in cw.removals if r.covers(day)} if cw else set()
        return [c for c in fam.children
                if c.dob <= day and day - c.dob < ADULT_DAYS and c.pid not in away]

    def _cw(self, fam: Family) -> CwCase | None:
        cov = self.c.coverage
        opened = self._between(max(self.start, fam.children[0].dob + 30), self.end - 30)
        children = self._minors_on(fam, opened)
        if not children:
            return None
        closed = None
        if not self._chance(cov.cw_case_open_at_extract):
            closed = min(opened + 60 + int(self.rnd.expovariate(1 / 420)), self.end - 1)
        fathers = [f for f in fam.fathers
                   if any(c.father == f.pid for c in children)
                   and self._chance(cov.cw_father_participant)]
        last = closed if closed is not None else self.end - 1
        # Siblings are usually removed together, on one date and for one reason.
        group_day = self._between(opened, max(opened + 1, last - 20))
        group_reason = self.rnd.choice(_REMOVAL_REASONS)
        goal = "REUNIFICATION" if self._chance(0.65) else self.rnd.choice(_GOALS)
        removals = []
        for child in children:
            if not self._chance(cov.cw_child_removed):
                continue
            together = self._chance(0.85)
            start = group_day if together else self._between(opened, max(opened + 1, last - 20))
            eighteen = child.dob + ADULT_DAYS
            if start >= eighteen - 30:
                continue
            end = None
            if closed is not None:
                end = self._between(start + 7, closed + 1)
            elif self._chance(0.4):
                end = self._between(start + 7, self.end)
            if (end is None and eighteen < self.end) or (end is not None and end > eighteen):
                end = eighteen  # aged out of care
            reason = group_reason if together else self.rnd.choice(_REMOVAL_REASONS)
            removal = Removal(child, start, end, reason, self._discharge(goal, start, end,
                                                                          eighteen))
            kin = fam.caregiver is not None and self._chance(cov.kinship_placement)
            if kin:
                removal.placements.append((start, end, "RELATIVE_FOSTER_HOME", fam.caregiver))
            else:
                middle = self._between(start + 1, (end or self.end) + 1)
                if self._chance(0.4) and middle < (end or self.end) - 30:
                    removal.placements.append((start, middle, "EMERGENCY_SHELTER_CARE", None))
                    removal.placements.append((middle + 1, end, "FOSTER_FAMILY_HOME", None))
                else:
                    removal.placements.append((start, end, "FOSTER_FAMILY_HOME", None))
            removals.append(removal)
        if not removals:
            goal = "MAINTAIN_IN_HOME"
        caregiver = fam.caregiver if fam.caregiver is not None and (
            any(p[3] is fam.caregiver for r in removals for p in r.placements)
            or self._chance(0.3)) else None
        for removal in removals:
            self._removal_events(removal, goal, caregiver)
        return CwCase(opened, closed, children, fathers, caregiver, goal, removals)

    def _removal_events(self, removal: Removal, goal: str, caregiver: Person | None) -> None:
        """What may happen during a removal besides its placements: a move to the kinship
        caregiver on the case, good cause not to refer to CS, parental rights terminated."""
        cov, ev = self.c.coverage, self.events
        last = (removal.end if removal.end is not None else self.end) - 1
        begin, end, setting, kin = removal.placements[-1]
        if caregiver is not None and kin is None and ev.random() < cov.moves_to_kin:
            move = begin + 30 + int(ev.expovariate(1 / 120))
            if move < last:
                removal.placements[-1] = (begin, move - 1, setting, None)
                removal.placements.append((move, end, "RELATIVE_FOSTER_HOME", caregiver))
        if ev.random() < cov.ive_good_cause:
            day = removal.start + ev.randint(5, 60)
            removal.good_cause = day if day < last else None
        if goal == "ADOPTION" and ev.random() < cov.tpr_given_adoption_goal:
            day = removal.start + ev.randint(270, 720)  # ASFA: petition by 15 of 22 months
            removal.tpr = day if day < last else None

    def _discharge(self, goal: str, start: int, end: int | None, eighteen: int) -> str:
        """Why care ended, in keeping with the case goal and how long care lasted."""
        if end is None:
            return ""
        if end == eighteen:
            return "EMANCIPATION"
        days = end - start
        if goal == "ADOPTION" and days > 365:
            return "ADOPTION"
        if goal == "GUARDIANSHIP" and days > 180:
            return "GUARDIANSHIP"
        if goal in ("LIVE_WITH_RELATIVE", "GUARDIANSHIP"):
            return "LIVING_WITH_OTHER_RELATIVES"
        return "REUNIFICATION"

    def _cs(self, fam: Family, cw: CwCase | None) -> list[CsCase]:
        cov = self.c.coverage
        cases = []
        slots: dict[int | None, list[Person]] = {}
        for child in fam.children:
            slots.setdefault(child.father, []).append(child)
        fathers = {f.pid: f for f in fam.fathers}
        removals = {r.child.pid: r for r in cw.removals} if cw else {}
        for father_pid, kids in slots.items():
            opened = self._between(max(self.start, kids[0].dob + 30), self.end - 30)
            on_case = [k for k in kids if k.dob <= opened]
            if not on_case:
                continue
            custodial = fam.mother
            if fam.caregiver is not None and self._chance(0.3):
                custodial = fam.caregiver
            referrals = {}
            for kid in on_case:
                removal = removals.get(kid.pid)
                if removal is not None and self._chance(cov.ive_referral_when_removed):
                    arrived = removal.start + self.rnd.randrange(10, 90)
                    if arrived < self.end:  # a referral still in the mail is not on file
                        referrals[kid.pid] = arrived
            father = fathers.get(father_pid) if father_pid is not None else None
            putative = father is not None and fam.married_on is None and self._chance(0.25)
            case = CsCase(opened, custodial, father, putative, on_case,
                          self._chance(cov.cs_order), referrals)
            if father is not None:
                case.paternity = {kid.pid: self._paternity(fam, case, kid) for kid in on_case}
            if opened >= self.end:  # a child born in the last month: no case on file yet
                continue  # (drawn all the same, so that the other families stay as they were)
            cases.append(case)
        return cases

    def _paternity(self, fam: Family, case: CsCase, kid: Person) -> tuple[str, int | None]:
        """How the child's paternity stands on the CS case: not established for a putative
        father; presumed for the mother's husband; else acknowledged at birth or established
        by CS within a year of the case opening."""
        if case.putative:
            return "N", None
        if fam.married_on is not None and case.father is fam.fathers[0]:
            return "P", None
        if self.events.random() < self.c.coverage.paternity_acknowledged_at_birth:
            return "E", min(kid.dob + self.events.randint(0, 2), self.end - 1)
        lo = max(case.opened, kid.dob + 30)
        hi = min(lo + 365, self.end)
        return "E", min(self.events.randrange(lo + 30, hi) if hi > lo + 30 else lo, self.end - 1)

    def _stays(self, fam: Family, cw: CwCase | None) -> list[Stay]:
        stays = []
        for begin, finish in fam.homeless:
            mean = self.c.coverage.hmis_enrollments_mean
            n = max(1, min(6, round(self.rnd.expovariate(1 / mean))))
            day = begin
            for _ in range(n):
                if day >= min(finish, self.end - 1):
                    break
                leave = min(day + 7 + int(self.rnd.expovariate(1 / 90)), finish)
                exit_day = None if leave >= self.end - 1 else leave
                members: list[tuple[Person, int]] = [(fam.mother, 1)]
                members += [(c, 2) for c in self._minors_on(fam, day, cw)]
                together = fam.split_on is None or day < fam.split_on
                if fam.fathers and together and self._chance(0.6):
                    members.append((fam.fathers[0], 3))
                if fam.caregiver is not None and self._chance(0.2):
                    members.append((fam.caregiver, 4))
                stays.append(Stay(day, exit_day, members))
                day = leave + 1 + self.rnd.randrange(0, 30)
        return stays

    def _tanf(self, fam: Family, cw: CwCase | None) -> TanfSpell | None:
        start = self._between(max(self.start, fam.children[0].dob + 30), self.end - 40)
        kids = self._minors_on(fam, start)
        if not kids:
            return None
        months = 1 + int(self.rnd.expovariate(1 / self.c.coverage.tanf_months_mean))
        report = _month_start(min(start + int(months * 30.4), self.end - 1))
        adults: list[tuple[Person, str]] = [(fam.mother, "01")]
        if fam.fathers and (fam.split_on is None or report < fam.split_on):
            adults.append((fam.fathers[0], "02"))
        kids = self._minors_on(fam, report, cw)
        if not kids:
            return None
        return TanfSpell(start, report, adults, kids)
