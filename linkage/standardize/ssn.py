"""Social Security numbers: one clean 9-digit value per record, or a reason why there is none.

Why this matters for linkage: an SSN that two records share is the strongest single piece of
evidence that they are one person -- and a *placeholder* SSN that thousands of records share
(000-00-0000, 123-45-6789, the Woolworth wallet card 078-05-1120) is the fastest way to merge
unrelated families. So anything that cannot be a real SSN is nulled here, with a flag saying why,
before any comparison sees it.

The SQL macro ``std_ssn`` is what the ingest runs (vectorized over every row);
``standardize_ssn`` is its pure-Python twin, kept only so tests can pin the two to each other.
"""

from __future__ import annotations

import re

from linkage.formats.hmis_csv import SSN_DATA_QUALITY


def lit(text: str) -> str:
    """Quote ``text`` as a SQL string literal.

    Why: every regex below is written once in Python and pasted into the macros, so the SQL and
    the Python twin read the very same pattern; DuckDB literals keep backslashes as-is, so only
    the single quote needs doubling. (Shared by the sibling modules, which import it from here.)
    """
    return "'" + text.replace("'", "''") + "'"


#: HUD SSNDataQuality code meaning "Approximate or partial SSN reported": the digits are known
#: to be wrong somewhere, so only the last four (the part clients usually remember) are kept.
PARTIAL_CODE: str = str(
    next(code for code, label in SSN_DATA_QUALITY.items() if label.startswith("Approximate"))
)

#: Separators that clerks and exports put inside an SSN; anything else non-numeric is an error.
_SEPARATORS = r"[ \t\r\n-]"
#: 7 or 8 digits: Excel read the SSN as a number and dropped its leading zeros.
_DIGITS_7_TO_9 = r"[0-9]{7,9}"
_FOUR_DIGITS = r"[0-9]{4}"
_NINE_DIGITS = r"[0-9]{9}"
#: HUD codes arrive as ' 2', '02', '2.0' or an integer column; all mean code 2.
_HMIS_CODE = r"[ \t]*0*([0-9]+)(?:\.0*)?[ \t]*"

#: Numbers SSA never issued or that are famous for being shared (advertising, examples).
_KNOWN_PLACEHOLDERS: tuple[str, ...] = ("123456789", "078051120", "219099999")
#: A nine-digit value that is no real SSN: area 000, 666 or 9xx, group 00, serial 0000, one
#: digit nine times, or a known placeholder. One regex: half the time of testing each part.
_PLACEHOLDER = "|".join((
    "(?:000|666|9[0-9]{2})[0-9]{6}", "[0-9]{3}00[0-9]{4}", "[0-9]{5}0000",
    *(digit * 9 for digit in "0123456789"), *_KNOWN_PLACEHOLDERS))

MACROS: tuple[str, ...] = (
    f"""CREATE OR REPLACE TEMP MACRO _std_hmis_code(q) AS
        CASE WHEN regexp_full_match(CAST(q AS VARCHAR), {lit(_HMIS_CODE)})
             THEN regexp_extract(CAST(q AS VARCHAR), {lit("^" + _HMIS_CODE + "$")}, 1) END""",
    f"""CREATE OR REPLACE TEMP MACRO _std_ssn_clean(raw) AS
        regexp_replace(CAST(raw AS VARCHAR), {lit(_SEPARATORS)}, '', 'g')""",
    f"""CREATE OR REPLACE TEMP MACRO _std_ssn_is_placeholder(s) AS
        regexp_full_match(s, {lit(_PLACEHOLDER)})""",
    f"""CREATE OR REPLACE TEMP MACRO _std_ssn_flag(c, quality) AS
        CASE WHEN c IS NULL OR c = '' THEN 'missing'
             WHEN _std_hmis_code(quality) = {lit(PARTIAL_CODE)} THEN 'partial'
             WHEN NOT regexp_full_match(c, {lit(_DIGITS_7_TO_9)}) THEN 'invalid'
             WHEN _std_ssn_is_placeholder(lpad(c, 9, '0')) THEN 'placeholder'
             WHEN length(c) < 9 THEN 'padded'
        END""",
    # Most SSNs are already nine plain digits: those take a short path (half the time over a
    # million records), the same result as the full one below. In the full one, the
    # list_transform over a one-element list is DuckDB's only "let": it evaluates the cleaned
    # value and its flag once per row instead of once per struct field.
    f"""CREATE OR REPLACE TEMP MACRO std_ssn(raw, quality) AS
        CASE WHEN regexp_full_match(CAST(raw AS VARCHAR), {lit(_NINE_DIGITS)})
                  AND coalesce(_std_hmis_code(quality), '') <> {lit(PARTIAL_CODE)}
                  AND NOT _std_ssn_is_placeholder(CAST(raw AS VARCHAR))
             THEN struct_pack(ssn := CAST(raw AS VARCHAR), last4 := right(CAST(raw AS VARCHAR), 4),
                              flag := NULL::VARCHAR)
             ELSE list_transform([_std_ssn_clean(raw)], lambda c:
            list_transform([_std_ssn_flag(c, quality)], lambda f: struct_pack(
                ssn := CASE WHEN f IS NULL OR f = 'padded' THEN lpad(c, 9, '0') END,
                last4 := CASE
                    WHEN f IS NULL OR f = 'padded' THEN right(c, 4)
                    WHEN f = 'partial' AND regexp_full_match(right(c, 4), {lit(_FOUR_DIGITS)})
                         AND right(c, 4) <> '0000' THEN right(c, 4)
                END,
                flag := f
            ))[1]
        )[1] END""",
)


def hmis_code(quality: object) -> str | None:
    """Canonical HUD code string ('2') for any spelling the exports use, else None.

    Twin of the ``_std_hmis_code`` macro: both read the same regex so they cannot drift.
    """
    if quality is None:
        return None
    match = re.fullmatch(_HMIS_CODE, str(quality))
    return match.group(1) if match else None


def is_placeholder_ssn(ssn: str) -> bool:
    """True for a 9-digit value SSA never issues or that many unrelated people are known to use."""
    return re.fullmatch(_PLACEHOLDER, ssn) is not None


def standardize_ssn(
    raw: str | None, quality: object = None
) -> tuple[str | None, str | None, str | None]:
    """Python twin of ``std_ssn``: returns ``(ssn, last4, flag)``.

    flag is None (clean), 'padded' (leading zeros restored), 'partial' (HUD quality 2: only last4
    trusted), 'placeholder', 'invalid' or 'missing'.
    """
    if raw is None:
        return None, None, "missing"
    clean = re.sub(_SEPARATORS, "", str(raw))
    if clean == "":
        return None, None, "missing"
    if hmis_code(quality) == PARTIAL_CODE:
        tail = clean[-4:]
        keep = re.fullmatch(_FOUR_DIGITS, tail) is not None and tail != "0000"
        return None, (tail if keep else None), "partial"
    if re.fullmatch(_DIGITS_7_TO_9, clean) is None:
        return None, None, "invalid"
    ssn = clean.rjust(9, "0")
    if is_placeholder_ssn(ssn):
        return None, None, "placeholder"
    return ssn, ssn[-4:], ("padded" if len(clean) < 9 else None)
