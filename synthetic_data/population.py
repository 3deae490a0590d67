"""The true population: people, the families they form and what happens to them over ten years.

This is the ground truth every later stage is measured against, so it is built before, and
independently of, any system's view of it. Dates are proleptic Gregorian ordinals (ints) because
the generator handles millions of them and `date` objects are only needed when writing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from synthetic_data.config import SyntheticConfig
from synthetic_data.name_frequencies import (
    GROUPS,
    Table,
    bucket_of,
    first_name_tables,
    surname_tables,
)

DAYS_PER_YEAR = 365.25
# Valid SSNs: area 001-899 except 666, group 01-99, serial 0001-9999. A keyed permutation of
# this space gives every person a distinct SSN that says nothing about who was made next to whom
# (an arithmetic sequence would let a matcher rebuild families from SSNs alone).
_AREAS = [a for a in range(1, 900) if a != 666]
_SSN_SPACE = len(_AREAS) * 99 * 9999
_HALF_BITS = 15  # a 30-bit Feistel network covers the space (2**30 > 888,951,102)
_HALF_MASK = (1 << _HALF_BITS) - 1


def _feistel(x: int, key: int) -> int:
    left, right = x >> _HALF_BITS, x & _HALF_MASK
    for round_ in range(4):
        mixed = (right * 0x9E3779B1 + key * 0x85EBCA77 + round_ * 0xC2B2AE3D) & 0xFFFFFFFF
        mixed ^= mixed >> 15
        left, right = right, left ^ (mixed & _HALF_MASK)
    return (left << _HALF_BITS) | right


def ssn_for(index: int, seed: int) -> str:
    """A valid-looking SSN unique to `index` among all persons of one seed."""
    k = _feistel(index, seed)
    while k >= _SSN_SPACE:  # cycle-walk back into the space: still a bijection
        k = _feistel(k, seed)
    area, rest = divmod(k, 99 * 9999)
    group, serial = divmod(rest, 9999)
    return f"{_AREAS[area]:03d}{group + 1:02d}{serial + 1:04d}"


@dataclass
class Person:
    pid: int
    family_id: int
    role: str  # mother, father, child, grandmother, aunt
    sex: str  # F or M
    dob: int
    first: str
    middle: str
    surname: str  # at birth (a compound surname is written whole, parts separated by a space)
    ssn: str
    group: str
    suffix: str = ""
    # (from ordinal, surname) after birth: marriage, separation
    surname_changes: list[tuple[int, str]] = field(default_factory=list)
    mother: int | None = None
    father: int | None = None
    twin_of: int | None = None
    jr_of: int | None = None
    labels: set[str] = field(default_factory=set)  # person-level hard cases

    def surname_on(self, day: int) -> str:
        name = self.surname
        for since, new in self.surname_changes:
            if day >= since:
                name = new
        return name

    @property
    def current_surname(self) -> str:
        return self.surname_changes[-1][1] if self.surname_changes else self.surname


@dataclass
class Address:
    line: str
    city: str
    zip: str
    shelter: bool = False


@dataclass
class Family:
    family_id: int
    group: str
    mother: Person
    fathers: list[Person]  # known fathers, in order of the children they had
    children: list[Person]
    caregiver: Person | None
    low_income: bool
    # (from ordinal, address) for the mother's household; None means no fixed address
    addresses: list[tuple[int, Address | None]]
    father_addresses: dict[int, list[tuple[int, Address | None]]]
    homeless: list[tuple[int, int]]  # periods of homelessness (start, end) of the household
    married_on: int | None  # to the first father
    split_on: int | None  # from the first father
    second_married_on: int | None  # to the second father
    in_cw: bool
    in_cs: bool
    in_tanf: bool

    @property
    def persons(self) -> list[Person]:
        members = [self.mother, *self.fathers]
        if self.caregiver is not None:
            members.append(self.caregiver)
        return members + self.children

    def address_on(self, day: int, father: Person | None = None) -> Address | None:
        history = self.addresses
        if father is not None and self.split_on is not None and day >= self.split_on:
            history = self.father_addresses[father.pid]
        current = history[0][1]
        for since, addr in history:
            if day >= since:
                current = addr
        return current


_STREETS = (
    "MAIN ST", "OAK AVE", "MAPLE ST", "CEDAR LN", "PINE ST", "ELM ST", "WASHINGTON AVE",
    "LINCOLN BLVD", "PARK AVE", "LAKE DR", "HILL ST", "RIVER RD", "CHURCH ST", "MARKET ST",
    "MLK JR WAY", "CESAR CHAVEZ AVE", "JEFFERSON ST", "FRANKLIN AVE", "MADISON ST", "GRANT AVE",
    "SUNSET BLVD", "HIGHLAND AVE", "VIEW ST", "SPRING ST", "MILL RD", "COLLEGE AVE",
    "BROADWAY", "CENTRAL AVE", "2ND ST", "3RD ST", "5TH AVE", "7TH ST", "12TH ST", "ORCHARD WAY",
)
_CITIES = (("RIVERTON", "94"), ("EAST RIVERTON", "94"), ("MILLBROOK", "95"), ("FAIRHAVEN", "95"))
def shelters(count: int) -> list[Address]:
    """The county's shelters: fixed addresses that many unrelated families give."""
    out = []
    for i in range(count):
        city, prefix = _CITIES[i % len(_CITIES)]
        out.append(Address(f"{100 + 37 * i} {_STREETS[(i * 5) % len(_STREETS)]}",
                           city, f"{prefix}{(i * 13) % 1000:03d}", shelter=True))
    return out


class NamePool:
    """Draws names in batches: one numpy call per 512 names instead of one per name."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._first = first_name_tables()
        self._last = surname_tables()
        self._buffers: dict[tuple, list[str]] = {}

    def _draw(self, key: tuple, table: Table) -> str:
        buf = self._buffers.get(key)
        if not buf:
            buf = self._buffers[key] = table.sample(self._rng, 512).tolist()
        return buf.pop()

    def first(self, sex: str, birth_year: int, group: str) -> str:
        bucket = bucket_of(birth_year)
        key = (sex, bucket, group)
        return self._draw(key, self._first[key])

    def surname(self, group: str) -> str:
        return self._draw((group,), self._last[group])


class PopulationBuilder:
    """Builds families one at a time from one chunk's random streams."""

    def __init__(self, config: SyntheticConfig, seed: int, chunk: int,
                 first_pid: int, first_family_id: int) -> None:
        self.c = config
        self.seed = seed
        self.rnd = random.Random(seed * 1_000_003 + chunk)
        self.names = NamePool(np.random.default_rng([seed, chunk]))
        self.next_pid = first_pid
        self.next_family = first_family_id
        self.start = date(config.window.start_year, 1, 1).toordinal()
        self.end = date(config.window.start_year + config.window.years, 1, 1).toordinal()
        self.shelters = shelters(config.hard_cases.shelters)
        groups = config.ethnicity.model_dump()
        self._groups = [g for g in GROUPS if groups[g] > 0]
        self._group_weights = [groups[g] for g in self._groups]

    # -- small helpers -------------------------------------------------------------------
    def _chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def _poisson(self, mean: float) -> int:
        # Knuth's method: means here are small (< 20).
        limit, k, prod = np.exp(-mean), 0, self.rnd.random()
        while prod > limit:
            k += 1
            prod *= self.rnd.random()
        return k

    def _day_between(self, lo: int, hi: int) -> int:
        return lo if hi <= lo else self.rnd.randrange(lo, hi)

    def _person(self, family_id: int, role: str, sex: str, dob: int, group: str,
                surname: str) -> Person:
        year = date.fromordinal(dob).year
        first = self.names.first(sex, year, group)
        middle = "" if self._chance(0.25) else self.names.first(sex, year, group)
        if middle == first:
            middle = ""
        pid = self.next_pid
        self.next_pid += 1
        return Person(pid, family_id, role, sex, dob, first, middle, surname,
                      ssn_for(pid, self.seed), group)

    def _surname(self, group: str) -> tuple[str, bool]:
        """A surname; for Hispanic people often a compound of two (paternal + maternal)."""
        first = self.names.surname(group)
        if group == "hispanic" and self._chance(self.c.hard_cases.compound_surname):
            second = self.names.surname(group)
            if second != first:
                return f"{first} {second}", True
        return first, False

    def _address(self) -> Address:
        city, prefix = self.rnd.choice(_CITIES)
        unit = f" APT {self.rnd.randint(1, 40)}" if self._chance(0.4) else ""
        return Address(f"{self.rnd.randint(10, 9999)} {self.rnd.choice(_STREETS)}{unit}",
                       city, f"{prefix}{self.rnd.randint(0, 999):03d}")

    # -- one family ----------------------------------------------------------------------
    def family(self) -> Family:
        c, f = self.c, self.c.family
        fid = self.next_family
        self.next_family += 1
        group = self.rnd.choices(self._groups, self._group_weights)[0]

        # Children: first birth placed so most of the family's childhood overlaps the window.
        first_birth = self._day_between(self.start - int(12 * DAYS_PER_YEAR), self.end - 60)
        age = self.rnd.randint(f.mother_age_first_birth_min, f.mother_age_first_birth_max)
        mother_dob = first_birth - int(age * DAYS_PER_YEAR) - self.rnd.randrange(365)
        n_births = min(max(1, self._poisson(f.children_mean)), f.children_max)
        births, day = [], first_birth
        last_birth = mother_dob + int(44 * DAYS_PER_YEAR)
        for _ in range(n_births):
            if day >= self.end or day > last_birth:
                break
            births.append(day)
            day += int(self.rnd.expovariate(1 / f.birth_spacing_years_mean) * DAYS_PER_YEAR) + 300

        mother_surname, compound = self._surname(group)
        mother = self._person(fid, "mother", "F", mother_dob, group, mother_surname)
        if compound:
            mother.labels.add("compound_surname")

        # Fathers: a second father for the later births.
        split_index = len(births)
        if len(births) >= 2 and self._chance(f.second_father):
            split_index = self.rnd.randint(1, len(births) - 1)
        father_slots: list[Person | None] = []
        for slot in range(2 if split_index < len(births) else 1):
            first_child_day = births[0 if slot == 0 else split_index]
            if not self._chance(f.father_known):
                father_slots.append(None)
                continue
            fgroup = group if self._chance(0.85) else self.rnd.choices(
                self._groups, self._group_weights)[0]
            fdob = mother_dob + int(self.rnd.gauss(2.5, 4) * DAYS_PER_YEAR)
            fdob = min(fdob, first_child_day - int(16 * DAYS_PER_YEAR))
            fsurname, fcompound = self._surname(fgroup)
            father = self._person(fid, "father", "M", fdob, fgroup, fsurname)
            if fcompound:
                father.labels.add("compound_surname")
            father_slots.append(father)
        fathers = [p for p in father_slots if p is not None]

        # Couple history with the first father: split, marriage before it, surname changes.
        married_on = split_on = second_married_on = None
        partner = father_slots[0]
        adult = mother_dob + int(18 * DAYS_PER_YEAR)
        if partner is not None:
            if split_index < len(births) or self._chance(f.split):
                lo = births[split_index - 1] + 60
                hi = births[split_index] - 280 if split_index < len(births) else self.end
                split_on = self._day_between(lo, max(hi, lo + 1))
            lo, hi = max(births[0] - 730, adult), min(births[0] + 1500, split_on or self.end)
            if lo < hi and self._chance(f.married):
                married_on = self._day_between(lo, hi)
                if self._chance(f.takes_husband_surname):
                    mother.surname_changes.append((married_on, partner.surname.split(" ")[0]))
                    if split_on is not None and self._chance(f.reverts_surname_after_split):
                        mother.surname_changes.append((split_on + 200, mother.surname))
        if len(fathers) == 2 and self._chance(f.married * 0.5):
            second_married_on = births[split_index] + self.rnd.randrange(0, 1000)
            if second_married_on >= self.end:
                second_married_on = None
            elif self._chance(f.takes_husband_surname):
                mother.surname_changes.append((second_married_on,
                                               fathers[1].surname.split(" ")[0]))
        mother.surname_changes.sort(key=lambda change: change[0])
        if mother.surname_changes:
            mother.labels.add("surname_change")

        # Children.
        children: list[Person] = []
        for i, born in enumerate(births):
            father = father_slots[0 if i < split_index else 1]
            n = 2 if self._chance(c.hard_cases.twin) else 1
            for _ in range(n):
                sex = "F" if self._chance(0.49) else "M"
                surname = self._child_surname(group, mother, father, married_on, born)
                child = self._person(fid, "child", sex, born, group, surname)
                child.mother = mother.pid
                child.father = father.pid if father else None
                if n == 2 and children and children[-1].dob == born:
                    self._make_twin(children[-1], child)
                if (father is not None and sex == "M" and not father.suffix and n == 1
                        and self._chance(c.hard_cases.jr_sr)):
                    child.first, child.middle, child.surname = (
                        father.first, father.middle, father.surname)
                    child.suffix, father.suffix = "JR", "SR"
                    child.jr_of = father.pid
                    child.labels.add("jr_sr")
                    father.labels.add("jr_sr")
                if " " in child.surname:
                    child.labels.add("compound_surname")
                children.append(child)

        caregiver = None
        if self._chance(f.kinship_caregiver):
            if self._chance(f.grandmother_vs_aunt):
                gdob = mother_dob - int(self.rnd.uniform(17, 30) * DAYS_PER_YEAR)
                caregiver = self._person(fid, "grandmother", "F", gdob, group, mother.surname)
                mother.mother = caregiver.pid
                if self._chance(0.5):  # she married too, long ago
                    caregiver.surname = self.names.surname(group)
            else:  # a sister of the mother, an adult when the first child is born
                adob = mother_dob + int(self.rnd.uniform(-8, 8) * DAYS_PER_YEAR)
                adob = min(adob, births[0] - int(21 * DAYS_PER_YEAR))
                caregiver = self._person(fid, "aunt", "F", adob, group, mother.surname)
            if " " in caregiver.surname:
                caregiver.labels.add("compound_surname")

        in_cw = self._chance(c.coverage.cw_case)
        low_income = self._chance(c.coverage.low_income_given_cw if in_cw
                                  else c.coverage.low_income_given_no_cw)
        addresses, homeless = self._housing(in_cw)
        father_addresses = {p.pid: [(self.start - 3650, self._address())] for p in fathers}
        if self._chance(f.no_fixed_address):
            for history in father_addresses.values():
                history.append((self._day_between(self.start, self.end), None))
        return Family(
            family_id=fid, group=group, mother=mother, fathers=fathers, children=children,
            caregiver=caregiver, low_income=low_income, addresses=addresses,
            father_addresses=father_addresses, homeless=homeless, married_on=married_on,
            split_on=split_on, second_married_on=second_married_on, in_cw=in_cw,
            in_cs=self._chance(c.coverage.cs_given_cw if in_cw else c.coverage.cs_given_no_cw),
            in_tanf=self._chance(c.coverage.tanf_given_low_income if low_income
                                 else c.coverage.tanf_given_not_low_income),
        )

    def _child_surname(self, group: str, mother: Person, father: Person | None,
                       married_on: int | None, born: int) -> str:
        if father is None:
            return mother.surname_on(born)
        paternal = father.surname.split(" ")[0]
        if group == "hispanic" and self._chance(self.c.hard_cases.compound_surname * 2):
            maternal = mother.surname.split(" ")[0]
            if maternal != paternal:
                return f"{paternal} {maternal}"
        if married_on is not None or self._chance(0.6):
            return paternal
        return mother.surname_on(born)

    def _make_twin(self, first: Person, second: Person) -> None:
        """Twins share DOB, surname and parents; their first names are often alike."""
        second.surname = first.surname
        if self._chance(0.5):
            year = date.fromordinal(second.dob).year
            for _ in range(30):
                name = self.names.first(second.sex, year, second.group)
                if name[0] == first.first[0] and name != first.first:
                    second.first = name
                    break
        if second.first == first.first:
            second.first = self.names.first(second.sex, date.fromordinal(second.dob).year,
                                            second.group) + "A"
        second.twin_of = first.pid
        first.labels.add("twin")
        second.labels.add("twin")

    def _housing(self, in_cw: bool) -> tuple[list[tuple[int, Address | None]],
                                              list[tuple[int, int]]]:
        f, cov = self.c.family, self.c.coverage
        history: list[tuple[int, Address | None]] = [(self.start - 3650, self._address())]
        for _ in range(self._poisson(f.moves_mean)):
            history.append((self._day_between(self.start, self.end), self._address()))
        history.sort(key=lambda item: item[0])
        homeless: list[tuple[int, int]] = []
        if self._chance(cov.homeless_given_cw if in_cw else cov.homeless_given_no_cw):
            begin = self._day_between(self.start, self.end - 30)
            finish = min(begin + int(self.rnd.expovariate(1 / 200)) + 14, self.end - 1)
            homeless.append((begin, finish))
            shelter = (self.rnd.choice(self.shelters)
                       if self._chance(self.c.hard_cases.shelter_address) else None)
            after = self.address_after(history, finish)
            history = [h for h in history if h[0] < begin] + [(begin, shelter),
                                                              (finish + 1, after)]
        return history, homeless

    def address_after(self, history: list[tuple[int, Address | None]], day: int) -> Address:
        later = [a for since, a in history if since > day and a is not None]
        return later[0] if later else self._address()
