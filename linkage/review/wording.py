"""Plain words for reviewers: what the model compared and what it made of it.

Liaisons are not SQL users: a screen that says `first_name_raw`, `zip5` or "+4.02 household:
linked_to_another" makes them guess. Both the web page (`famlink serve`) and `famlink review
queue` word a pair with this module, so the two never tell a reviewer different things.
Nothing here reads the warehouse or knows who is looking; `linkage.review.pairs` decides what
a viewer may see and passes only that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEMS = {"cw": "Child welfare", "cs": "Child support", "hmis": "Homeless services (HMIS)",
           "tanf": "TANF"}

# The record fields of linkage.access.settings.FIELDS a reviewer compares, in reading order.
FIELD_LABELS = {"first_name": "First name", "middle_name": "Middle name",
                "last_name": "Last name", "suffix": "Suffix", "dob": "Birth date", "sex": "Sex",
                "ssn": "SSN", "address_street": "Street address", "city": "City",
                "zip5": "ZIP code"}

GROUPS = {"cw_case": "child-welfare case", "cs_case": "child-support case",
          "hmis_household": "HMIS household", "tanf_case": "TANF case"}
EVENTS = {"cw_removal": "Removal", "cw_placement": "Placement",
          "hmis_enrollment": "HMIS enrollment", "hmis_exit": "HMIS exit",
          "cs_locate": "Locate report", "cs_ive_referral": "IV-E referral",
          "tanf_month": "TANF month"}

# What each comparison is about, as a subject ("Birth dates agree exactly").
COMPARISONS = {"first_name": "First names", "last_name": "Last names",
               "middle_name": "Middle names", "dob": "Birth dates", "ssn": "SSNs", "sex": "Sex",
               "address": "Addresses", "suffix": "Name suffixes (Jr, Sr)", "twin": "Twins",
               "household": "Household"}

# Levels any comparison may have; {what} is the comparison's subject.
_ANY_LEVEL = {
    "exact": "{what} agree exactly",
    "different": "{what} differ",
    "no evidence": "{what}: missing on one side, so no evidence either way",
    "similar": "{what} are spelled almost the same (a likely typo)",
    "alike": "{what} are somewhat alike",
    "one_digit_off": "{what} differ by one digit",
    "transposed": "{what} differ by two neighbouring digits swapped",
}
# Levels whose meaning depends on the comparison (configs/linkage.yaml's labels).
_LEVELS = {
    ("first_name", "nickname"): "One first name is a nickname of the other",
    ("first_name", "swapped_with_middle"): "One record's first name is the other's middle name",
    ("first_name", "swapped_with_last"): "First and last names are written the other way round",
    ("first_name", "initial"): "One first name is only the initial of the other",
    ("last_name", "same_letters"): "Last names have the same letters (spaces or hyphens differ)",
    ("last_name", "shares_a_part"): "Last names share one part of a compound or hyphenated name",
    ("last_name", "swapped_with_first"): "First and last names are written the other way round",
    ("middle_name", "same_initial"): "Middle names start with the same letter",
    ("dob", "day_month_swapped"): "Birth dates have the day and month swapped",
    ("dob", "year_off_by_one"): "Birth dates are one year apart, on the same day and month",
    ("dob", "within_a_month"): "Birth dates are within a month of each other",
    ("dob", "same_month"): "Birth dates are in the same month of the same year",
    ("dob", "january_first_of_the_year"): ("One birth date is January 1 of the other's year "
                                           "(often entered when only the year is known)"),
    ("dob", "within_twelve_years"): "Birth dates differ, by less than twelve years",
    ("dob", "different"): "Birth dates are twelve or more years apart (a parent and child?)",
    ("ssn", "shared_across_generations"): ("The same SSN, with birth dates a generation apart "
                                           "(a parent's SSN given for a child?)"),
    ("ssn", "last_four"): "SSNs share only their last four digits",
    ("sex", "exact"): "Sex agrees",
    ("sex", "different"): "Sex differs",
    ("address", "same_home"): "The same home address",
    ("address", "same_shared_place"): ("The same address, but one that many unrelated people "
                                       "give (a shelter, an office)"),
    ("address", "similar_home"): "Nearly the same address (a typo or a unit number)",
    ("address", "same_zip"): "Only the ZIP code is the same",
    ("suffix", "exact"): "The same name suffix",
    ("suffix", "different"): "Different name suffixes (Jr against Sr: a father and son?)",
    ("twin", "same_given_name"): "A twin in the household, and the given names agree",
    ("twin", "different"): ("One of them has a twin in the household and the first names "
                            "differ: likely the other twin"),
    ("household", "two_or_more_linked"): ("Household: two or more other members of their "
                                          "households are already linked to each other"),
    ("household", "one_linked"): ("Household: one other member of one household is already "
                                  "linked to a member of the other"),
    ("household", "none_linked"): ("Household: both have households with other members, none "
                                   "of them linked to each other"),
    ("household", "linked_to_another"): ("Household: one of the two is already linked to "
                                         "another member of the other's household (often a "
                                         "sibling or a parent)"),
    ("twin", "no evidence"): "Neither record has a twin in its household",
    ("household", "no evidence"): "Household: one of them has no household with others",
}
PRIOR = "Before comparing anything: two records taken at random are rarely the same person"
TERM_FREQUENCY = " (term frequency)"


def probability_words(probability: float) -> str:
    """A match probability as a reviewer reads it."""
    for floor, words in ((0.99, "almost certainly the same person"),
                         (0.85, "likely the same person"),
                         (0.65, "possibly the same person"),
                         (0.35, "unsure"),
                         (0.05, "likely different people")):
        if probability >= floor:
            return words
    return "almost certainly different people"


def strength(weight: float) -> str:
    """How much a step of the explanation moved the score, and which way."""
    size = abs(weight)
    if size < 0.3:
        return "no real evidence either way"
    degree = ("very strong" if size >= 10 else "strong" if size >= 4
              else "moderate" if size >= 1.5 else "weak")
    return f"{degree} evidence {'for' if weight > 0 else 'against'}"


def step_words(comparison: str, level: str) -> str:
    """One step of the explanation (linkage.link.explain.Step) as a phrase: "Birth dates
    agree exactly". A comparison or level this module does not know is still worded, from its
    configured name."""
    if comparison == "prior":
        return PRIOR
    if comparison.endswith(TERM_FREQUENCY):
        what = comparison.removesuffix(TERM_FREQUENCY)
        subject = COMPARISONS.get(what, what.replace("_", " ")).lower()
        return f"How common the agreed value is among {subject}"
    what = COMPARISONS.get(comparison, comparison.replace("_", " ").capitalize())
    if (comparison, level) in _LEVELS:
        return _LEVELS[(comparison, level)]
    if level in _ANY_LEVEL:
        return _ANY_LEVEL[level].format(what=what)
    return f"{what}: {level.replace('_', ' ')}"


def is_missing(comparison: str, level: str) -> bool:
    """Whether a step only says a value was missing (told together, in one sentence)."""
    return level == "no evidence" and (comparison, level) not in _LEVELS


def step_sentence(comparison: str, level: str, weight: float) -> str:
    """A step as a full sentence: what was found, then how strongly it counts."""
    if comparison.endswith(TERM_FREQUENCY):
        rare = "a rare value makes the agreement count more" if weight > 0 else \
            "a common value makes the agreement count less"
        return f"{step_words(comparison, level)}: {rare} ({strength(weight)})"
    return f"{step_words(comparison, level)}: {strength(weight)}"


def missing_sentence(comparisons: list[str]) -> str:
    """The comparisons that found a value missing on one side, in one sentence."""
    subjects = [COMPARISONS.get(c, c.replace("_", " ")) for c in comparisons]
    subjects = [s if s[:2].isupper() else s[0].lower() + s[1:] for s in subjects]
    return f"Missing on one side, so no evidence either way: {', '.join(subjects)}"


@dataclass(frozen=True)
class FieldRow:
    """One line of the side-by-side: a field, both values as shown, and the verdict."""

    label: str
    left: str
    right: str
    verdict: str  # agree / differ / missing / not shown


NOT_SHOWN = "not shown to you"


def field_rows(left: dict, right: dict) -> list[FieldRow]:
    """Both records field by field as the viewer may see them (`left`, `right`: views of
    linkage.access.records.records_view, whose hidden fields are absent, not blank). A field
    empty on both sides, or hidden on both, is left out."""
    rows = []
    for field, label in FIELD_LABELS.items():
        shown = [field in left, field in right]
        values = [_text(view.get(field)) for view in (left, right)]
        if not any(shown) or not any(values):
            continue
        if not all(shown):
            verdict = "not shown"
        elif not all(values):
            verdict = "missing"
        elif _same(values[0], values[1]):
            verdict = "agree"
        else:
            verdict = "differ"
        rows.append(FieldRow(label, *(v if s else NOT_SHOWN for v, s in zip(values, shown,
                                                                              strict=True)),
                             verdict))
    return rows


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


# A row's verdict as said (an SSN shown masked agrees or differs on its last four digits).
VERDICTS = {"agree": "agree", "differ": "differ", "missing": "missing on one side",
            "not shown": "not shown on one side"}


NO_NAME = "no name in the record"
NAME_HIDDEN = "name not shown to you"


def name_of(view: dict) -> str:
    """A record's name as the viewer may see it, or what stands in for it."""
    if not any(key in view for key in ("first_name", "last_name")):
        return NAME_HIDDEN
    name = " ".join(_text(view.get(key)) for key in ("first_name", "middle_name", "last_name",
                                                     "suffix") if _text(view.get(key)))
    return name or NO_NAME


def describe(view: dict) -> str:
    """A record in a few words for the queue: system, name, birth date."""
    parts = [SYSTEMS.get(view.get("system", ""), view.get("system", "")), name_of(view)]
    if _text(view.get("dob")):
        parts.append(f"born {view['dob']}")
    return ", ".join(parts)


def group_words(group_key: str, with_id: bool) -> str:
    """A case or household key ("cw_case:000000628") in words, with its id if the viewer may
    see cases of its system."""
    kind, _, group_id = group_key.partition(":")
    words = GROUPS.get(kind, kind.replace("_", " "))
    return f"{words} {group_id}" if with_id else f"a {words}"


def group_system(group_key: str) -> str:
    """The system a case or household key belongs to (its prefix: cw_case -> cw)."""
    return group_key.split("_", 1)[0]


def detail_label(key: str) -> str:
    """A key of an agency's case or event details ("_project_type", "RelationshipToHoH") as
    words ("project type", "relationship to hoh")."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key.strip("_"))
    return spaced.replace("_", " ").lower()


DECISION_WORDS = {"match": "the same person", "no_match": "not the same person",
                  "unsure": "unsure"}
