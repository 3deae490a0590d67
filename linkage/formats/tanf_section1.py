"""Fixed-width layouts of the TANF Data Report (ACF-199) section 1, active cases.

Why this module exists: TANF is one of the sources famlink links, and states deliver it as the
federal section 1 text file. Reading and writing that file needs nothing more than the exact
column positions, so they are kept here as plain data with a few tiny helpers and no I/O.

A section 1 file is, line by line::

    HEADER   one line, 23 characters
    T1       one line per family (case) and month, 156 characters
    T2       one line per adult or minor head of household, 156 characters
    T3       one line per TWO children (child 1 at 19:60, child 2 at 60:101), 156 characters
    TRAILER  one line, 23 characters

The positions follow the layouts the federal TANF Data Portal (HHS/TANF-app, module
``tdpservice.parsers.schema_defs``) validates submissions against; field names are that
project's item names. Every ``Field`` uses **0-based, half-open Python slice positions**:
``line[field.start:field.end]`` is the field's text, and ``end - start`` its width.

Field kinds: ``"N"`` is numeric, right-justified and zero-filled (codes, counts, dollar
amounts, dates as YYYYMMDD); ``"A"`` is alphanumeric, left-justified and space-filled (record
type, case number, the possibly encrypted SSN, filler). A field that is entirely blank means
"not reported" for either kind: TANF-app reads an all-space field as empty (``None``), while a
zero-filled numeric field is a reported value of 0. That is why ``format_record`` writes
missing values as blanks, never as zeros.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ENCRYPTED_FLAG",
    "ENCRYPTION_FIELD",
    "Field",
    "PERSON_IDENTITY",
    "PERSON_KINDS",
    "HEADER",
    "RECORD_LENGTH",
    "REPORT_IDENTITY",
    "SECTION1_HEADER",
    "SSN_DECRYPTION_MAP",
    "SSN_ENCRYPTION_MAP",
    "T1",
    "T2",
    "T3",
    "T3_BLANK",
    "T3_CHILD",
    "T3_CHILD_LENGTH",
    "T3_CHILD_OFFSETS",
    "T3_MIN_LENGTH",
    "T3_PREFIX",
    "TRAILER",
    "UPDATE_ADD",
    "decrypt_ssn",
    "encrypt_ssn",
    "format_record",
    "format_t3_record",
    "header_is_encrypted",
    "is_section1_header",
    "parse_record",
    "parse_t3_children",
    "person_digest",
    "person_ids",
    "shift_fields",
    "t3_child_fields",
    "t3_child_slots",
]


@dataclass(frozen=True)
class Field:
    """One fixed-width field of a record.

    ``start`` and ``end`` are 0-based, half-open slice positions within the line, exactly as
    Python slices them (``line[start:end]``); the federal documentation counts columns from 1,
    so its "position 3-8" is ``start=2, end=8`` here. ``kind`` is ``"N"`` (numeric, zero-filled,
    right-justified) or ``"A"`` (alphanumeric, space-filled, left-justified).
    """

    name: str
    start: int
    end: int
    kind: str

    def __post_init__(self) -> None:
        # Fail at import time rather than silently writing a misaligned file.
        if self.kind not in ("N", "A"):
            raise ValueError(f"{self.name}: kind must be 'N' or 'A', not {self.kind!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"{self.name}: need 0 <= start < end, got {self.start}:{self.end}")

    @property
    def width(self) -> int:
        """Number of characters the field occupies."""
        return self.end - self.start


def _layout(start: int, spec: Iterable[tuple[str, int, str]]) -> tuple[Field, ...]:
    """Build contiguous fields from (name, width, kind), so widths, not offsets, are typed."""
    fields = []
    pos = start
    for name, width, kind in spec:
        fields.append(Field(name, pos, pos + width, kind))
        pos += width
    return tuple(fields)


# --------------------------------------------------------------------------------------------
# HEADER (23 characters), e.g. "HEADER20204A06   TAN1ED"
# --------------------------------------------------------------------------------------------
#: TITLE is the literal "HEADER". YEAR and QUARTER are the CALENDAR year and quarter of the data
#: (TANF-app compares them with the submission's fiscal period converted to calendar; a header
#: "2020" "4" holds October-December 2020 = fiscal 2021 Q1). TYPE is the section: "A" active
#: cases (section 1), "C" closed cases, "G" aggregate, "S" stratum. STATE_FIPS is the 2-digit
#: state FIPS code; TRIBE_CODE is 3 digits for tribal TANF and blank for a state. PROGRAM_TYPE
#: is "TAN" (TANF) or "SSP" (separate state program). EDIT is "1" or "2" (the edit option the
#: state chose). ENCRYPTION is "E" when SSNs are digit-substituted (see ``SSN_ENCRYPTION_MAP``)
#: and blank otherwise. UPDATE is "N" new, "D" delete or "U" update.
HEADER: tuple[Field, ...] = _layout(
    0,
    [
        ("TITLE", 6, "A"),
        ("YEAR", 4, "N"),
        ("QUARTER", 1, "N"),
        ("TYPE", 1, "A"),
        ("STATE_FIPS", 2, "N"),
        ("TRIBE_CODE", 3, "N"),
        ("PROGRAM_TYPE", 3, "A"),
        ("EDIT", 1, "N"),
        ("ENCRYPTION", 1, "A"),
        ("UPDATE", 1, "A"),
    ],
)

#: Header field that says whether SSNs in the file are encrypted, and the value meaning "yes".
ENCRYPTION_FIELD = "ENCRYPTION"
ENCRYPTED_FLAG = "E"

#: The start of a section 1 (active cases) report: "HEADER", a 4-digit year, quarter 1-4 and
#: TYPE "A". TDRS names its files ``ADS.E2J.FTP1.TS06`` (no extension), so a reader tells a
#: report by this first line, never by its name.
SECTION1_HEADER = re.compile(r"HEADER\d{4}[1-4]A")

#: The HEADER fields that make two files the same report: one state (or tribe), program, quarter
#: and section. A second file with the same values is a resubmission; TANF-app keeps one
#: version per state, year, quarter and section, the latest submitted.
REPORT_IDENTITY = ("YEAR", "QUARTER", "TYPE", "STATE_FIPS", "TRIBE_CODE", "PROGRAM_TYPE")

#: UPDATE value of a resubmission that adds and updates records ("U") instead of replacing the
#: whole report ("N" new, "D" delete and replace): only the families it holds replace earlier ones.
UPDATE_ADD = "U"

# --------------------------------------------------------------------------------------------
# TRAILER (23 characters), e.g. "TRAILER0002643         "
# --------------------------------------------------------------------------------------------
#: RECORD_COUNT is the 7-digit count the state reports; TANF-app only checks it is 0-9999999
#: and does not reconcile it with the lines present (the sample fixture says 2643 while holding
#: 15 data lines, because it was cut from a larger file). BLANK must be nine spaces.
TRAILER: tuple[Field, ...] = _layout(
    0,
    [
        ("TITLE", 7, "A"),
        ("RECORD_COUNT", 7, "N"),
        ("BLANK", 9, "A"),
    ],
)

# --------------------------------------------------------------------------------------------
# T1: family (case) record, 156 characters; items 4-29 of the ACF-199 instructions.
# --------------------------------------------------------------------------------------------
T1: tuple[Field, ...] = _layout(
    0,
    [
        ("RecordType", 2, "A"),  # "T1"
        ("RPT_MONTH_YEAR", 6, "N"),  # item 4, YYYYMM
        ("CASE_NUMBER", 11, "A"),  # item 6
        ("COUNTY_FIPS_CODE", 3, "N"),  # item 2
        ("STRATUM", 2, "N"),  # item 5
        ("ZIP_CODE", 5, "N"),  # item 7
        ("FUNDING_STREAM", 1, "N"),  # item 8
        ("DISPOSITION", 1, "N"),  # item 9
        ("NEW_APPLICANT", 1, "N"),  # item 10
        ("NBR_FAMILY_MEMBERS", 2, "N"),  # item 11
        ("FAMILY_TYPE", 1, "N"),  # item 12
        ("RECEIVES_SUB_HOUSING", 1, "N"),  # item 13
        ("RECEIVES_MED_ASSISTANCE", 1, "N"),  # item 14
        ("RECEIVES_FOOD_STAMPS", 1, "N"),  # item 15
        ("AMT_FOOD_STAMP_ASSISTANCE", 4, "N"),  # item 16
        ("RECEIVES_SUB_CC", 1, "N"),  # item 17
        ("AMT_SUB_CC", 4, "N"),  # item 18
        ("CHILD_SUPPORT_AMT", 4, "N"),  # item 19
        ("FAMILY_CASH_RESOURCES", 4, "N"),  # item 20
        ("CASH_AMOUNT", 4, "N"),  # item 21A
        ("NBR_MONTHS", 3, "N"),  # item 21B
        ("CC_AMOUNT", 4, "N"),  # item 22A
        ("CHILDREN_COVERED", 2, "N"),  # item 22B
        ("CC_NBR_MONTHS", 3, "N"),  # item 22C
        ("TRANSP_AMOUNT", 4, "N"),  # item 23A
        ("TRANSP_NBR_MONTHS", 3, "N"),  # item 23B
        ("TRANSITION_SERVICES_AMOUNT", 4, "N"),  # item 24A
        ("TRANSITION_NBR_MONTHS", 3, "N"),  # item 24B
        ("OTHER_AMOUNT", 4, "N"),  # item 25A
        ("OTHER_NBR_MONTHS", 3, "N"),  # item 25B
        ("SANC_REDUCTION_AMT", 4, "N"),  # item 26AI
        ("WORK_REQ_SANCTION", 1, "N"),  # item 26AII
        ("FAMILY_SANC_ADULT", 1, "N"),  # item 26AIII
        ("SANC_TEEN_PARENT", 1, "N"),  # item 26AIV
        ("NON_COOPERATION_CSE", 1, "N"),  # item 26AV
        ("FAILURE_TO_COMPLY", 1, "N"),  # item 26AVI
        ("OTHER_SANCTION", 1, "N"),  # item 26AVII
        ("RECOUPMENT_PRIOR_OVRPMT", 4, "N"),  # item 26B
        ("OTHER_TOTAL_REDUCTIONS", 4, "N"),  # item 26CI
        ("FAMILY_CAP", 1, "N"),  # item 26CII
        ("REDUCTIONS_ON_RECEIPTS", 1, "N"),  # item 26CIII
        ("OTHER_NON_SANCTION", 1, "N"),  # item 26CIV
        ("WAIVER_EVAL_CONTROL_GRPS", 1, "A"),  # item 27, "9" or blank
        ("FAMILY_EXEMPT_TIME_LIMITS", 2, "N"),  # item 28
        ("FAMILY_NEW_CHILD", 1, "N"),  # item 29
        ("BLANK", 39, "A"),  # filler 117:156
    ],
)

# --------------------------------------------------------------------------------------------
# T2: adult record, 156 characters; items 30-66 of the ACF-199 instructions.
# --------------------------------------------------------------------------------------------
T2: tuple[Field, ...] = _layout(
    0,
    [
        ("RecordType", 2, "A"),  # "T2"
        ("RPT_MONTH_YEAR", 6, "N"),  # item 4
        ("CASE_NUMBER", 11, "A"),  # item 6
        ("FAMILY_AFFILIATION", 1, "N"),  # item 30
        ("NONCUSTODIAL_PARENT", 1, "N"),  # item 31
        ("DATE_OF_BIRTH", 8, "N"),  # item 32, YYYYMMDD
        ("SSN", 9, "A"),  # item 33, encrypted when the header says "E"
        ("RACE_HISPANIC", 1, "N"),  # item 34A
        ("RACE_AMER_INDIAN", 1, "N"),  # item 34B
        ("RACE_ASIAN", 1, "N"),  # item 34C
        ("RACE_BLACK", 1, "N"),  # item 34D
        ("RACE_HAWAIIAN", 1, "N"),  # item 34E
        ("RACE_WHITE", 1, "N"),  # item 34F
        ("GENDER", 1, "N"),  # item 35
        ("FED_OASDI_PROGRAM", 1, "N"),  # item 36A
        ("FED_DISABILITY_STATUS", 1, "N"),  # item 36B
        ("DISABLED_TITLE_XIVAPDT", 1, "N"),  # item 36C
        ("AID_AGED_BLIND", 1, "N"),  # item 36D
        ("RECEIVE_SSI", 1, "N"),  # item 36E
        ("MARITAL_STATUS", 1, "N"),  # item 37
        ("RELATIONSHIP_HOH", 2, "N"),  # item 38
        ("PARENT_WITH_MINOR_CHILD", 1, "N"),  # item 39
        ("NEEDS_PREGNANT_WOMAN", 1, "N"),  # item 40
        ("EDUCATION_LEVEL", 2, "N"),  # item 41
        ("CITIZENSHIP_STATUS", 1, "N"),  # item 42
        ("COOPERATION_CHILD_SUPPORT", 1, "N"),  # item 43
        ("MONTHS_FED_TIME_LIMIT", 3, "N"),  # item 44
        ("MONTHS_STATE_TIME_LIMIT", 2, "N"),  # item 45
        ("CURRENT_MONTH_STATE_EXEMPT", 1, "N"),  # item 46
        ("EMPLOYMENT_STATUS", 1, "N"),  # item 47
        ("WORK_ELIGIBLE_INDICATOR", 2, "N"),  # item 48
        ("WORK_PART_STATUS", 2, "N"),  # item 49
        ("UNSUB_EMPLOYMENT", 2, "N"),  # item 50 (hours)
        ("SUB_PRIVATE_EMPLOYMENT", 2, "N"),  # item 51
        ("SUB_PUBLIC_EMPLOYMENT", 2, "N"),  # item 52
        ("WORK_EXPERIENCE_HOP", 2, "N"),  # item 53A hours of participation
        ("WORK_EXPERIENCE_EA", 2, "N"),  # item 53B excused absences
        ("WORK_EXPERIENCE_HOL", 2, "N"),  # item 53C holidays
        ("OJT", 2, "N"),  # item 54
        ("JOB_SEARCH_HOP", 2, "N"),  # item 55A
        ("JOB_SEARCH_EA", 2, "N"),  # item 55B
        ("JOB_SEARCH_HOL", 2, "N"),  # item 55C
        ("COMM_SERVICES_HOP", 2, "N"),  # item 56A
        ("COMM_SERVICES_EA", 2, "N"),  # item 56B
        ("COMM_SERVICES_HOL", 2, "N"),  # item 56C
        ("VOCATIONAL_ED_TRAINING_HOP", 2, "N"),  # item 57A
        ("VOCATIONAL_ED_TRAINING_EA", 2, "N"),  # item 57B
        ("VOCATIONAL_ED_TRAINING_HOL", 2, "N"),  # item 57C
        ("JOB_SKILLS_TRAINING_HOP", 2, "N"),  # item 58A
        ("JOB_SKILLS_TRAINING_EA", 2, "N"),  # item 58B
        ("JOB_SKILLS_TRAINING_HOL", 2, "N"),  # item 58C
        ("ED_NO_HIGH_SCHOOL_DIPL_HOP", 2, "N"),  # item 59A
        ("ED_NO_HIGH_SCHOOL_DIPL_EA", 2, "N"),  # item 59B
        ("ED_NO_HIGH_SCHOOL_DIPL_HOL", 2, "N"),  # item 59C
        ("SCHOOL_ATTENDENCE_HOP", 2, "N"),  # item 60A (TANF-app's spelling)
        ("SCHOOL_ATTENDENCE_EA", 2, "N"),  # item 60B
        ("SCHOOL_ATTENDENCE_HOL", 2, "N"),  # item 60C
        ("PROVIDE_CC_HOP", 2, "N"),  # item 61A
        ("PROVIDE_CC_EA", 2, "N"),  # item 61B
        ("PROVIDE_CC_HOL", 2, "N"),  # item 61C
        ("OTHER_WORK_ACTIVITIES", 2, "N"),  # item 62
        ("DEEMED_HOURS_FOR_OVERALL", 2, "N"),  # item 63
        ("DEEMED_HOURS_FOR_TWO_PARENT", 2, "N"),  # item 64
        ("EARNED_INCOME", 4, "N"),  # item 65
        ("UNEARNED_INCOME_TAX_CREDIT", 4, "N"),  # item 66A
        ("UNEARNED_SOCIAL_SECURITY", 4, "N"),  # item 66B
        ("UNEARNED_SSI", 4, "N"),  # item 66C
        ("UNEARNED_WORKERS_COMP", 4, "N"),  # item 66D
        ("OTHER_UNEARNED_INCOME", 4, "N"),  # item 66E
    ],
)

# --------------------------------------------------------------------------------------------
# T3: child record, 156 characters, holding up to two children; items 67-77.
# --------------------------------------------------------------------------------------------
#: Fields every T3 line starts with, shared by both children on the line.
T3_PREFIX: tuple[Field, ...] = _layout(
    0,
    [
        ("RecordType", 2, "A"),  # "T3"
        ("RPT_MONTH_YEAR", 6, "N"),
        ("CASE_NUMBER", 11, "A"),
    ],
)

#: Fields of ONE child, with positions RELATIVE to the start of the child's slot. Add an offset
#: from ``T3_CHILD_OFFSETS`` (or call ``t3_child_fields``) for positions within the line.
T3_CHILD: tuple[Field, ...] = _layout(
    0,
    [
        ("FAMILY_AFFILIATION", 1, "N"),  # item 67
        ("DATE_OF_BIRTH", 8, "N"),  # item 68, YYYYMMDD
        ("SSN", 9, "A"),  # item 69, encrypted when the header says "E"
        ("RACE_HISPANIC", 1, "N"),  # item 70A
        ("RACE_AMER_INDIAN", 1, "N"),  # item 70B
        ("RACE_ASIAN", 1, "N"),  # item 70C
        ("RACE_BLACK", 1, "N"),  # item 70D
        ("RACE_HAWAIIAN", 1, "N"),  # item 70E
        ("RACE_WHITE", 1, "N"),  # item 70F
        ("GENDER", 1, "N"),  # item 71
        ("RECEIVE_NONSSA_BENEFITS", 1, "N"),  # item 72A
        ("RECEIVE_SSI", 1, "N"),  # item 72B
        ("RELATIONSHIP_HOH", 2, "N"),  # item 73
        ("PARENT_MINOR_CHILD", 1, "N"),  # item 74
        ("EDUCATION_LEVEL", 2, "N"),  # item 75
        ("CITIZENSHIP_STATUS", 1, "N"),  # item 76
        ("UNEARNED_SSI", 4, "N"),  # item 77A
        ("OTHER_UNEARNED_INCOME", 4, "N"),  # item 77B
    ],
)

#: Width of one child slot (41 characters).
T3_CHILD_LENGTH = T3_CHILD[-1].end
#: Line positions where child 1 and child 2 start (19 and 60).
T3_CHILD_OFFSETS: tuple[int, int] = (T3_PREFIX[-1].end, T3_PREFIX[-1].end + T3_CHILD_LENGTH)
#: Filler after the second child, up to the 156-character record length.
T3_BLANK = Field("BLANK", T3_CHILD_OFFSETS[1] + T3_CHILD_LENGTH, 156, "A")
#: Shortest T3 line TANF-app accepts holding one child (60) or two children (101); states
#: often drop trailing blanks, so a reader must not insist on 156.
T3_MIN_LENGTH: dict[int, int] = {
    1: T3_CHILD_OFFSETS[0] + T3_CHILD_LENGTH,
    2: T3_CHILD_OFFSETS[1] + T3_CHILD_LENGTH,
}


def shift_fields(fields: Iterable[Field], offset: int, prefix: str = "") -> tuple[Field, ...]:
    """Return ``fields`` moved right by ``offset``, names optionally prefixed.

    Why: the T3 child layout is defined once and placed twice on the line.
    """
    return tuple(Field(prefix + f.name, f.start + offset, f.end + offset, f.kind) for f in fields)


def t3_child_fields(child: int) -> tuple[Field, ...]:
    """Absolute line positions of child 1 or child 2 on a T3 line (names unprefixed)."""
    if child not in (1, 2):
        raise ValueError(f"a T3 line holds child 1 or 2, not {child}")
    return shift_fields(T3_CHILD, T3_CHILD_OFFSETS[child - 1])


#: The whole T3 line as one flat layout: prefix, child 1 fields named ``CHILD1_*``, child 2
#: fields named ``CHILD2_*`` and the filler. Useful for tiling checks and whole-line I/O.
T3: tuple[Field, ...] = (
    T3_PREFIX
    + shift_fields(T3_CHILD, T3_CHILD_OFFSETS[0], "CHILD1_")
    + shift_fields(T3_CHILD, T3_CHILD_OFFSETS[1], "CHILD2_")
    + (T3_BLANK,)
)

#: Full record length per record type, as TANF-app's length checks define them. Newer TANF-app
#: versions also accept shorter T1/T3 lines with trailing blanks dropped (see T3_MIN_LENGTH).
RECORD_LENGTH: dict[str, int] = {
    "HEADER": HEADER[-1].end,  # 23
    "T1": T1[-1].end,  # 156
    "T2": T2[-1].end,  # 156
    "T3": T3[-1].end,  # 156
    "TRAILER": TRAILER[-1].end,  # 23
}

# --------------------------------------------------------------------------------------------
# SSN digit substitution ("encryption")
# --------------------------------------------------------------------------------------------
#: Cipher character -> SSN digit, the fixed substitution TANF-app undoes when the header's
#: ENCRYPTION field is "E" (its ``tanf_ssn_decryption_func``). Note the cipher alphabet itself
#: contains the digits "9" and "0", so an SSN cannot be recognised as plain or encrypted by its
#: characters: decide from the header, never by looking.
SSN_DECRYPTION_MAP: dict[str, str] = {
    "@": "1",
    "9": "2",
    "Z": "3",
    "P": "4",
    "0": "5",
    "#": "6",
    "Y": "7",
    "B": "8",
    "W": "9",
    "T": "0",
}
#: SSN digit -> cipher character (the inverse of ``SSN_DECRYPTION_MAP``).
SSN_ENCRYPTION_MAP: dict[str, str] = {v: k for k, v in SSN_DECRYPTION_MAP.items()}

_ENCRYPT_TABLE = str.maketrans(SSN_ENCRYPTION_MAP)
_DECRYPT_TABLE = str.maketrans(SSN_DECRYPTION_MAP)


def encrypt_ssn(ssn: str) -> str:
    """Substitute each digit of ``ssn`` with its cipher character.

    Raises ValueError for anything but digits, because a half-substituted SSN would decrypt to
    a different person.
    """
    if not ssn.isdigit() or not ssn.isascii():
        raise ValueError(f"SSN must contain only digits, got {ssn!r}")
    return ssn.translate(_ENCRYPT_TABLE)


def decrypt_ssn(text: str) -> str:
    """Turn an encrypted SSN back into digits.

    Unlike TANF-app, which passes unknown characters through, this raises ValueError for a
    character outside the cipher alphabet, so corrupt input is not silently mixed into linkage.
    """
    bad = sorted({c for c in text if c not in SSN_DECRYPTION_MAP})
    if bad:
        raise ValueError(f"not an encrypted SSN, unexpected characters {bad}: {text!r}")
    return text.translate(_DECRYPT_TABLE)


def is_section1_header(line: str) -> bool:
    """True when ``line`` is the HEADER of a section 1 report (a UTF-8 byte-order mark before it
    is allowed).

    Why: a folder of TANF files holds names like ``ADS.E2J.FTP1.TS142``; what a file is shows in
    its first line.
    """
    return SECTION1_HEADER.match(line.removeprefix("\ufeff")) is not None


def header_is_encrypted(header_line: str) -> bool:
    """True when the HEADER line says the file's SSNs are encrypted ("E")."""
    return parse_record(HEADER, header_line)[ENCRYPTION_FIELD] == ENCRYPTED_FLAG


# --------------------------------------------------------------------------------------------
# Rendering and slicing
# --------------------------------------------------------------------------------------------
def format_record(fields: Iterable[Field], values: Mapping[str, str | int | None]) -> str:
    """Render one line from ``values`` keyed by field name.

    Numeric (N) values are right-justified and zero-filled and must be non-negative digits;
    alphanumeric (A) values are left-justified and space-filled. A missing key, ``None`` or ""
    writes blanks for either kind, which TANF-app reads as "not reported" (zeros would be a
    reported 0). Positions no field covers are blanks. Raises ValueError naming the field when a
    value is too long or not numeric for an N field. Keys not in ``fields`` are ignored, so the
    output of ``parse_record`` for a wider layout can be passed straight in.
    """
    fields = tuple(fields)
    buf = [" "] * max((f.end for f in fields), default=0)
    for f in fields:
        raw = values.get(f.name)
        text = "" if raw is None else str(raw)
        if text == "":
            continue
        if f.kind == "N":
            if not (text.isdigit() and text.isascii()):
                raise ValueError(f"{f.name}: numeric field needs digits only, got {raw!r}")
            text = text.rjust(f.width, "0")
        else:
            text = text.ljust(f.width, " ")
        if len(text) > f.width:
            raise ValueError(f"{f.name}: value {raw!r} is longer than its {f.width} characters")
        buf[f.start : f.end] = text
    return "".join(buf)


def parse_record(fields: Iterable[Field], line: str) -> dict[str, str]:
    """Slice ``line`` into raw strings keyed by field name, right padding removed.

    Only trailing spaces (and a line ending) are removed: zero-filled numbers keep their
    leading zeros, because "06" and "6" differ for codes such as STATE_FIPS. A line shorter
    than the layout yields "" for the missing fields.
    """
    line = line.rstrip("\r\n")
    return {f.name: line[f.start : f.end].rstrip(" ") for f in fields}


def _slot_is_absent(slot: str) -> bool:
    """A child slot that is blank (or missing) holds no child; TANF-app also skips all zeros."""
    return slot.strip(" ") == "" or set(slot) == {"0"}


def parse_t3_children(line: str) -> list[dict[str, str]]:
    """Return the one or two children on a T3 line, each with the shared prefix fields.

    Each child dict has RecordType, RPT_MONTH_YEAR and CASE_NUMBER plus the ``T3_CHILD`` field
    names. A slot that is blank, all zeros or beyond the end of a shortened line is absent.
    """
    prefix = parse_record(T3_PREFIX, line)
    return [{**prefix, **parse_record(T3_CHILD, slot)} for slot in t3_child_slots(line)]


def t3_child_slots(line: str) -> list[str]:
    """The text of each child slot of a T3 line that holds a child (one or two), 41 characters
    or fewer on a shortened line.

    Why: a child's record id is built from its slot's text (``person_ids``), whichever slot it
    is in; an empty first slot does not make the second child the first.
    """
    line = line.rstrip("\r\n")
    slots = (line[start : start + T3_CHILD_LENGTH] for start in T3_CHILD_OFFSETS)
    return [slot for slot in slots if not _slot_is_absent(slot)]


def format_t3_record(
    prefix: Mapping[str, str | int | None],
    children: Iterable[Mapping[str, str | int | None]],
) -> str:
    """Render a full 156-character T3 line from the shared prefix and one or two children.

    Why: writers hold children one at a time (like ``parse_t3_children`` returns them); this
    pairs them onto the line. A missing second child leaves its slot blank; RecordType
    defaults to "T3".
    """
    kids = list(children)
    if not 1 <= len(kids) <= 2:
        raise ValueError(f"a T3 line holds one or two children, got {len(kids)}")
    values: dict[str, str | int | None] = {f.name: prefix.get(f.name) for f in T3_PREFIX}
    values["RecordType"] = values["RecordType"] or "T3"
    for number, kid in enumerate(kids, start=1):
        for f in T3_CHILD:
            values[f"CHILD{number}_{f.name}"] = kid.get(f.name)
    return format_record(T3, values)


# --------------------------------------------------------------------------------------------
# Person record ids
# --------------------------------------------------------------------------------------------
#: The items of a T2 adult or a T3 child that say who the person is, the same names in both
#: layouts. A record id is built from them (with the case, the month and the record type), never
#: from the line's place in the file: reviewers' decisions and stable person ids are keyed on
#: record ids, and an id taken from line order names another person when a state sends the same
#: month with its lines in another order. These items are the person's own (birth date, SSN,
#: sex) and their place in the family (member of the assistance unit or not, relation to the
#: head), which a resubmission of the same month repeats; the work, income and education items
#: are left out because corrections change them. A resubmission that corrects one of these
#: items makes a new record, as it should: a decision taken on the old values is no evidence
#: about the new ones.
PERSON_IDENTITY: tuple[str, ...] = ("FAMILY_AFFILIATION", "DATE_OF_BIRTH", "SSN", "GENDER",
                                    "RELATIONSHIP_HOH")
#: The letter a record id gives each person record type: T2 adults, T3 children.
PERSON_KINDS: dict[str, str] = {"T2": "A", "T3": "C"}


def person_digest(items: Mapping[str, str | None]) -> tuple[str, str]:
    """(the identity key, its digest): ``PERSON_IDENTITY`` items joined by "|" (a missing or
    blank item is empty) and the first 8 hex digits of its MD5.

    ``items`` are as ``parse_record`` cuts them (right blanks removed), with the SSN in digits
    (decrypted when the header says "E"), so a state that turns encryption on keeps its ids.
    Eight hex digits keep the id short and readable; they tell apart the few people of one case
    and month (a clash of two different people, about 1 in 4 billion, is numbered like a
    duplicate, see ``person_ids``). A digest, not the values: an id is shown and copied where
    a birth date or SSN must not be.
    """
    key = "|".join(items.get(name) or "" for name in PERSON_IDENTITY)
    return key, hashlib.md5(key.encode()).hexdigest()[:8]


def person_ids(month: str, case: str, kind: str,
               people: Sequence[tuple[Mapping[str, str | None], str]]) -> list[str]:
    """The source ids of one case's adults (``kind`` "A") or children ("C") in one report
    month, in the order of ``people``: each is (the person's items, their text: a T2 line after
    the case number or a T3 child slot, right blanks removed).

    An id is ``<RPT_MONTH_YEAR>-<CASE_NUMBER>-<kind>-<digest>``. Two people of the case and month
    with the same identity items (twins without SSNs, a person reported twice) both stay records:
    the first in the order of (identity key, text) keeps the id and the others add ``-2``,
    ``-3``... That order is the records' content, not their place in the file, so reordering
    the lines gives every person the same id; people equal in their whole text cannot be told
    apart by anyone, and either numbering stages the same values under the same ids. The ingest
    (``linkage.ingest.tanf``) builds the same ids in SQL; the generator uses this function.
    """
    keyed = [(*person_digest(items), text, place) for place, (items, text) in enumerate(people)]
    ids = [""] * len(keyed)
    seen: dict[str, int] = {}
    for _, digest, _, place in sorted(keyed, key=lambda k: (k[1], k[0], k[2])):
        seen[digest] = seen.get(digest, 0) + 1
        base = f"{month}-{case}-{kind}-{digest}"
        ids[place] = base if seen[digest] == 1 else f"{base}-{seen[digest]}"
    return ids
