"""How a caseworker's keyboard turns a true person into a system's person record.

Every error a real extract carries is applied here, at the rate `configs/synthetic.yaml` sets,
and labelled, so that accuracy can later be measured per hard case.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from linkage.nicknames import nicknames_of
from synthetic_data.config import HardCases
from synthetic_data.name_frequencies import first_name_tables
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


def _compound_form(surname: str, rnd: random.Random, joined: bool) -> str:
    """A two-part surname as a record writes it.

    `joined` (the record's `hyphen_space_variant`) writes the parts hyphenated or squashed;
    otherwise the record keeps the space or, as clerks often do, only one part (mostly the
    paternal first). Given `joined` at rate 0.4 these are the five forms this function has always
    drawn alike: whole, hyphenated, squashed, first part, first part or (one time in five) second.
    """
    first, second = surname.split(" ", 1)
    if joined:
        return f"{first}-{second}" if rnd.random() < 0.5 else f"{first}{second}"
    roll = rnd.random()
    return f"{first} {second}" if roll < 1 / 3 else first if roll < 14 / 15 else second


# Second elements of compound given names (MARY ANN, ROSE MARIE, JO ANN, JUAN CARLOS). The SSA
# counts the names come from write such names squashed (MARYANN), so a name is taken as two-part
# when it ends in one of these and starts with a common given name of the same sex. Any two
# names would split CHRISTINA into CHRIS TINA and JILLIAN into JILL IAN; BETH is left out because
# ELIZABETH is not ELIZA BETH; heads must be common or JULI and CHRISTI would split JULIANNE.
_SECOND_PARTS = frozenset({
    "ANN", "ANNE", "ANNA", "MARIE", "MARIA", "MARY", "JANE", "JEAN", "ELLEN", "LYNN",
    "LEE", "LOU", "LOUISE", "ROSE", "KAY", "JO", "PAUL", "MICHAEL", "ANTHONY", "CARLOS", "LUIS",
    "JOSE", "ANTONIO", "MANUEL", "PABLO", "ANGEL", "DAVID", "MIGUEL",
})
_COMMON_FIRST_PARTS = 120  # per sex, birth-year bucket and group: the heads that compound


@cache
def two_part_given_names() -> dict[tuple[str, str], tuple[str, str]]:
    """(sex, squashed name) -> its two parts, for every first name the generator can draw that
    is a compound given name (MARYANN -> MARY, ANN)."""
    names: dict[str, set[str]] = {"F": set(), "M": set()}
    common: dict[str, set[str]] = {"F": set(), "M": set()}
    for (sex, _, _), table in first_name_tables().items():
        names[sex].update(table.names.tolist())
        common[sex].update(table.names[:_COMMON_FIRST_PARTS].tolist())
    parts = {}
    for sex, drawn in names.items():
        for name in drawn:
            for cut in range(2, len(name) - 1):
                head, tail = name[:cut], name[cut:]
                if tail in _SECOND_PARTS and head in common[sex]:
                    parts[(sex, name)] = (head, tail)
                    break
    return parts


def _keyboard_neighbours() -> dict[str, str]:
    """Each letter's neighbours on a QWERTY keyboard (rows staggered as on a real one): the keys
    a slipped finger strikes instead of, or with, the one meant."""
    rows, offsets = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"), (0.0, 0.25, 0.75)
    at = {key: (r, c + offsets[r]) for r, row in enumerate(rows) for c, key in enumerate(row)}
    return {key: "".join(k for k, (r2, x2) in at.items() if k != key and (
        (r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) <= 0.75)))
        for key, (r, x) in at.items()}


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()


def _typo(name: str, rnd: random.Random) -> str:
    """`name` with one keystroke gone wrong, always different from `name`.

    The four single errors Damerau (1964) found behind over 80% of misspelt words, drawn alike:
    a neighbouring key struck with the intended one (insertion), a letter dropped (deletion), a
    neighbouring key struck instead (substitution), two adjacent letters swapped (transposition).
    """
    letters = [i for i, ch in enumerate(name) if ch in KEYBOARD_NEIGHBOURS]
    i = rnd.choice(letters)
    kind = rnd.randrange(4)
    if kind == 0:
        at = i + rnd.randrange(2)  # the extra key lands before or after the one meant
        return name[:at] + rnd.choice(KEYBOARD_NEIGHBOURS[name[i]]) + name[at:]
    if kind == 1 and len(name) > 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        pairs = [j for j in range(len(name) - 1) if name[j] != name[j + 1]
                 and name[j] in KEYBOARD_NEIGHBOURS and name[j + 1] in KEYBOARD_NEIGHBOURS]
        if pairs:
            j = rnd.choice(pairs)
            return name[:j] + name[j + 1] + name[j] + name[j + 2:]
    return name[:i] + rnd.choice(KEYBOARD_NEIGHBOURS[name[i]]) + name[i + 1:]


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
        self.given_parts = two_part_given_names()
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
        is_child = day - person.dob < ADULT_AGE_DAYS
        if not names:
            rec = Recorded("", "", "", "", person.dob, person.ssn,
                           labels=set(person.labels) - NAME_LABELS)
        else:
            rec = Recorded(person.first, person.middle, person.surname_on(day), person.suffix,
                           person.dob, person.ssn, labels=set(person.labels))
            self._names(rec, person, is_child)
        self._dob(rec, person, system, day)
        self._ssn(rec, system, is_child, parent_ssn)
        return rec

    def _names(self, rec: Recorded, person: Person, is_child: bool) -> None:
        """The name errors, in the order a record acquires them: the name the person gives
        (nickname, middle name first), the form the clerk writes (two-part names joined or
        spaced, middle left blank), then one slip at most (typo, initial, given and surname
        exchanged)."""
        r, rnd = self.r, self.rnd
        nicks = self.nicks.get(person.first)
        if nicks and not is_child and self._roll("nickname", r.nickname):
            short = [n for n in nicks if len(n) < len(person.first)] or list(nicks)
            rec.first = rnd.choice(short)
            self._hit(rec, "nickname")
        if rec.middle and self._roll("name_swap", r.name_swap):
            rec.first, rec.middle = rec.middle, rec.first
            self._hit(rec, "name_swap")
        compound = " " in rec.last
        given = self.given_parts.get((person.sex, rec.first))
        if compound or given:
            joined = self._roll("hyphen_space_variant", r.hyphen_space_variant)
            if compound:
                rec.last = _compound_form(rec.last, rnd, joined)
            if given and joined:
                rec.first = f"{given[0]}{rnd.choice(' -')}{given[1]}"
            if joined:
                self._hit(rec, "hyphen_space_variant")
        if rec.middle and self._roll("middle_missing", r.middle_missing):
            rec.middle = ""
            self._hit(rec, "middle_missing")
        if len(rec.first) < 2:
            return
        slip = self._pick([("first_name_typo", r.first_name_typo),
                           ("first_initial", r.first_initial),
                           ("first_last_swap", r.first_last_swap)])
        if slip == "first_name_typo":
            rec.first = _typo(rec.first, rnd)
        elif slip == "first_initial":
            rec.first = rec.first[0]
        elif slip == "first_last_swap":
            rec.first, rec.last = rec.last, rec.first
        if slip is not None:
            self._hit(rec, slip)

    def _dob(self, rec: Recorded, person: Person, system: str, day: int) -> None:
        r, rnd = self.r, self.rnd
        cases = [("dob_missing", r.dob_missing), ("dob_placeholder", r.dob_placeholder),
                 ("dob_error", r.dob_error), ("dob_off_by_one_day", r.dob_off_by_one_day)]
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
        elif chosen == "dob_off_by_one_day":
            # A date keyed a day out, or shifted a day by a midnight time-zone conversion; never
            # past the day it is recorded.
            rec.dob = person.dob + rnd.choice((-1, 1))
            if rec.dob > day:
                rec.dob = person.dob - 1
            self._hit(rec, chosen)
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
