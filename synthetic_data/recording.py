"""How a caseworker's keyboard turns a true person into a system's person record.

Every error a real extract carries is applied here, at the rate `configs/synthetic.yaml` sets,
and labelled, so that accuracy can later be measured per hard case.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from linkage.nicknames import nicknames_of
from synthetic_data.config import HardCases
from synthetic_data.population import Person

PLACEHOLDER_SSNS = ("000000000", "123456789", "999999999", "078051120")
PLACEHOLDER_DOB = date(1900, 1, 1).toordinal()
ADULT_AGE_DAYS = int(18 * 365.25)


@dataclass
class Recorded:
    """A person as one system wrote them down."""

    first: str
    middle: str
    last: str
    suffix: str
    dob: int | None
    ssn: str  # "" when missing
    dob_quality: int = 1  # HUD codes: 1 full, 2 approximate/partial, 8/9/99 missing
    ssn_quality: int = 1
    labels: set[str] = field(default_factory=set)


def _compound_form(surname: str, rnd: random.Random) -> str:
    """A two-part surname written whole, hyphenated, squashed or with one part only."""
    first, second = surname.split(" ", 1)
    return rnd.choice((f"{first} {second}", f"{first}-{second}", f"{first}{second}", first,
                       second if rnd.random() < 0.2 else first))


def _valid(y: int, m: int, d: int) -> int | None:
    try:
        return date(y, m, d).toordinal()
    except ValueError:
        return None


NAME_LABELS = frozenset({"nickname", "name_swap", "surname_change", "compound_surname"})


class Recorder:
    """Applies the hard cases to records and keeps the tally that proves their rates.

    For each hard case it counts the records that could have had it (`eligible`), the sum of the
    probabilities used (`expected`) and the records that got it (`hits`): a test can then check
    hits against expected with a binomial tolerance, whatever mix of rates applied.
    """

    def __init__(self, rates: HardCases, rnd: random.Random) -> None:
        self.r = rates
        self.rnd = rnd
        self.nicks = nicknames_of()
        self.eligible: Counter[str] = Counter()
        self.expected: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def _chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def _roll(self, label: str, p: float) -> bool:
        self.eligible[label] += 1
        self.expected[label] += p
        return self.rnd.random() < p

    def _pick(self, cases: list[tuple[str, float]]) -> str | None:
        """At most one of mutually exclusive problems: one roll cut into intervals."""
        roll, floor, chosen = self.rnd.random(), 0.0, None
        for label, p in cases:
            self.eligible[label] += 1
            self.expected[label] += p
            if chosen is None and floor <= roll < floor + p:
                chosen = label
            floor += p
        return chosen

    def _hit(self, rec: Recorded, label: str) -> None:
        rec.labels.add(label)
        self.hits[label] += 1

    def record(self, person: Person, day: int, system: str,
               parent_ssn: str | None = None, *, names: bool = True) -> Recorded:
        """`person` as `system` records them on `day` (names and age as of that day).

        `names=False` is for systems that keep no names (the TANF data report).
        """
        rnd, r = self.rnd, self.r
        is_child = day - person.dob < ADULT_AGE_DAYS
        if not names:
            rec = Recorded("", "", "", "", person.dob, person.ssn,
                           labels=set(person.labels) - NAME_LABELS)
        else:
            last = person.surname_on(day)
            if " " in last:
                last = _compound_form(last, rnd)
            rec = Recorded(person.first, person.middle, last, person.suffix, person.dob,
                           person.ssn, labels=set(person.labels))
            nicks = self.nicks.get(person.first)
            if nicks and not is_child and self._roll("nickname", r.nickname):
                short = [n for n in nicks if len(n) < len(person.first)] or list(nicks)
                rec.first = rnd.choice(short)
                self._hit(rec, "nickname")
            if rec.middle and self._roll("name_swap", r.name_swap):
                rec.first, rec.middle = rec.middle, rec.first
                self._hit(rec, "name_swap")
        self._dob(rec, person, system, day)
        self._ssn(rec, system, is_child, parent_ssn)
        return rec

    def _dob(self, rec: Recorded, person: Person, system: str, day: int) -> None:
        r, rnd = self.r, self.rnd
        cases = [("dob_missing", r.dob_missing), ("dob_placeholder", r.dob_placeholder),
                 ("dob_error", r.dob_error)]
        if system == "hmis":
            cases.append(("dob_approximate", r.dob_approximate))
        chosen = self._pick(cases)
        y, m, d = date.fromordinal(person.dob).timetuple()[:3]
        if chosen == "dob_missing":
            rec.dob, rec.dob_quality = None, rnd.choice((8, 9, 99))
            self._hit(rec, chosen)
        elif chosen == "dob_placeholder":
            rec.dob = PLACEHOLDER_DOB if self._chance(0.5) else date(y, 1, 1).toordinal()
            if rec.dob != person.dob:
                self._hit(rec, chosen)
        elif chosen == "dob_error":
            # A worker cannot type a birth after the day they type it: try again if so.
            for _ in range(5):
                wrong = self._wrong_dob(y, m, d)
                if wrong is not None and wrong != person.dob and wrong <= day:
                    rec.dob = wrong
                    self._hit(rec, chosen)
                    break
        elif chosen == "dob_approximate":
            rec.dob = _valid(y, m, 1) if d != 1 else _valid(y, m, 15)
            rec.dob_quality = 2
            self._hit(rec, chosen)

    def _wrong_dob(self, y: int, m: int, d: int) -> int | None:
        kind = self.rnd.random()
        if kind < 0.35 and d <= 12 and d != m:
            return _valid(y, d, m)  # day and month swapped
        if kind < 0.65:
            return _valid(y + self.rnd.choice((-1, 1)), m, d)  # year off by one
        text = f"{y:04d}{m:02d}{d:02d}"
        for _ in range(10):  # one digit of year's end, month or day typed wrong, a real date
            i = self.rnd.randrange(3, 8)
            digit = str(self.rnd.randrange(10))
            if digit == text[i]:
                continue
            t = text[:i] + digit + text[i + 1:]
            got = _valid(int(t[:4]), int(t[4:6]), int(t[6:]))
            if got is not None:
                return got
        return None

    def _ssn(self, rec: Recorded, system: str, is_child: bool, parent_ssn: str | None) -> None:
        r, rnd = self.r, self.rnd
        if system == "tanf":
            missing = r.ssn_missing_tanf
        elif system == "hmis":
            missing = r.ssn_missing_hmis_child if is_child else r.ssn_missing_hmis_adult
        else:
            missing = r.ssn_missing_child if is_child else r.ssn_missing_adult
        if self._roll("ssn_missing", missing):
            rec.ssn, rec.ssn_quality = "", rnd.choice((8, 9, 99))
            self._hit(rec, "ssn_missing")
            return
        cases = [("ssn_placeholder", r.ssn_placeholder), ("ssn_error", r.ssn_error)]
        if is_child and parent_ssn:
            cases.append(("ssn_of_parent", r.ssn_of_parent))
        chosen = self._pick(cases)
        if chosen == "ssn_placeholder":
            rec.ssn = rnd.choice(PLACEHOLDER_SSNS)
            rec.ssn_quality = 2 if system == "hmis" and rnd.random() < 0.5 else 1
        elif chosen == "ssn_error":
            rec.ssn = self._wrong_ssn(rec.ssn)
        elif chosen == "ssn_of_parent":
            rec.ssn = parent_ssn or ""
        if chosen is not None:
            self._hit(rec, chosen)

    def _wrong_ssn(self, ssn: str) -> str:
        digits = list(ssn)
        if self._chance(0.5):
            i = self.rnd.randrange(8)
            while digits[i] == digits[i + 1]:
                i = (i + 1) % 8
                if all(d == digits[0] for d in digits):
                    break
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        else:
            i = self.rnd.randrange(9)
            digits[i] = str((int(digits[i]) + self.rnd.randrange(1, 10)) % 10)
        return "".join(digits)
