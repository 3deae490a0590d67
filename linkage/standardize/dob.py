"""Dates of birth: one DATE per record from whatever the source system or Excel wrote.

Why: date of birth is the second-strongest identifier after SSN, and the four systems write it
four ways (ISO, US month-first, compact, and Excel's mangling: serial day numbers and 2-digit
years). Default dates that intake screens fill in (1900-01-01, anything in the 1800s, dates in
the future) would otherwise make strangers agree, so they are nulled with a flag.

``std_dob`` is the SQL macro the ingest runs; ``standardize_dob`` is its pure-Python twin for the
tests. Both read the same regex constants below.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from .ssn import hmis_code, lit

#: HUD DOBDataQuality 2 = "Approximate or partial DOB reported" (same code as for SSN).
APPROXIMATE_CODE: str = "2"

#: Earliest birth date believed: anything earlier is a default value, not a person's birthday.
EARLIEST = date(1901, 1, 1)
#: Excel's day zero (it counts 1900 as a leap year, hence the 30th rather than the 31st).
EXCEL_EPOCH = date(1899, 12, 30)

_WS = r"[ \t\r\n]*"
#: An optional time part, as exports of DATETIME columns append ('T00:00:00', ' 0:00', ' 12:00 AM').
_TIME = (
    r"(?:(?:T|[ \t]+)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:[ ]?(?:[AaPp][Mm]|Z|[+-][0-9]{2}(?::?[0-9]{2})?))?)?"
)
#: (name, pattern, meaning of groups 1..3); tried in this order, first match wins.
_ISO = _WS + r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})" + _TIME + _WS
_US4 = _WS + r"([0-9]{1,2})[-/]([0-9]{1,2})[-/]([0-9]{4})" + _TIME + _WS
_US2 = _WS + r"([0-9]{1,2})[-/]([0-9]{1,2})[-/]([0-9]{2})" + _TIME + _WS
_COMPACT = _WS + r"([0-9]{4})([0-9]{2})([0-9]{2})" + _WS
_EXCEL = _WS + r"([0-9]{5})(?:\.0*)?" + _WS
_BLANK = _WS


def _anchored(pattern: str) -> str:
    """regexp_extract searches, so the SQL side needs explicit anchors (Python uses fullmatch)."""
    return "^(?:" + pattern + ")$"


def _groups(pattern: str) -> list[str]:
    return [
        f"TRY_CAST(regexp_extract(s, {lit(_anchored(pattern))}, {i}) AS INTEGER)" for i in (1, 2, 3)
    ]


_iso, _us4, _us2, _compact = (_groups(p) for p in (_ISO, _US4, _US2, _COMPACT))

MACROS: tuple[str, ...] = (
    # [year, month, day] as integers, or NULL when no accepted layout matches.
    f"""CREATE OR REPLACE TEMP MACRO _std_dob_ymd(s, today) AS
        CASE WHEN regexp_full_match(s, {lit(_ISO)}) THEN [{_iso[0]}, {_iso[1]}, {_iso[2]}]
             WHEN regexp_full_match(s, {lit(_US4)}) THEN [{_us4[2]}, {_us4[0]}, {_us4[1]}]
             WHEN regexp_full_match(s, {lit(_US2)}) THEN [
                 CASE WHEN {_us2[2]} > year(today) % 100 THEN 1900 ELSE 2000 END + {_us2[2]},
                 {_us2[0]}, {_us2[1]}]
             WHEN regexp_full_match(s, {lit(_COMPACT)})
                 THEN [{_compact[0]}, {_compact[1]}, {_compact[2]}]
        END""",
    f"""CREATE OR REPLACE TEMP MACRO _std_dob_parse(s, today) AS
        CASE WHEN regexp_full_match(s, {lit(_EXCEL)})
                 THEN DATE {lit(EXCEL_EPOCH.isoformat())}
                      + TRY_CAST(regexp_extract(s, {lit(_anchored(_EXCEL))}, 1) AS INTEGER)
             ELSE list_transform([_std_dob_ymd(s, today)], lambda p:
                      CASE WHEN p[1] >= 1 THEN try(make_date(p[1], p[2], p[3])) END)[1]
        END""",
    f"""CREATE OR REPLACE TEMP MACRO _std_dob_flag(s, d, quality, today) AS
        CASE WHEN s IS NULL OR regexp_full_match(s, {lit(_BLANK)}) THEN 'missing'
             WHEN d IS NULL THEN 'invalid'
             WHEN d < DATE {lit(EARLIEST.isoformat())} OR d > today THEN 'placeholder'
             WHEN _std_hmis_code(quality) = {lit(APPROXIMATE_CODE)} THEN 'approximate'
        END""",
    # ``today`` defaults to current_date; tests pass it (std_dob(x, q, today := DATE '...')) so
    # the 2-digit-year pivot and the "future date" rule are reproducible. The default is NULL,
    # taken as current_date in the body: DuckDB 1.4 allows only constant macro defaults.
    """CREATE OR REPLACE TEMP MACRO std_dob(raw, quality, today := NULL) AS
        list_transform([CAST(raw AS VARCHAR)], lambda s:
            list_transform([_std_dob_parse(s, coalesce(today, current_date))], lambda d:
                list_transform([_std_dob_flag(s, d, quality, coalesce(today, current_date))],
                               lambda f:
                    list_transform([CASE WHEN f IS NULL OR f = 'approximate' THEN d END],
                        lambda k: struct_pack(
                            dob := k,
                            y := CAST(year(k) AS INTEGER),
                            m := CAST(month(k) AS INTEGER),
                            d := CAST(day(k) AS INTEGER),
                            flag := f
                        ))[1]
                )[1]
            )[1]
        )[1]""",
)


def _parse(text: str, today: date) -> date | None:
    """The date ``text`` spells in any accepted layout, else None (twin of _std_dob_parse)."""
    match = re.fullmatch(_EXCEL, text)
    if match:
        return EXCEL_EPOCH + timedelta(days=int(match.group(1)))
    if match := re.fullmatch(_ISO, text):
        y, m, d = (int(g) for g in match.groups())
    elif match := re.fullmatch(_US4, text):
        m, d, y = (int(g) for g in match.groups())
    elif match := re.fullmatch(_US2, text):
        m, d, yy = (int(g) for g in match.groups())
        y = (1900 if yy > today.year % 100 else 2000) + yy
    elif match := re.fullmatch(_COMPACT, text):
        y, m, d = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def standardize_dob(
    raw: str | None, quality: object = None, today: date | None = None
) -> tuple[date | None, str | None]:
    """Python twin of ``std_dob``: returns ``(dob, flag)``.

    flag is None (clean), 'approximate' (HUD quality 2; dob kept), 'placeholder', 'invalid' or
    'missing'. ``today`` bounds future dates and pivots 2-digit years (YY > today's YY -> 19YY).
    """
    today = date.today() if today is None else today
    if raw is None or re.fullmatch(_BLANK, str(raw)):
        return None, "missing"
    parsed = _parse(str(raw), today)
    if parsed is None:
        return None, "invalid"
    if parsed < EARLIEST or parsed > today:
        return None, "placeholder"
    if hmis_code(quality) == APPROXIMATE_CODE:
        return parsed, "approximate"
    return parsed, None
