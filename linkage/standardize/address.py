"""Street addresses: comparable street, unit, city, state and ZIP, plus shared-address flags.

Why: families move between the four systems at the same addresses, so a normalized address is
good evidence -- except at shelters, agency offices and P.O. drop addresses, where hundreds of
unrelated families "live". ``flag_shared_addresses`` finds those so the linker can ignore them.

Decisions:

* ``unit`` is the unit *token only* ('123 Main St Apt 4' -> street '123 MAIN ST', unit '4'), so
  'Apt 4', 'Unit 4' and '#4' agree. A designator counts only after at least two tokens (house
  number and street name), so '12 STE GENEVIEVE AVE' keeps its street; anything after the unit
  token is dropped (usually a second unit or a city typed into the line).
* Street suffixes and directionals are abbreviated token-wise (USPS Publication 28 style), on
  both sides of every comparison, so 'NORTH ST' -> 'N ST' is harmless.
* City: same cleaning, with SAINT/FORT/MOUNT -> ST/FT/MT. State: the letters, if exactly two.
* ZIP: 5 digits (ZIP+4 accepted with or without the dash); 3-4 digits, or 8 digits, are Excel
  having dropped leading zeros and are left-padded; '00000' is a placeholder -> NULL.
"""

from __future__ import annotations

import re

import duckdb

from .names import APOSTROPHES as _APOSTROPHES
from .names import fold_upper
from .ssn import lit

_NOT_ADDRESS_CHAR = r"[^A-Z0-9#]+"
_NOT_CITY_CHAR = r"[^A-Z0-9]+"
#: Stray '#' tokens (not followed by a unit) and the spaces around them.
_HASH_TOKENS = r"(?: ?#)+ ?"

#: Unit designators; '#' is split off as its own token before matching.
_DESIGNATORS = ("APT", "APARTMENT", "UNIT", "STE", "SUITE", "RM", "ROOM", "SPC", "#")
#: Designators that are also recognised glued to a number ('APT4', 'STE200').
_GLUED = ("APT", "UNIT", "STE", "RM", "SPC")
#: Always matches a cleaned line. Group 1: the street -- at least two tokens, then lazily up to
#: the first unit designator; group 2: the unit token after a designator; group 3: the number
#: glued to one. Written to match every line so one regexp_extract yields all three (no CASE).
_LINE = (
    r"((?:[A-Z0-9#]+ [A-Z0-9#]|).*?)(?: (?:(?:" + "|".join(_DESIGNATORS) + r")(?: #)? "
    r"([A-Z0-9]+)|(?:" + "|".join(_GLUED) + r")([0-9][A-Z0-9]*))(?: .*)?)?"
)

STREET_TOKENS: dict[str, str] = {
    "STREET": "ST", "STR": "ST", "AVENUE": "AVE", "AV": "AVE", "BOULEVARD": "BLVD",
    "ROAD": "RD", "DRIVE": "DR", "LANE": "LN", "COURT": "CT", "PLACE": "PL", "HIGHWAY": "HWY",
    "PARKWAY": "PKWY", "CIRCLE": "CIR", "TERRACE": "TER", "SQUARE": "SQ", "TRAIL": "TRL",
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
}  # fmt: skip
CITY_TOKENS: dict[str, str] = {"SAINT": "ST", "FORT": "FT", "MOUNT": "MT"}

_STATE = r"([A-Z]{2})"
_ZIP5 = r"([0-9]{5})(?:-?[0-9]{4})?"
_ZIP_SHORT_PLUS4 = r"([0-9]{3,4})-[0-9]{4}"
_ZIP_SHORT_GLUED_PLUS4 = r"([0-9]{4})[0-9]{4}"
_ZIP_SHORT = r"([0-9]{3,4})"
_ZIP_WS = r"[ \t\r\n]"


def _map_literal(mapping: dict[str, str]) -> str:
    return "MAP {" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in mapping.items()) + "}"


def _zip_arm(pattern: str) -> str:
    return (
        f"WHEN regexp_full_match(z, {lit(pattern)}) "
        f"THEN lpad(regexp_extract(z, {lit('^' + pattern + '$')}, 1), 5, '0')"
    )


# Performance note: DuckDB eliminates repeated identical sub-expressions within a projection, so
# the macros repeat _std_addr_clean(line) rather than binding it in a lambda; lambdas nested in
# lambdas measured 3x slower.
MACROS: tuple[str, ...] = (
    f"""CREATE OR REPLACE TEMP MACRO _std_addr_fold(s) AS
        regexp_replace(upper(strip_accents(CAST(s AS VARCHAR))), {lit(_APOSTROPHES)}, '', 'g')""",
    # Punctuation -> one space, '#' as its own token, trimmed.
    f"""CREATE OR REPLACE TEMP MACRO _std_addr_clean(s) AS
        trim(regexp_replace(replace(_std_addr_fold(s), '#', ' # '),
                            {lit(_NOT_ADDRESS_CHAR)}, ' ', 'g'))""",
    """CREATE OR REPLACE TEMP MACRO _std_addr_tokens(s, mapping) AS
        nullif(array_to_string(list_transform(string_split(s, ' '), lambda t:
            coalesce(mapping[t], t)), ' '), '')""",
    f"""CREATE OR REPLACE TEMP MACRO _std_zip5(zip) AS
        list_transform([regexp_replace(CAST(zip AS VARCHAR), {lit(_ZIP_WS)}, '', 'g')],
            lambda z: nullif(CASE {_zip_arm(_ZIP5)} {_zip_arm(_ZIP_SHORT_PLUS4)}
                                  {_zip_arm(_ZIP_SHORT_GLUED_PLUS4)} {_zip_arm(_ZIP_SHORT)}
                             END, '00000'))[1]""",
    f"""CREATE OR REPLACE TEMP MACRO std_address(line, city, state, zip) AS
        struct_pack(
            street := _std_addr_tokens(trim(regexp_replace(
                regexp_extract(_std_addr_clean(line), {lit("^" + _LINE + "$")}, 1),
                {lit(_HASH_TOKENS)}, ' ', 'g')), {_map_literal(STREET_TOKENS)}),
            unit := nullif(
                regexp_extract(_std_addr_clean(line), {lit("^" + _LINE + "$")}, 2)
                || regexp_extract(_std_addr_clean(line), {lit("^" + _LINE + "$")}, 3), ''),
            city := _std_addr_tokens(trim(regexp_replace(_std_addr_fold(city),
                {lit(_NOT_CITY_CHAR)}, ' ', 'g')), {_map_literal(CITY_TOKENS)}),
            state := nullif(regexp_extract(
                regexp_replace(upper(strip_accents(CAST(state AS VARCHAR))), '[^A-Z]', '', 'g'),
                {lit("^" + _STATE + "$")}, 1), ''),
            zip5 := _std_zip5(zip)
        )""",
)


# ----------------------------------------------------------------------------------------------
# Python twin
# ----------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Twin of _std_addr_fold."""
    return re.sub(_APOSTROPHES, "", fold_upper(text))


def _map_tokens(text: str, mapping: dict[str, str]) -> str | None:
    return " ".join(mapping.get(t, t) for t in text.split(" ")) or None


def _zip5(zip_code: object) -> str | None:
    if zip_code is None:
        return None
    z = re.sub(_ZIP_WS, "", str(zip_code))
    for pattern in (_ZIP5, _ZIP_SHORT_PLUS4, _ZIP_SHORT_GLUED_PLUS4, _ZIP_SHORT):
        if match := re.fullmatch(pattern, z):
            padded = match.group(1).rjust(5, "0")
            return None if padded == "00000" else padded
    return None


def standardize_address(
    line: str | None, city: str | None, state: str | None, zip_code: object
) -> tuple[str | None, str | None, str | None, str | None, str | None]:
    """Python twin of ``std_address``: ``(street, unit, city, state, zip5)``."""
    street = unit = None
    if line is not None:
        clean = re.sub(_NOT_ADDRESS_CHAR, " ", _fold(str(line)).replace("#", " # ")).strip(" ")
        match = re.fullmatch(_LINE, clean)
        assert match is not None  # _LINE matches every cleaned line
        street_text = re.sub(_HASH_TOKENS, " ", match.group(1)).strip(" ")
        street = _map_tokens(street_text, STREET_TOKENS)
        unit = (match.group(2) or "") + (match.group(3) or "") or None
    city_std = None
    if city is not None:
        city_text = re.sub(_NOT_CITY_CHAR, " ", _fold(str(city))).strip(" ")
        city_std = _map_tokens(city_text, CITY_TOKENS)
    state_std = None
    if state is not None:
        letters = re.sub("[^A-Z]", "", fold_upper(str(state)))
        state_std = letters if re.fullmatch(_STATE, letters) else None
    return street, unit, city_std, state_std, _zip5(zip_code)


def flag_shared_addresses(
    con: duckdb.DuckDBPyConnection,
    table: str,
    address_key_sql: str,
    group_sql: str,
    min_groups: int,
    *,
    source: str,
) -> None:
    """Create the temporary ``table(address_key, n_groups)``: address keys that at least
    ``min_groups`` distinct groups (families, cases) give.

    ``address_key_sql`` and ``group_sql`` are SQL expressions over ``source`` (a table name or a
    parenthesised SELECT). Rows whose key or group is NULL do not count. Identifiers and
    expressions are interpolated as-is: they come from code, never from data.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT address_key, CAST(count(DISTINCT grp) AS INTEGER) AS n_groups
            FROM (SELECT {address_key_sql} AS address_key, {group_sql} AS grp FROM {source})
            WHERE address_key IS NOT NULL AND grp IS NOT NULL
            GROUP BY address_key
            HAVING count(DISTINCT grp) >= {int(min_groups)}"""
    )
