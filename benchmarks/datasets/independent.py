"""An independent person-list generator: a yardstick that famlink's authors did not tune to.

Why: famlink's accuracy had only been measured on its own synthetic generator, written by the
same hands as its linker, so every figure was flattering by construction. This module was
written, in the spirit of FEBRL's dsgen and GeCo, without reading famlink's linker, its
generator or its linkage settings: only `linkage/sources.py`, to learn which `person:` keys a
Parquet source accepts. Its names, rates and traps come from how administrative person lists
go wrong, not from what famlink happens to handle.

What it writes (`write(out, records, seed)`, or `python benchmarks/datasets/independent.py
--records N --seed S --out DIR`):

    DIR/extracts/<system>/people.parquet  three person lists sa, sb, sc; every column text:
                                          rec_id, given_name, middle_name, surname, sex (F, M
                                          or empty), date_of_birth (YYYY-MM-DD or empty), ssn
                                          (9 digits or empty), street, city, state, zip
    DIR/sources/<system>.yaml             famlink's generic Parquet source config for each
    DIR/truth.csv                         record_id (<system>:<rec_id>), true_id
    DIR/truth_persons.parquet             each true person as generated, before any error
    DIR/truth_errors.parquet              per record and error: -1 not eligible, 0 no, 1 applied

The population: persons whose names come from 22 Faker locales (Latin script, or romanized /
transliterated), a US age pyramid, US-style SSNs (some persons have none), US addresses with
moves. No households, but the traps households make: siblings (same surname and address,
different first names and DOBs), twins (same DOB too, consecutive SSNs) and unrelated people
who share a building, some of them a surname. Each record (a person appears 1-6 times, in
one or more lists) gets errors at the rates below, each drawn independently.

The three lists write names as three real systems would: sa keeps diacritics and full street
suffixes, sb folds to ASCII and abbreviates suffixes (USPS), sc does the same in upper case.

Deterministic for a seed (numpy PCG64 plus Python `random.Random` seeded from it; Faker is
used only for its name and address tables, never for its own random draws).
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

# ---------------------------------------------------------------------------------------------
# The population
# ---------------------------------------------------------------------------------------------

# Ages are counted back from a fixed day, so the output never depends on when it is generated.
REFERENCE_DATE = date(2025, 1, 1)
SYSTEMS = ("sa", "sb", "sc")
# A large list, a middle one and a small one: agencies differ in size.
SYSTEM_SHARE = (0.45, 0.35, 0.20)
# P(a person has 1..6 records): most people are seen once, a few keep coming back (dsgen-like).
RECORDS_PER_PERSON = (0.50, 0.25, 0.12, 0.07, 0.04, 0.02)
COLUMNS = ("rec_id", "given_name", "middle_name", "surname", "sex", "date_of_birth", "ssn",
           "street", "city", "state", "zip")

# Name origins: roughly the US mix of birthplace and ancestry, US-born majority first.
LOCALES: dict[str, float] = {
    "en_US": 0.50, "es_MX": 0.15, "es_CO": 0.04, "es_ES": 0.01, "pt_BR": 0.015,
    "fr_FR": 0.01, "de_DE": 0.02, "it_IT": 0.02, "pl_PL": 0.015, "vi_VN": 0.02,
    "zh_CN": 0.025, "ja_JP": 0.005, "en_GB": 0.02, "en_IN": 0.025, "fr_DZ": 0.015,
    "tr_TR": 0.005, "nl_NL": 0.005, "ro_RO": 0.005, "hu_HU": 0.005, "sv_SE": 0.005,
    "ru_RU": 0.015, "yo_NG": 0.025,
}
# Cultures that write the surname first at home: their records swap the two fields more often.
SURNAME_FIRST_LOCALES = frozenset({"zh_CN", "vi_VN", "hu_HU", "ja_JP"})
# Share of persons with a middle name (Vietnamese and Russian names almost always carry one:
# the gendered middle name and the patronymic; East Asian names rarely).
MIDDLE_NAME_SHARE: dict[str, float] = {
    "en_US": 0.75, "en_GB": 0.6, "es_MX": 0.4, "es_CO": 0.45, "es_ES": 0.3, "pt_BR": 0.3,
    "fr_FR": 0.35, "de_DE": 0.3, "it_IT": 0.15, "pl_PL": 0.2, "vi_VN": 0.95, "zh_CN": 0.05,
    "ja_JP": 0.02, "en_IN": 0.3, "fr_DZ": 0.1, "tr_TR": 0.2, "nl_NL": 0.35, "ro_RO": 0.3,
    "hu_HU": 0.2, "sv_SE": 0.6, "ru_RU": 0.95, "yo_NG": 0.5,
}
# Hispanic and Brazilian persons carrying two surnames (paternal and maternal) on file.
DOUBLE_SURNAME_SHARE: dict[str, float] = {"es_MX": 0.5, "es_CO": 0.6, "es_ES": 0.7,
                                          "pt_BR": 0.4}
# Other adult women with a hyphenated (maiden-married) surname.
HYPHENATED_SURNAME_SHARE = 0.03
# Adult women (18+) with a second surname on file somewhere (maiden or married).
OTHER_SURNAME_SHARE = 0.45
# Persons who have an SSN at all (young children, recent immigrants often do not).
HAS_SSN_SHARE = 0.90
# Persons who are siblings of another person in the population (groups of 2-4).
SIBLING_SHARE = 0.06
SIBLING_SIZES = {2: 0.6, 3: 0.3, 4: 0.1}
# Persons who are one of a pair of twins: about 3% of US births are twins; we keep 2%.
TWIN_SHARE = 0.02
# Twins whose first names share an initial (Jayden and Jaylen), the harder trap.
TWIN_SAME_INITIAL = 0.3
# Persons living in a shared building (apartment block, shelter) with unrelated others.
BUILDING_SHARE = 0.08
# Residents of a shared building who happen to share the first resident's surname.
BUILDING_SAME_SURNAME = 0.25
# Addresses with an apartment unit.
UNIT_SHARE = 0.3
# Of a person's other addresses, the share in the same city (most moves are local).
MOVE_SAME_CITY = 0.6
# Share of places in the state the agencies serve; the rest are out-of-state addresses.
HOME_STATE_SHARE = 0.85

# US population by age band (approximately the 2020 census): (from, to, share).
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (0, 5, 0.057), (5, 10, 0.060), (10, 15, 0.063), (15, 20, 0.065), (20, 25, 0.066),
    (25, 30, 0.068), (30, 35, 0.069), (35, 40, 0.066), (40, 45, 0.063), (45, 50, 0.061),
    (50, 55, 0.063), (55, 60, 0.065), (60, 65, 0.063), (65, 70, 0.054), (70, 75, 0.043),
    (75, 80, 0.029), (80, 85, 0.018), (85, 90, 0.011), (90, 100, 0.006),
)
# P(female): near even below 65, more women above (they outlive men).
FEMALE_SHARE_UNDER_65 = 0.49
FEMALE_SHARE_65_PLUS = 0.56

# ---------------------------------------------------------------------------------------------
# Errors, per record, each drawn independently among the records it can apply to
# ---------------------------------------------------------------------------------------------

# First-name typing errors; Damerau (1964): ~80% of misspellings are one edit of these four kinds.
FIRST_NAME_TYPO = 0.03
# Surname typos: longer, less familiar to the clerk, and so a little more often mistyped.
LAST_NAME_TYPO = 0.04
# Of records of persons whose first name has a nickname: the informal name given at intake.
NICKNAME = 0.10
# First name reduced to its initial ("J Smith") by forms with narrow name boxes.
FIRST_INITIAL = 0.01
# Of persons with a middle name: those who go by it get it written as the first name.
FIRST_MIDDLE_SWAP = 0.03
# Given name and surname keyed into each other's boxes.
FIRST_LAST_SWAP = 0.005
# The same for surname-first cultures (Chinese, Vietnamese, Hungarian, Japanese): far likelier.
FIRST_LAST_SWAP_SURNAME_FIRST = 0.05
# Of records of persons with a second surname on file: the record carries the other one.
SURNAME_CHANGE = 0.25
# Of records of persons with a double surname: one part only, the other order of joining
# (space / hyphen) or run together; US systems rarely keep Hispanic double surnames intact.
DOUBLE_SURNAME_VARIANT = 0.35
# Of records whose DOB day is 12 or less (and not the month): day and month read the wrong way.
DOB_DAY_MONTH_SWAP = 0.02
# One digit of the DOB mistyped (the century is left alone), still a valid date.
DOB_DIGIT = 0.01
# Year off by one: a DOB worked back from an age, or a keying slip.
DOB_YEAR_OFF = 0.01
# DOB not given.
DOB_MISSING = 0.02
# Of records of persons with an SSN: one digit wrong.
SSN_DIGIT = 0.01
# Of records of persons with an SSN: two adjacent digits transposed.
SSN_TRANSPOSE = 0.005
# Of records of persons with an SSN: not given (many programs do not require it).
SSN_MISSING = 0.10
# Of persons with a middle name: only its initial written.
MIDDLE_INITIAL = 0.15
# Of persons with a middle name: not written at all (many intake forms have no box for it).
MIDDLE_MISSING = 0.30
# The record shows another of the person's addresses (earlier or later): US movers are ~10% a
# year and records span years.
MOVED = 0.25
# The address written in the other style (Street / St, Apt 4 / #4) than the system's own.
ADDRESS_FORMAT = 0.15
# No address at all (homeless, unknown, not asked).
ADDRESS_MISSING = 0.05
# Street and city but no ZIP.
ZIP_MISSING = 0.02
# Sex not given.
SEX_MISSING = 0.02
# First name not given ("unknown", a newborn not yet named).
FIRST_NAME_MISSING = 0.003

# Every error by name, in the order they are drawn; `truth_errors.parquet` has one column each.
ERROR_RATES: dict[str, float] = {
    "surname_change": SURNAME_CHANGE,
    "double_surname_variant": DOUBLE_SURNAME_VARIANT,
    "nickname": NICKNAME,
    "first_middle_swap": FIRST_MIDDLE_SWAP,
    "first_name_typo": FIRST_NAME_TYPO,
    "last_name_typo": LAST_NAME_TYPO,
    "first_initial": FIRST_INITIAL,
    "middle_initial": MIDDLE_INITIAL,
    "middle_missing": MIDDLE_MISSING,
    "first_last_swap": FIRST_LAST_SWAP,
    "first_last_swap_surname_first": FIRST_LAST_SWAP_SURNAME_FIRST,
    "first_name_missing": FIRST_NAME_MISSING,
    "dob_day_month_swap": DOB_DAY_MONTH_SWAP,
    "dob_year_off": DOB_YEAR_OFF,
    "dob_digit": DOB_DIGIT,
    "dob_missing": DOB_MISSING,
    "ssn_digit": SSN_DIGIT,
    "ssn_transpose": SSN_TRANSPOSE,
    "ssn_missing": SSN_MISSING,
    "sex_missing": SEX_MISSING,
    "moved": MOVED,
    "address_format": ADDRESS_FORMAT,
    "address_missing": ADDRESS_MISSING,
    "zip_missing": ZIP_MISSING,
}

# ---------------------------------------------------------------------------------------------
# Tables of our own: nicknames, transliteration, keyboard, streets, states
# ---------------------------------------------------------------------------------------------

# Formal given name (compared ASCII-folded, lower case) -> informal names people give.
# Written for this module (English, Spanish, Portuguese, Italian, German, French, Polish,
# Russian, Hungarian, Dutch), so that the linker's own nickname list is not the yardstick's.
NICKNAMES: dict[str, tuple[str, ...]] = {
    # English, men
    "william": ("Bill", "Will", "Billy", "Liam"), "robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "richard": ("Rick", "Rich", "Dick", "Ricky"), "james": ("Jim", "Jimmy", "Jamie"),
    "john": ("Jack", "Johnny"), "joseph": ("Joe", "Joey"), "michael": ("Mike", "Mikey"),
    "thomas": ("Tom", "Tommy"), "charles": ("Charlie", "Chuck", "Chas"),
    "christopher": ("Chris", "Topher"), "daniel": ("Dan", "Danny"), "matthew": ("Matt",),
    "anthony": ("Tony",), "donald": ("Don", "Donnie"), "steven": ("Steve",),
    "stephen": ("Steve",), "andrew": ("Andy", "Drew"), "joshua": ("Josh",),
    "kenneth": ("Ken", "Kenny"), "edward": ("Ed", "Eddie", "Ted", "Ned"),
    "ronald": ("Ron", "Ronnie"), "timothy": ("Tim", "Timmy"), "jeffrey": ("Jeff",),
    "jacob": ("Jake",), "nicholas": ("Nick", "Nicky"), "jonathan": ("Jon", "Jonny"),
    "lawrence": ("Larry",), "benjamin": ("Ben", "Benny"), "samuel": ("Sam", "Sammy"),
    "gregory": ("Greg",), "alexander": ("Alex", "Xander", "Sandy"),
    "francis": ("Frank", "Fran"), "franklin": ("Frank",), "patrick": ("Pat", "Paddy"),
    "raymond": ("Ray",), "gerald": ("Gerry", "Jerry"), "henry": ("Hank", "Harry"),
    "nathan": ("Nate",), "nathaniel": ("Nate", "Nat"), "douglas": ("Doug",),
    "zachary": ("Zach", "Zack"), "peter": ("Pete",), "walter": ("Walt", "Wally"),
    "harold": ("Harry", "Hal"), "albert": ("Al", "Bert"), "alan": ("Al",),
    "allen": ("Al",), "arthur": ("Art", "Artie"), "terrence": ("Terry",),
    "randall": ("Randy",), "randolph": ("Randy",), "eugene": ("Gene",),
    "vincent": ("Vince", "Vinny"), "russell": ("Russ",), "elijah": ("Eli",),
    "louis": ("Lou",), "philip": ("Phil",), "phillip": ("Phil",), "gabriel": ("Gabe",),
    "frederick": ("Fred", "Freddie"), "theodore": ("Ted", "Teddy", "Theo"),
    "leonard": ("Len", "Lenny", "Leo"), "jerome": ("Jerry",), "bradley": ("Brad",),
    "mitchell": ("Mitch",), "maxwell": ("Max",), "christian": ("Chris",),
    "dominic": ("Dom",), "isaac": ("Ike",), "jeremiah": ("Jerry",), "jeremy": ("Jerry",),
    "abraham": ("Abe",), "calvin": ("Cal",), "clifford": ("Cliff",), "curtis": ("Curt",),
    "dennis": ("Denny",), "derek": ("Rick",), "frankie": ("Frank",), "howard": ("Howie",),
    "jackson": ("Jack",), "kristopher": ("Kris",), "marcus": ("Marc",),
    "martin": ("Marty",), "montgomery": ("Monty",), "oliver": ("Ollie",),
    "raphael": ("Rafe",), "reginald": ("Reggie",), "stanley": ("Stan",),
    "sylvester": ("Sly",), "wesley": ("Wes",), "zachariah": ("Zach",),
    # English, women
    "mary": ("Molly", "Polly", "Mae"), "patricia": ("Pat", "Patty", "Trish", "Tricia"),
    "jennifer": ("Jen", "Jenny"), "elizabeth": ("Liz", "Beth", "Betty", "Eliza", "Lizzie"),
    "barbara": ("Barb", "Barbie"), "susan": ("Sue", "Susie"), "jessica": ("Jess", "Jessie"),
    "sarah": ("Sally",), "margaret": ("Maggie", "Peggy", "Meg", "Marge"),
    "sandra": ("Sandy",), "dorothy": ("Dot", "Dottie"), "kimberly": ("Kim",),
    "emily": ("Em", "Emmy"), "michelle": ("Shelly",), "amanda": ("Mandy",),
    "melissa": ("Missy", "Mel"), "deborah": ("Debbie", "Deb"), "debra": ("Debbie",),
    "stephanie": ("Steph",), "rebecca": ("Becky", "Becca"), "cynthia": ("Cindy",),
    "kathleen": ("Kathy", "Kate"), "angela": ("Angie",), "pamela": ("Pam",),
    "nicole": ("Nikki",), "samantha": ("Sam", "Sammy"),
    "katherine": ("Kate", "Katie", "Kathy", "Kat"), "kathryn": ("Kathy", "Kate"),
    "catherine": ("Cathy", "Cate"), "christine": ("Chris", "Chrissy"),
    "christina": ("Tina", "Chris"), "virginia": ("Ginny",), "victoria": ("Vicky", "Tori"),
    "olivia": ("Liv", "Livvy"), "evelyn": ("Evie",), "judith": ("Judy",), "megan": ("Meg",),
    "jacqueline": ("Jackie",), "martha": ("Marty", "Mattie"), "teresa": ("Terri", "Tess"),
    "theresa": ("Terri", "Tess"), "madison": ("Maddie",), "frances": ("Fran", "Frannie"),
    "abigail": ("Abby",), "sophia": ("Sophie",), "grace": ("Gracie",),
    "danielle": ("Dani",), "beverly": ("Bev",), "isabella": ("Bella", "Izzy"),
    "diana": ("Di",), "natalie": ("Nat",), "brittany": ("Britt",),
    "charlotte": ("Charlie", "Lottie"), "alexis": ("Lexi",), "alexandra": ("Alex", "Sasha"),
    "gabrielle": ("Gabby",), "jacquelyn": ("Jackie",), "josephine": ("Jo", "Josie"),
    "kristen": ("Kris",), "lillian": ("Lily",), "madeline": ("Maddie",),
    "penelope": ("Penny",), "suzanne": ("Sue", "Suzy"), "valerie": ("Val",),
    "veronica": ("Ronnie",), "wendy": ("Wen",), "cassandra": ("Cassie",),
    "anastasia": ("Stacy",), "caroline": ("Carrie",), "carolyn": ("Carrie",),
    "eleanor": ("Ellie", "Nell"), "harriet": ("Hattie",), "jillian": ("Jill",),
    "melanie": ("Mel",), "priscilla": ("Cilla",), "rosemary": ("Rose", "Rosie"),
    "tabitha": ("Tabby",), "vanessa": ("Nessa",),
    # Spanish
    "jose": ("Pepe", "Chepe"), "francisco": ("Paco", "Pancho", "Chico"),
    "jesus": ("Chuy", "Chucho"), "guadalupe": ("Lupe", "Lupita"), "ignacio": ("Nacho",),
    "guillermo": ("Memo", "Willy"), "eduardo": ("Lalo", "Edu", "Dudu"),
    "antonio": ("Toño", "Tony", "Tonino"), "alberto": ("Beto",), "roberto": ("Beto", "Berto"),
    "enrique": ("Quique",), "alejandro": ("Alex", "Alejo"), "manuel": ("Manolo", "Manny"),
    "rafael": ("Rafa",), "fernando": ("Nando",), "concepcion": ("Concha", "Conchita"),
    "dolores": ("Lola",), "mercedes": ("Meche",), "rosario": ("Charo",),
    "graciela": ("Chela",), "consuelo": ("Chelo",), "luis": ("Lucho",),
    "ricardo": ("Richi",), "santiago": ("Santi",), "sebastian": ("Sebas",),
    "gabriela": ("Gaby",), "daniela": ("Dani",), "alejandra": ("Ale",),
    "margarita": ("Mago",), "isabel": ("Chabela",), "salvador": ("Chava",),
    "gustavo": ("Tavo",), "rodrigo": ("Rodri",), "teresa_es": ("Tere",),
    "leticia": ("Lety",), "juan": ("Juanito",), "jorge": ("Coque",),
    "federico": ("Fede",), "maria jose": ("Majo",), "maria fernanda": ("Marifer",),
    # Portuguese
    "joao": ("Joãozinho",), "antonia": ("Tonha",), "fernanda": ("Nanda",),
    # Italian
    "giuseppe": ("Beppe", "Peppe", "Pino"), "giovanni": ("Gianni", "Nino"),
    "francesco": ("Franco", "Cecco"), "salvatore": ("Totò",), "vincenzo": ("Enzo",),
    "alessandro": ("Sandro",), "domenico": ("Mimmo",), "giacomo": ("Gino",),
    # German
    "johannes": ("Hans", "Jo"), "wolfgang": ("Wolf",), "friedrich": ("Fritz",),
    "heinrich": ("Heinz",), "katharina": ("Kathi",), "elisabeth": ("Lisa", "Elli", "Liesl"),
    "margarete": ("Grete",), "maximilian": ("Max",), "christoph": ("Chris",),
    # French
    "frederic": ("Fred",), "dominique": ("Dom",), "alexandre": ("Alex",),
    "nicolas": ("Nico",), "marguerite": ("Margot",), "christophe": ("Chris",),
    # Polish
    "katarzyna": ("Kasia",), "malgorzata": ("Gosia",), "tomasz": ("Tomek",),
    "wojciech": ("Wojtek",), "jakub": ("Kuba",), "aleksandra": ("Ola",),
    "agnieszka": ("Aga",), "magdalena": ("Magda",), "krzysztof": ("Krzysiek",),
    "jozef": ("Józek",), "stanislaw": ("Staszek",), "piotr": ("Piotrek",),
    # Russian (transliterated as this module does)
    "aleksandr": ("Sasha", "Shura"), "dmitriy": ("Dima",), "mikhail": ("Misha",),
    "nikolay": ("Kolya",), "vladimir": ("Volodya", "Vova"), "ivan": ("Vanya",),
    "ekaterina": ("Katya",), "elena": ("Lena",), "tatyana": ("Tanya",),
    "natalya": ("Natasha",), "mariya": ("Masha",), "anastasiya": ("Nastya",),
    "sergey": ("Seryozha",), "pavel": ("Pasha",), "evgeniy": ("Zhenya",),
    "olga": ("Olya",), "svetlana": ("Sveta",), "lyudmila": ("Lyuda", "Mila"),
    "konstantin": ("Kostya",), "aleksey": ("Lyosha",), "irina": ("Ira",),
    # Hungarian
    "istvan": ("Pista",), "ferenc": ("Feri",), "erzsebet": ("Erzsi",), "katalin": ("Kati",),
    "laszlo": ("Laci",), "sandor": ("Sanyi",), "gyorgy": ("Gyuri",),
    "zsuzsanna": ("Zsuzsa",), "janos": ("Jani",),
    # Dutch
    "wilhelmus": ("Wim",), "cornelis": ("Kees",), "hendrik": ("Henk",),
    "jacobus": ("Koos",), "pieter": ("Piet",),
}

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
# Latin letters that Unicode decomposition does not fold to ASCII.
_FOLD_EXTRA = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "ß": "ss",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
    "’": "'",
})
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")

_STREET_WORDS = (
    "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
    "Lincoln", "Jefferson", "Church", "Ridge", "Sunset", "Highland", "Forest", "River",
    "Spring", "Valley", "Meadow", "Madison", "Jackson", "Franklin", "Walnut", "Chestnut",
    "Willow", "Cherry", "Center", "Mill", "Dogwood", "Magnolia", "Hickory", "Birch",
    "Sycamore", "Lakeview", "Martin Luther King Jr", "Adams", "Wilson", "Grant", "Poplar",
    "Railroad", "School", "College", "Market", "Broad", "Water", "Union", "Liberty", "Prospect",
)
# (full, USPS abbreviation, share)
_SUFFIXES: tuple[tuple[str, str, float], ...] = (
    ("Street", "St", 0.30), ("Avenue", "Ave", 0.20), ("Road", "Rd", 0.10),
    ("Drive", "Dr", 0.12), ("Lane", "Ln", 0.06), ("Court", "Ct", 0.06),
    ("Boulevard", "Blvd", 0.04), ("Place", "Pl", 0.04), ("Circle", "Cir", 0.03),
    ("Terrace", "Ter", 0.02), ("Parkway", "Pkwy", 0.02), ("Highway", "Hwy", 0.01),
)
# 2020 census population in millions (rounded): where out-of-state addresses come from.
_STATE_POPULATION: dict[str, float] = {
    "AL": 5.0, "AK": 0.73, "AZ": 7.2, "AR": 3.0, "CA": 39.5, "CO": 5.8, "CT": 3.6, "DE": 1.0,
    "DC": 0.69, "FL": 21.5, "GA": 10.7, "HI": 1.46, "ID": 1.84, "IL": 12.8, "IN": 6.8,
    "IA": 3.2, "KS": 2.9, "KY": 4.5, "LA": 4.66, "ME": 1.36, "MD": 6.2, "MA": 7.0, "MI": 10.1,
    "MN": 5.7, "MS": 2.96, "MO": 6.15, "MT": 1.08, "NE": 1.96, "NV": 3.1, "NH": 1.38,
    "NJ": 9.3, "NM": 2.1, "NY": 20.2, "NC": 10.4, "ND": 0.78, "OH": 11.8, "OK": 3.96,
    "OR": 4.24, "PA": 13.0, "RI": 1.1, "SC": 5.1, "SD": 0.89, "TN": 6.9, "TX": 29.1,
    "UT": 3.27, "VT": 0.64, "VA": 8.6, "WA": 7.7, "WV": 1.79, "WI": 5.9, "WY": 0.58,
}
# Vietnamese surnames are famously concentrated (Nguyễn ~38%); Faker's list is unweighted.
_VI_SURNAME_SHARE = {"Nguyễn": 0.38, "Trần": 0.11, "Lê": 0.095, "Phạm": 0.07, "Hoàng": 0.051,
                     "Vũ": 0.039, "Đặng": 0.021, "Bùi": 0.02, "Dương": 0.01, "Mai": 0.01}
# Vietnamese middle names are gendered: Văn for men, Thị for women, most of the time.
_VI_MIDDLE = {"M": {"Văn": 0.5, "Đức": 0.1, "Quang": 0.1, "Hữu": 0.08, "Minh": 0.08,
                    "Thế": 0.05, "Xuân": 0.05, "Hoàng": 0.04},
              "F": {"Thị": 0.6, "Ngọc": 0.12, "Mai": 0.08, "Bảo": 0.06, "Thu": 0.07,
                    "Kim": 0.07}}
_NL_PARTICLES = frozenset({"van", "der", "de", "den", "het", "'t", "ter", "ten", "la", "le",
                           "te", "in", "op", "vander"})

SOURCE_YAML = """system: {system}
format: parquet
path: {system}
date_formats: ["%Y-%m-%d"]
tables:
  people: {{file: people.parquet, key: [rec_id], required: [rec_id]}}
person: {{table: people, source_id: rec_id, first_name: given_name, middle_name: middle_name, \
last_name: surname, sex: sex, dob: date_of_birth, ssn: ssn, address_line: street, city: city, \
state: state, zip: zip}}
"""


# ---------------------------------------------------------------------------------------------
# Small string helpers
# ---------------------------------------------------------------------------------------------

def ascii_fold(value: str) -> str:
    """Diacritics off, as most US systems store names (José -> Jose, Łukasz -> Lukasz)."""
    if value.isascii():
        return value
    value = value.translate(_FOLD_EXTRA)
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")


def style(value: str, system: str) -> str:
    """A value as `system` writes names and places: sa as given, sb ASCII, sc ASCII upper."""
    if system == "sa" or not value:
        return value
    folded = ascii_fold(value)
    return folded.upper() if system == "sc" else folded


def _transliterate(value: str) -> str:
    """Cyrillic to Latin (a simple BGN-like table), so every name is in Latin script."""
    out = []
    for ch in value:
        low = ch.lower()
        if low in _CYRILLIC:
            lat = _CYRILLIC[low]
            out.append(lat.capitalize() if ch != low else lat)
        else:
            out.append(ch)
    return "".join(out)


def _neighbours() -> dict[str, str]:
    """Letters next to each letter on a QWERTY keyboard: the substitutions fingers make."""
    pos = {c: (r, i) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in pos.items():
        near = []
        for dr, di in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, -1), (1, 0)):
            rr, ii = r + dr, i + di
            if 0 <= rr < len(_KEYBOARD) and 0 <= ii < len(_KEYBOARD[rr]):
                near.append(_KEYBOARD[rr][ii])
        out[c] = "".join(near)
    return out


_NEAR = _neighbours()


def _near_letter(ch: str, r: random.Random) -> str:
    """A key next to `ch` (same case); any other letter when `ch` is not on the keyboard."""
    low = ascii_fold(ch).lower()[:1]
    choices = _NEAR.get(low) or "".join(c for c in "aeioulnrst" if c != low)
    new = r.choice(choices)
    return new.upper() if ch.isupper() else new


def typo(name: str, r: random.Random) -> str:
    """One keying error: insert, delete, transpose or substitute (the four Damerau edits).

    The first letter is almost never touched (people rarely mistype it), so an edit lands on a
    later letter; the result always differs from `name`.
    """
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if not letters:
        return name + "x"
    inner = [i for i in letters if i > 0] or letters
    kind = r.random()
    if kind < 0.2:
        i = r.choice(inner)
        ch = name[i] if r.random() < 0.5 else _near_letter(name[i], r)  # doubled or a neighbour
        return name[:i] + ch.lower() + name[i:]
    if kind < 0.4 and len(inner) >= 2:
        i = r.choice(inner)
        return name[:i] + name[i + 1:]
    if kind < 0.6:
        pairs = [i for i in inner if i + 1 < len(name) and name[i + 1].isalpha()
                 and name[i].lower() != name[i + 1].lower()]
        if pairs:
            i = r.choice(pairs)
            return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    i = letters[0] if r.random() < 0.05 else r.choice(inner)
    return name[:i] + _near_letter(name[i], r) + name[i + 1:]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ---------------------------------------------------------------------------------------------
# Name pools from Faker's tables
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    """Names and how often each is drawn."""

    names: np.ndarray  # object array of str
    p: np.ndarray  # probabilities, summing to 1

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.names[rng.choice(len(self.names), size=n, p=self.p)]


def _clean(name: str) -> str | None:
    name = _transliterate(str(name).strip())
    if not name or any(ch.isdigit() or ch in ".,()" for ch in name):
        return None
    return name


def _pool(values: Sequence[str] | Mapping[str, float]) -> Pool:
    """A pool with Faker's weights where it has them; else a Zipf-like popularity over an
    order fixed by a checksum of each name (so some names are common and most are rare, as in
    every real list, without following Faker's alphabetical order)."""
    if isinstance(values, Mapping):
        items = [(_clean(k), float(v)) for k, v in values.items()]
    else:
        raw = [_clean(v) for v in values]
        ranked = sorted({v for v in raw if v}, key=lambda v: (zlib.crc32(v.encode()), v))
        rank = {v: i for i, v in enumerate(ranked)}
        items = [(v, 1.0 / (rank[v] + 3) ** 0.8) for v in raw if v]
    items = [(k, w) for k, w in items if k]
    names = np.array([k for k, _ in items], dtype=object)
    weights = np.array([w for _, w in items], dtype=float)
    return Pool(names, weights / weights.sum())


@dataclass(frozen=True)
class LocalePools:
    """One locale's name pools."""

    first: dict[str, Pool]  # by sex
    middle: dict[str, Pool]  # by sex
    last: Pool
    female_surname: dict[str, str]  # male form -> female form, where the language has them


def _polish_female(surname: str) -> str:
    for male, female in (("dzki", "dzka"), ("cki", "cka"), ("ski", "ska")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


@lru_cache(maxsize=1)
def name_pools() -> dict[str, LocalePools]:
    """Every locale's pools, from Faker's person tables (read, never drawn by Faker)."""
    out: dict[str, LocalePools] = {}
    for loc in LOCALES:
        prov = importlib.import_module(f"faker.providers.person.{loc}").Provider
        female_surname: dict[str, str] = {}
        if loc == "zh_CN":
            first = {"F": _pool(prov.first_romanized_names), "M": _pool(prov.first_romanized_names)}
            last = _pool(prov.last_romanized_names)
        elif loc == "ja_JP":
            first = {"F": _pool(prov.first_romanized_names_female),
                     "M": _pool(prov.first_romanized_names_male)}
            last = _pool(prov.last_romanized_names)
        elif loc == "vi_VN":
            first = {"F": _pool(prov.first_names_female + prov.first_names_unisex),
                     "M": _pool(prov.first_names_male + prov.first_names_unisex)}
            last = _pool(_VI_SURNAME_SHARE)
        elif loc == "pl_PL":
            first = {"F": _pool(prov.first_names_female), "M": _pool(prov.first_names_male)}
            last = _pool(tuple(prov.male_last_names) * 4 + tuple(prov.unisex_last_names))
            female_surname = {n: _polish_female(n) for n in last.names}
        elif loc == "ru_RU":
            first = {"F": _pool(prov.first_names_female), "M": _pool(prov.first_names_male)}
            last = _pool(prov.last_names_male)
            female_surname = {_transliterate(m): _transliterate(f) for m, f in
                              zip(prov.last_names_male, prov.last_names_female, strict=True)}
        else:
            first = {"F": _pool(prov.first_names_female), "M": _pool(prov.first_names_male)}
            names = prov.last_names
            if loc == "nl_NL":  # keep "de Vries", "van der Berg"; drop Faker's medieval titles
                names = [n for n in names if "," not in n and all(
                    w.lower() in _NL_PARTICLES for w in n.split()[:-1])]
            last = _pool(names)
        if loc == "vi_VN":
            middle = {s: _pool(_VI_MIDDLE[s]) for s in "FM"}
        elif loc == "ru_RU":  # the patronymic
            middle = {"F": _pool(prov.middle_names_female), "M": _pool(prov.middle_names_male)}
        else:
            middle = first
        out[loc] = LocalePools(first, middle, last, female_surname)
    return out


@dataclass(frozen=True)
class AddressTables:
    """What addresses are made of, from Faker's en_US tables and ours."""

    bases: np.ndarray  # street names: common words, frequent surnames, 1st..60th
    base_p: np.ndarray
    suffix_p: np.ndarray  # share of each of _SUFFIXES
    first_names: np.ndarray  # for city names ("Port Jesse", "Rebeccaville")
    last_names: np.ndarray
    city_prefixes: np.ndarray
    city_suffixes: np.ndarray
    zip_ranges: dict[str, tuple[int, int]]  # ZIP codes by state


@lru_cache(maxsize=1)
def address_tables() -> AddressTables:
    """Street and place parts (read once per process)."""
    addr = importlib.import_module("faker.providers.address.en_US").Provider
    person = name_pools()["en_US"]
    top_last = person.last.names[np.argsort(-person.last.p, kind="stable")[:300]]
    bases = np.concatenate([np.array(_STREET_WORDS, dtype=object), top_last,
                            np.array([_ordinal(i) for i in range(1, 61)], dtype=object)])
    w = np.concatenate([np.full(len(_STREET_WORDS), 0.35 / len(_STREET_WORDS)),
                        np.full(len(top_last), 0.45 / len(top_last)),
                        np.full(60, 0.20 / 60)])
    suffix_p = np.array([s[2] for s in _SUFFIXES])
    return AddressTables(
        bases, w / w.sum(), suffix_p / suffix_p.sum(),
        np.concatenate([person.first["F"].names, person.first["M"].names]), person.last.names,
        np.array(addr.city_prefixes, dtype=object), np.array(addr.city_suffixes, dtype=object),
        dict(addr.states_postcode))


# ---------------------------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------------------------

def _groups(members: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For members laid out group after group: each member's group number, position in its
    group and the group's first member (its leader)."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(len(members)) - starts[group]
    return group, pos, members[starts[group]]


def _draw_sizes(rng: np.random.Generator, target: int, sizes: Mapping[int, float] | None,
                lo: int = 3, hi: int = 30) -> np.ndarray:
    """Group sizes adding up to at most `target` persons."""
    if target < 2:
        return np.zeros(0, dtype=np.int64)
    n = target // 2 + 1
    if sizes is None:  # buildings: 3, 4, ... with a long tail, up to 30
        s = np.minimum(lo - 1 + rng.geometric(0.15, n), hi)
    else:
        s = rng.choice(list(sizes), size=n, p=list(sizes.values()))
    keep = np.cumsum(s) <= target
    return s[keep].astype(np.int64)


@dataclass
class Population:
    """Every true person, as arrays (index = person number)."""

    locale: np.ndarray  # int: index into LOCALE_NAMES
    female: np.ndarray  # bool
    dob: np.ndarray  # datetime64[D]
    first: np.ndarray  # object arrays of str from here on
    middle: np.ndarray  # '' when none
    s1: np.ndarray  # surname, first part
    s2: np.ndarray  # second part of a double surname, '' when none
    sep: np.ndarray  # ' ' or '-' between the parts
    surname: np.ndarray  # as the person gives it
    other_surname: np.ndarray  # maiden or married surname, '' when none
    nickname: np.ndarray  # '' when the first name has none in our table
    ssn: np.ndarray  # 9 digits, '' when none
    home: np.ndarray  # int: address number
    kind: np.ndarray  # '', 'sibling', 'twin'
    group_id: np.ndarray  # sibling / twin group, '' when none
    building_id: np.ndarray  # shared building, '' when none


LOCALE_NAMES = tuple(LOCALES)


def _feminine(surnames: np.ndarray, locale: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Women's forms of surnames in languages that have them (Kowalski -> Kowalska)."""
    pools = name_pools()
    out = surnames.copy()
    for li, loc in enumerate(LOCALE_NAMES):
        forms = pools[loc].female_surname
        if forms:
            idx = np.flatnonzero((locale == li) & female)
            out[idx] = [forms.get(s, s) for s in surnames[idx]]
    return out


def _digits(values: np.ndarray, width: int) -> pa.Array:
    """Integers as zero-padded text ('00042'), in Arrow (a million in a few milliseconds)."""
    return pc.utf8_lpad(pa.array(values, pa.int64()).cast(pa.string()), width=width,
                        padding="0")


def _persons(rng: np.random.Generator, n: int) -> Population:
    pools = name_pools()
    loc_p = np.array([LOCALES[x] for x in LOCALE_NAMES])
    locale = rng.choice(len(LOCALE_NAMES), size=n, p=loc_p / loc_p.sum())

    # Structures: siblings, twins, buildings; disjoint sets of persons chosen at random.
    perm = rng.permutation(n)
    cursor = 0
    sib_sizes = _draw_sizes(rng, int(round(n * SIBLING_SHARE)), SIBLING_SIZES)
    sib = perm[cursor:cursor + sib_sizes.sum()]
    cursor += len(sib)
    n_pairs = max(1, int(round(n * TWIN_SHARE / 2))) if n >= 2 else 0
    n_pairs = min(n_pairs, (n - cursor) // 2)
    twin = perm[cursor:cursor + 2 * n_pairs]
    cursor += len(twin)
    bld_sizes = _draw_sizes(rng, min(int(round(n * BUILDING_SHARE)), n - cursor), None)
    bld = perm[cursor:cursor + bld_sizes.sum()]
    sib_group, sib_pos, sib_lead = _groups(sib, sib_sizes)
    twin_group, twin_pos, twin_lead = _groups(twin, np.full(n_pairs, 2, dtype=np.int64))
    bld_group, bld_pos, bld_lead = _groups(bld, bld_sizes)
    fam = np.concatenate([sib, twin])  # siblings and twins: one family each
    fam_lead = np.concatenate([sib_lead, twin_lead])
    locale[fam] = locale[fam_lead]

    # Ages: the US pyramid; siblings 3-30 (the eldest) with 1-6 years between them; twins 0-40.
    ref = np.datetime64(REFERENCE_DATE.isoformat(), "D")
    band_p = np.array([b[2] for b in AGE_BANDS])
    bands = rng.choice(len(AGE_BANDS), size=n, p=band_p / band_p.sum())
    lo = np.array([b[0] for b in AGE_BANDS])[bands]
    hi = np.array([b[1] for b in AGE_BANDS])[bands]
    age_days = ((lo + rng.random(n) * (hi - lo)) * 365.2425).astype(np.int64)
    sib_leaders = sib[sib_pos == 0]
    age_days[sib_leaders] = rng.integers(3 * 365, 30 * 365, size=len(sib_leaders))
    gaps = np.where(sib_pos > 0, rng.integers(365, 6 * 365, size=len(sib)), 0)
    cum = np.cumsum(gaps)
    starts = np.concatenate([[0], np.cumsum(sib_sizes)[:-1]]).astype(np.int64)
    age_days[sib] = np.maximum(age_days[sib_lead] - (cum - cum[starts[sib_group]]), 30)
    twin_leaders = twin[twin_pos == 0]
    age_days[twin_leaders] = rng.integers(30, 40 * 365, size=len(twin_leaders))
    age_days[twin] = age_days[twin_lead]
    dob = ref - age_days.astype("timedelta64[D]")
    age_years = age_days / 365.2425
    female = rng.random(n) < np.where(age_years >= 65, FEMALE_SHARE_65_PLUS,
                                      FEMALE_SHARE_UNDER_65)

    # Given and middle names, by locale and sex.
    first = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    middle_share = np.array([MIDDLE_NAME_SHARE[x] for x in LOCALE_NAMES])
    has_middle = rng.random(n) < middle_share[locale]
    for li, loc in enumerate(LOCALE_NAMES):
        in_loc = locale == li
        for s, is_f in (("F", True), ("M", False)):
            idx = np.flatnonzero(in_loc & (female == is_f))
            first[idx] = pools[loc].first[s].draw(rng, len(idx))
            mid = idx[has_middle[idx]]
            middle[mid] = pools[loc].middle[s].draw(rng, len(mid))
    # Siblings and twins never share a first name; some twins share its initial.
    family: dict[int, list[int]] = {}
    for p, lead in zip(fam.tolist(), fam_lead.tolist(), strict=True):
        family.setdefault(lead, []).append(p)
    same_initial = set(twin[(twin_pos == 1) & (rng.random(len(twin)) < TWIN_SAME_INITIAL)]
                       .tolist())
    for members in family.values():
        for j, p in enumerate(members[1:], start=1):
            others = set(first[members[:j]]) | set(first[members[j + 1:]])
            initial = first[members[0]][:1] if p in same_initial else None
            if first[p] not in others and initial is None:
                continue
            pool = pools[LOCALE_NAMES[locale[p]]].first["F" if female[p] else "M"]
            cdf = np.cumsum(pool.p)
            for u in rng.random(50):
                cand = pool.names[min(int(np.searchsorted(cdf, u)), len(pool.names) - 1)]
                if cand not in others and (initial is None or cand[:1] == initial):
                    first[p] = cand
                    break
    middle[middle == first] = ""

    # Surnames: double for Hispanic/Brazilian persons, hyphenated for some women; one family
    # name for siblings and twins; some building residents happen to share one.
    s1 = np.empty(n, dtype=object)
    s2 = np.full(n, "", dtype=object)
    for li, loc in enumerate(LOCALE_NAMES):
        idx = np.flatnonzero(locale == li)
        s1[idx] = pools[loc].last.draw(rng, len(idx))
        dbl = idx[rng.random(len(idx)) < DOUBLE_SURNAME_SHARE.get(loc, 0.0)]
        s2[dbl] = pools[loc].last.draw(rng, len(dbl))
    sep = np.full(n, " ", dtype=object)
    adult_f = female & (age_years >= 18)
    hyph = adult_f & (s2 == "") & (rng.random(n) < HYPHENATED_SURNAME_SHARE)
    hyph_idx = np.flatnonzero(hyph)
    for li, loc in enumerate(LOCALE_NAMES):
        idx = hyph_idx[locale[hyph_idx] == li]
        s2[idx] = pools[loc].last.draw(rng, len(idx))
    sep[hyph] = "-"
    s2[s2 == s1] = ""
    surname_locale = locale.copy()
    for arr in (s1, s2, sep, surname_locale):
        arr[fam] = arr[fam_lead]
    copy = bld[(bld_pos > 0) & (rng.random(len(bld)) < BUILDING_SAME_SURNAME)]
    copy_lead = bld_lead[_index_of(bld, copy)]
    for arr in (s1, s2, sep, surname_locale):
        arr[copy] = arr[copy_lead]
    s1 = _feminine(s1, surname_locale, female)
    s2 = _feminine(s2, surname_locale, female)
    surname = np.where(s2 != "", s1 + sep + s2, s1)

    # A second surname on file for some adult women (married, or maiden): most often from the
    # same culture, else an English one.
    other = np.full(n, "", dtype=object)
    has_other = np.flatnonzero(adult_f & (rng.random(n) < OTHER_SURNAME_SHARE))
    other_loc = np.full(n, -1)
    other_loc[has_other] = np.where(rng.random(len(has_other)) < 0.7, locale[has_other],
                                      LOCALE_NAMES.index("en_US"))
    for li, loc in enumerate(LOCALE_NAMES):
        idx = np.flatnonzero(other_loc == li)
        other[idx] = pools[loc].last.draw(rng, len(idx))
    other = _feminine(other, other_loc, female)
    other[other == surname] = ""

    # Nicknames from our table, one per person (people keep using the same one).
    uniq, codes = _unique(first)
    cands = [NICKNAMES.get(ascii_fold(f).lower(), ()) for f in uniq]
    n_cands = np.array([len(c) for c in cands] + [0], dtype=np.int64)
    flat = np.array([""] + [x for c in cands for x in c], dtype=object)
    offset = np.concatenate([[1], 1 + np.cumsum(n_cands[:-1])])
    pick = rng.integers(0, 1 << 30, size=n)
    k = n_cands[codes]
    nickname = flat[np.where(k > 0, offset[codes] + pick % np.maximum(k, 1), 0)]
    nickname[nickname == first] = ""

    # SSNs: area 001-899 but not 666, group 01-99, serial 0001-9999; unique; siblings share
    # the area (issued in one state before 2011), twins get consecutive serials.
    area = rng.integers(1, 899, size=n)
    area[area >= 666] += 1
    group_no = rng.integers(1, 100, size=n)
    serial = rng.integers(1, 10000, size=n)
    area[fam] = area[fam_lead]
    t2 = twin[twin_pos == 1]
    t1 = twin_lead[twin_pos == 1]
    group_no[t2] = group_no[t1]
    serial[t2] = np.where(serial[t1] < 9999, serial[t1] + 1, serial[t1] - 1)
    number = area * 1_000_000 + group_no * 10_000 + serial
    while True:
        order = np.argsort(number, kind="stable")
        ranked = number[order]
        dup = order[1:][ranked[1:] == ranked[:-1]]
        if not len(dup):
            break
        serial[dup] = rng.integers(1, 10000, size=len(dup))
        number[dup] = area[dup] * 1_000_000 + group_no[dup] * 10_000 + serial[dup]
    has_ssn = rng.random(n) < HAS_SSN_SHARE
    ssn = _digits(number, 9).to_numpy(zero_copy_only=False).astype(object)
    ssn[~has_ssn] = ""

    # Homes: address i is person i's own; siblings and twins live at the eldest's, building
    # residents at the first resident's.
    home = np.arange(n)
    home[fam] = home[fam_lead]
    home[bld] = home[bld_lead]

    kind = np.full(n, "", dtype=object)
    kind[sib] = "sibling"
    kind[twin] = "twin"
    group_id = np.full(n, "", dtype=object)
    group_id[sib] = [f"S{g}" for g in sib_group]
    group_id[twin] = [f"T{g}" for g in twin_group]
    building_id = np.full(n, "", dtype=object)
    building_id[bld] = [f"B{g}" for g in bld_group]
    return Population(locale, female, dob, first, middle, s1, s2, sep, surname, other,
                      nickname, ssn, home, kind, group_id, building_id)


def _index_of(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Position of each needle in `haystack` (whose values are distinct)."""
    order = np.argsort(haystack, kind="stable")
    return order[np.searchsorted(haystack, needles, sorter=order)]


def _unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (in order of first appearance) and each value's index into them."""
    codes, uniq = pd.factorize(values)
    return np.asarray(uniq, dtype=object), codes


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------

@dataclass
class Addresses:
    """Address number -> its parts. Number i < n is person i's home; n + i and 2n + i are two
    other addresses of person i (before or after a move)."""

    house: np.ndarray
    base: np.ndarray  # index into `bases`
    suffix: np.ndarray  # index into _SUFFIXES
    unit: np.ndarray  # 0 = none
    place: np.ndarray  # index into the places
    zip: np.ndarray  # 5-digit ZIP (int)
    bases: pa.Array  # street names
    city: np.ndarray  # per place
    state: np.ndarray  # per place


def _addresses(rng: np.random.Generator, n: int, homes: np.ndarray) -> Addresses:
    t = address_tables()
    # Places: cities of our own made from Faker's en_US city patterns, mostly in one state
    # (the agencies'), ranked by a Zipf-like size so a few cities hold most people.
    n_places = int(np.clip(n // 25, 30, 3000))
    states = np.array(list(_STATE_POPULATION), dtype=object)
    pop = np.array(list(_STATE_POPULATION.values()))
    home_state = states[rng.choice(len(states), p=pop / pop.sum())]
    state = states[rng.choice(len(states), size=n_places, p=pop / pop.sum())]
    state[rng.random(n_places) < HOME_STATE_SHARE] = home_state
    fmt = rng.integers(0, 4, size=n_places)
    pre = t.city_prefixes[rng.integers(0, len(t.city_prefixes), n_places)]
    suf = t.city_suffixes[rng.integers(0, len(t.city_suffixes), n_places)]
    fn = t.first_names[rng.integers(0, len(t.first_names), n_places)]
    ln = t.last_names[rng.integers(0, len(t.last_names), n_places)]
    city = np.select([fmt == 0, fmt == 1, fmt == 2],
                     [pre + " " + fn + suf, pre + " " + fn, fn + suf], ln + suf)
    zip_lo = np.array([t.zip_ranges[s][0] for s in state])
    zip_hi = np.array([t.zip_ranges[s][1] for s in state])
    place_zip = np.stack([zip_lo + (rng.random(n_places) * (zip_hi - zip_lo + 1)).astype(np.int64)
                          for _ in range(3)], axis=1)  # each place has up to three ZIPs
    place_p = 1.0 / (np.arange(n_places) + 5.0)
    place_p /= place_p.sum()

    a = 3 * n
    place = rng.choice(n_places, size=a, p=place_p)
    local = np.concatenate([np.zeros(n, bool), rng.random(2 * n) < MOVE_SAME_CITY])
    owner = np.concatenate([np.arange(n)] * 3)
    place[local] = place[homes[owner[local]]]
    house = np.clip(np.exp(rng.normal(6.0, 1.2, size=a)), 1, 99999).astype(np.int64)
    base = rng.choice(len(t.bases), size=a, p=t.base_p)
    suffix = rng.choice(len(_SUFFIXES), size=a, p=t.suffix_p)
    unit = np.where(rng.random(a) < UNIT_SHARE, rng.integers(1, 400, size=a), 0)
    unit[homes[homes != np.arange(n)]] = 0  # a home several persons share: no unit on file
    zip_ = place_zip[place, rng.integers(0, 3, size=a)]
    return Addresses(house, base, suffix, unit, place, zip_, pa.array(t.bases, pa.string()),
                     city, state)


def _street_strings(ad: Addresses, ids: np.ndarray, abbreviated: np.ndarray) -> pa.Array:
    """Street lines for address numbers `ids`: '12 Oak Street Apt 4' or '12 Oak St #4'."""
    suffixes = pa.array([s[0] for s in _SUFFIXES] + [s[1] for s in _SUFFIXES])
    suffix = suffixes.take(pa.array(ad.suffix[ids] + abbreviated * len(_SUFFIXES)))
    unit = ad.unit[ids]
    unit_word = pa.array(["", " Apt ", " #"]).take(
        pa.array(np.where(unit > 0, 1 + abbreviated, 0)))
    unit_no = pc.if_else(pa.array(unit > 0), pa.array(unit).cast(pa.string()), "")
    return pc.binary_join_element_wise(
        pa.array(ad.house[ids]).cast(pa.string()), " ", ad.bases.take(pa.array(ad.base[ids])),
        " ", suffix, unit_word, unit_no, "")


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

def _record_counts(rng: np.random.Generator, records: int) -> np.ndarray:
    """Records per person, adding up to exactly `records`."""
    p = np.array(RECORDS_PER_PERSON) / sum(RECORDS_PER_PERSON)
    mean = float((np.arange(1, len(p) + 1) * p).sum())
    n = int(np.ceil(records / mean * 1.1)) + 20
    counts = rng.choice(np.arange(1, len(p) + 1), size=n, p=p)
    total = np.cumsum(counts)
    if total[-1] < records:  # never in practice; keeps the count exact all the same
        counts[-1] += records - total[-1]
        total = np.cumsum(counts)
    k = int(np.searchsorted(total, records))
    counts[k] -= total[k] - records
    counts[k + 1:] = 0
    return counts


def _flag(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """-1 where the error cannot apply, else 1 with probability `rate`."""
    hit = rng.random(len(eligible)) < rate
    return np.where(eligible, hit.astype(np.int8), np.int8(-1)).astype(np.int8)


def _date_ok(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def _leap(y: np.ndarray) -> np.ndarray:
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))


def _coin_flips(pyr: random.Random, n: int, p: float) -> np.ndarray:
    """`n` coin flips with probability `p`, from the Python generator."""
    return np.array([pyr.random() < p for _ in range(n)], dtype=bool)


def _styled(values: np.ndarray, system: str) -> pa.Array:
    """`style` over a column of names, computed once per distinct value."""
    if system == "sa":
        return pa.array(values, pa.string())
    uniq, codes = _unique(values)
    return pa.array([style(u, system) for u in uniq], pa.string()).take(pa.array(codes))


def _styled_arrow(values: pa.Array, system: str) -> pa.Array:
    """`style` over an Arrow column of places (ASCII already, in practice: then Arrow alone)."""
    if system == "sa":
        return values
    if not pc.all(pc.string_is_ascii(values)).as_py():
        values = pa.array([ascii_fold(v) for v in values.to_pylist()], pa.string())
    return pc.utf8_upper(values) if system == "sc" else values


def _with_blank(values: pa.Array) -> pa.Array:
    """`values` and, last, an empty string: the index a missing value points to."""
    return pa.concat_arrays([values.cast(pa.string()), pa.array([""], pa.string())])


def _write_parquet(path: Path, columns: Mapping[str, pa.Array | np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v if isinstance(v, pa.Array | pa.ChunkedArray) else
              pa.array(v, type=pa.string() if v.dtype == object else None)
              for k, v in columns.items()}
    pq.write_table(pa.table(arrays), path)


def write(out: Path, records: int, seed: int) -> None:
    """Write `records` person records of three lists, their source configs and the truth.

    Every random draw comes from one seeded generator in a fixed order, so a seed gives the
    same files byte for byte.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    pyr = random.Random(int(rng.integers(0, 2**62)))
    counts = _record_counts(rng, records)
    n_persons = len(counts)
    pop = _persons(rng, n_persons)
    ad = _addresses(rng, n_persons, pop.home)

    pid = np.repeat(np.arange(n_persons), counts)
    n = len(pid)
    system = rng.choice(len(SYSTEMS), size=n, p=SYSTEM_SHARE)
    flags: dict[str, np.ndarray] = {}
    everyone = np.ones(n, bool)

    def draw(name: str, eligible: np.ndarray) -> np.ndarray:
        flags[name] = _flag(rng, eligible, ERROR_RATES[name])
        return np.flatnonzero(flags[name] == 1)

    # Names, in the order a record is made: the surname on file, the given name used, then
    # the clerk's slips.
    first = pop.first[pid]
    middle = pop.middle[pid]
    last = pop.surname[pid]
    has_middle = (pop.middle != "")[pid]
    sel = draw("surname_change", (pop.other_surname != "")[pid])
    other = pop.other_surname[pid[sel]]
    last[sel] = np.where(_coin_flips(pyr, len(sel), 0.2), last[sel] + "-" + other, other)
    changed = np.zeros(n, bool)
    changed[sel] = True
    sel = draw("double_surname_variant", (pop.s2 != "")[pid])
    for i in sel[~changed[sel]]:  # where the other surname replaced it, nothing to vary
        p = pid[i]
        u = pyr.random()
        if u < 0.45:
            last[i] = pop.s1[p]
        elif u < 0.6:
            last[i] = pop.s2[p]
        elif u < 0.85:
            last[i] = pop.s1[p] + ("-" if pop.sep[p] == " " else " ") + pop.s2[p]
        else:
            last[i] = pop.s1[p] + pop.s2[p]
    sel = draw("nickname", (pop.nickname != "")[pid])
    first[sel] = pop.nickname[pid[sel]]
    sel = draw("first_middle_swap", has_middle)
    first[sel], middle[sel] = middle[sel], first[sel]
    sel = draw("first_name_typo", np.array([len(f) >= 2 for f in pop.first])[pid])
    first[sel] = [typo(f, pyr) for f in first[sel]]
    sel = draw("last_name_typo", np.array([len(s) >= 2 for s in pop.surname])[pid])
    last[sel] = [typo(s, pyr) for s in last[sel]]
    sel = draw("first_initial", everyone)
    first[sel] = [f[:1] for f in first[sel]]
    sel = draw("middle_initial", has_middle)
    middle[sel] = [m[:1] for m in middle[sel]]
    sel = draw("middle_missing", has_middle)
    middle[sel] = ""
    surname_first = np.isin(pop.locale, [LOCALE_NAMES.index(x) for x in sorted(
        SURNAME_FIRST_LOCALES)])[pid]
    sel = np.concatenate([draw("first_last_swap", ~surname_first),
                          draw("first_last_swap_surname_first", surname_first)])
    first[sel], last[sel] = last[sel], first[sel]
    sel = draw("first_name_missing", everyone)
    first[sel] = ""

    # Dates of birth.
    dob_text = pa.array(pop.dob).cast(pa.string())
    dob = dob_text.to_numpy(zero_copy_only=False).astype(object)[pid]
    y = pop.dob.astype("datetime64[Y]").astype(np.int64)[pid] + 1970
    m = pop.dob.astype("datetime64[M]").astype(np.int64)[pid] % 12 + 1
    d = (pop.dob - pop.dob.astype("datetime64[M]")).astype(np.int64)[pid] + 1
    touched = np.zeros(n, bool)
    sel = draw("dob_day_month_swap", (d <= 12) & (d != m))
    m[sel], d[sel] = d[sel], m[sel]
    touched[sel] = True
    sel = draw("dob_year_off", everyone)
    y[sel] += np.where(rng.random(len(sel)) < 0.5, -1, 1)
    d[sel[(m[sel] == 2) & (d[sel] == 29) & ~_leap(y[sel])]] = 28
    touched[sel] = True
    sel = draw("dob_digit", everyone)
    for i in sel:
        s = f"{y[i]:04d}{m[i]:02d}{d[i]:02d}"
        for _ in range(50):
            k = pyr.choice((2, 3, 4, 5, 6, 7))  # the century is left alone
            t = s[:k] + pyr.choice([c for c in "0123456789" if c != s[k]]) + s[k + 1:]
            if _date_ok(int(t[:4]), int(t[4:6]), int(t[6:])):
                y[i], m[i], d[i] = int(t[:4]), int(t[4:6]), int(t[6:])
                break
    touched[sel] = True
    idx = np.flatnonzero(touched)
    dob[idx] = [f"{y[i]:04d}-{m[i]:02d}-{d[i]:02d}" for i in idx]
    sel = draw("dob_missing", everyone)
    dob[sel] = ""

    # SSNs.
    ssn = pop.ssn[pid]
    has_ssn = (pop.ssn != "")[pid]
    sel = draw("ssn_digit", has_ssn)
    for i in sel:
        s = ssn[i]
        k = pyr.randrange(9)
        ssn[i] = s[:k] + pyr.choice([c for c in "0123456789" if c != s[k]]) + s[k + 1:]
    sel = draw("ssn_transpose", has_ssn)
    for i in sel:
        s = ssn[i]
        pairs = [k for k in range(8) if s[k] != s[k + 1]]
        if pairs:
            k = pyr.choice(pairs)
            ssn[i] = s[:k] + s[k + 1] + s[k] + s[k + 2:]
    sel = draw("ssn_missing", has_ssn)
    ssn[sel] = ""

    sex = np.where(pop.female, "F", "M").astype(object)[pid]
    sel = draw("sex_missing", everyone)
    sex[sel] = ""

    # Addresses: home, or one of two others after a move; the street written in the system's
    # style or the other one. Each text column is a table of distinct values (last: '') and
    # an index per record into it.
    addr = pop.home[pid]
    sel = draw("moved", everyone)
    addr[sel] = n_persons * rng.integers(1, 3, size=len(sel)) + pid[sel]
    abbreviated = (system != 0).astype(np.int64)
    sel = draw("address_format", everyone)
    abbreviated[sel] = 1 - abbreviated[sel]
    street_idx, street_keys = pd.factorize(addr * 2 + abbreviated)
    streets = _with_blank(_street_strings(ad, street_keys // 2, street_keys % 2))
    place = ad.place[addr]
    cities = _with_blank(pa.array(ad.city, pa.string()))
    states = _with_blank(pa.array(ad.state, pa.string()))
    city_idx, state_idx = place.copy(), place.copy()
    zip_idx, zip_keys = pd.factorize(ad.zip[addr])
    zips = _with_blank(_digits(zip_keys, 5))
    sel = draw("address_missing", everyone)
    street_idx[sel], city_idx[sel] = len(streets) - 1, len(cities) - 1
    state_idx[sel], zip_idx[sel] = len(states) - 1, len(zips) - 1
    sel = draw("zip_missing", everyone)
    zip_idx[sel] = len(zips) - 1

    # Each system's list, its rows in an order of its own and numbered in it.
    record_ids, row_order = [], []
    (out / "sources").mkdir(parents=True, exist_ok=True)
    for s_no, sname in enumerate(SYSTEMS):
        rows = rng.permutation(np.flatnonzero(system == s_no))
        rec = _digits(np.arange(1, len(rows) + 1), 8)
        record_ids.append(pc.binary_join_element_wise(f"{sname}:", rec, ""))
        row_order.append(rows)
        _write_parquet(out / "extracts" / sname / "people.parquet", {
            "rec_id": rec,
            "given_name": _styled(first[rows], sname),
            "middle_name": _styled(middle[rows], sname),
            "surname": _styled(last[rows], sname),
            "sex": sex[rows],
            "date_of_birth": dob[rows],
            "ssn": ssn[rows],
            "street": _styled_arrow(streets, sname).take(pa.array(street_idx[rows])),
            "city": _styled_arrow(cities, sname).take(pa.array(city_idx[rows])),
            "state": states.take(pa.array(state_idx[rows])),
            "zip": zips.take(pa.array(zip_idx[rows])),
        })
        (out / "sources" / f"{sname}.yaml").write_text(SOURCE_YAML.format(system=sname))

    # The truth: which person each record is, each person as generated, each record's errors.
    order = np.concatenate(row_order)
    record_id = pa.concat_arrays(record_ids)
    true_ids = pc.binary_join_element_wise("p", _digits(np.arange(n_persons), 7), "")
    with open(out / "truth.csv", "wb") as fh:
        fh.write(b"record_id,true_id\n")
        pcsv.write_csv(pa.table({"record_id": record_id,
                                 "true_id": true_ids.take(pa.array(pid[order]))}), fh,
                       pcsv.WriteOptions(include_header=False, quoting_style="none"))
    _write_parquet(out / "truth_errors.parquet",
                   {"record_id": record_id, **{k: v[order] for k, v in flags.items()}})
    seen = np.flatnonzero(counts > 0)
    homes = pop.home[seen]
    hp = pa.array(ad.place[homes])
    _write_parquet(out / "truth_persons.parquet", {
        "true_id": true_ids.take(pa.array(seen)),
        "locale": np.array(LOCALE_NAMES, dtype=object)[pop.locale[seen]],
        "sex": np.where(pop.female[seen], "F", "M").astype(object),
        "date_of_birth": dob_text.take(pa.array(seen)),
        "given_name": pop.first[seen], "middle_name": pop.middle[seen],
        "surname": pop.surname[seen], "other_surname": pop.other_surname[seen],
        "nickname": pop.nickname[seen], "ssn": pop.ssn[seen],
        "street": _street_strings(ad, homes, np.zeros(len(seen), np.int64)),
        "city": cities.take(hp), "state": states.take(hp), "zip": _digits(ad.zip[homes], 5),
        "kind": pop.kind[seen], "group_id": pop.group_id[seen],
        "building_id": pop.building_id[seen], "records": counts[seen].astype(np.int32),
    })


def main(argv: Sequence[str] | None = None) -> int:
    """`--records N --seed S --out DIR`: write the data set and say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    write(args.out, args.records, args.seed)
    took = time.perf_counter() - start
    print(f"{args.records:,} records written to {args.out} in {took:.1f} s "
          f"({args.records / took:,.0f} records/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
