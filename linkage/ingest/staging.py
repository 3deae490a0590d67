"""From validated raw rows to the `staged` layer, the same way for every source.

Each reader (mapped CSV/Parquet, HMIS, TANF) ends with views of its valid rows and a mapping
(`PersonSpec`, `MembershipSpec`, ...); these functions turn them into the person views
`_person_rows` and `_person_input` (temporary, of the reader's cursor) and rows of
`staged.memberships`, `staged.groups` and `staged.events`, each carrying the `source_file` and
`source_line` it came from. Standardization then turns a source's `_person_input` into its
`staged.person_records`.

Each of them also counts, per file and column, the values that the mapping loses (a date no
format reads, a code the mapping does not know, a ZIP code that is none) into
`staged.quality` (`linkage.ingest.quality`): the rows are staged, the values are not.
"""

from __future__ import annotations

import duckdb

from linkage.ingest import quality
from linkage.ingest.quality import Check
from linkage.sources import EventSpec, GroupSpec, MembershipSpec, PersonSpec, SourceConfig
from linkage.standardize import standardize_address
from linkage.warehouse import literal, quote

# A source's person rows as mapped, waiting for standardization, in two temporary views of the
# reader's cursor: `_person_rows`, every mapped row, and `_person_input`, the row that is each
# person's record. Views, not tables: standardization reads the distinct names, DOBs and
# addresses from any row and each record once, and copying the rows into a table first cost more
# than that (0.45 CPU-seconds at 1M). Sources are read side by side, each on its own cursor, and
# temporary objects belong to their cursor: one pair per source.
PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "VARCHAR"), ("system", "VARCHAR"), ("source", "VARCHAR"),
    ("source_id", "VARCHAR"), ("source_file", "VARCHAR"), ("source_line", "BIGINT"),
    ("first_name_raw", "VARCHAR"), ("middle_name_raw", "VARCHAR"), ("last_name_raw", "VARCHAR"),
    ("suffix_raw", "VARCHAR"), ("dob_raw", "VARCHAR"), ("dob_quality", "VARCHAR"),
    ("ssn_raw", "VARCHAR"), ("ssn_quality", "VARCHAR"), ("name_quality", "VARCHAR"),
    ("sex", "VARCHAR"), ("address_line_raw", "VARCHAR"), ("city_raw", "VARCHAR"),
    ("state_raw", "VARCHAR"), ("zip_raw", "VARCHAR"), ("phone_raw", "VARCHAR"), ("seen", "DATE"),
)
# How the staged tables store some columns. Ids and SSNs are all but unique per row, surnames
# and DOBs as given repeat a dozen times at most: a dictionary hardly shrinks them, and DuckDB's
# default (dictionary or FSST) spent up to twice as long encoding them as storing them plain.
# JSON details repeat their keys on every row: zstd packs them at half the default's cost. At
# 1M persons this took 0.9 CPU-seconds off the ingest, for about 100 MB more disk.
PLAIN = "USING COMPRESSION uncompressed"
PACKED = "USING COMPRESSION zstd"
DDL = f"""
CREATE TABLE IF NOT EXISTS staged.person_records (
    record_id VARCHAR {PLAIN}, system VARCHAR, source VARCHAR, source_id VARCHAR {PLAIN},
    source_file VARCHAR, source_line BIGINT,
    first_name_raw VARCHAR, middle_name_raw VARCHAR, last_name_raw VARCHAR {PLAIN},
    suffix_raw VARCHAR, first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR {PLAIN},
    suffix VARCHAR, first_name_canonical VARCHAR, first_name_nysiis VARCHAR,
    first_name_metaphone VARCHAR, last_name_parts VARCHAR[],
    last_name_squashed VARCHAR {PLAIN}, last_name_nysiis VARCHAR, last_name_metaphone VARCHAR,
    dob_raw VARCHAR {PLAIN}, dob DATE, dob_year INTEGER, dob_month INTEGER, dob_day INTEGER,
    dob_flag VARCHAR, ssn_raw VARCHAR {PLAIN}, ssn VARCHAR {PLAIN}, ssn_last4 VARCHAR,
    ssn_flag VARCHAR,
    sex VARCHAR, address_street VARCHAR, address_unit VARCHAR, city VARCHAR, state VARCHAR,
    zip5 VARCHAR, address_shared BOOLEAN, phone VARCHAR,
    name_quality VARCHAR, ssn_quality VARCHAR, dob_quality VARCHAR,
    first_seen DATE, last_seen DATE);
CREATE TABLE IF NOT EXISTS staged.memberships (
    record_id VARCHAR {PLAIN}, system VARCHAR, source VARCHAR, group_type VARCHAR,
    group_id VARCHAR {PLAIN}, role VARCHAR, source_role VARCHAR, start_date DATE,
    end_date DATE, source_file VARCHAR, source_line BIGINT);
CREATE TABLE IF NOT EXISTS staged.groups (
    system VARCHAR, source VARCHAR, group_type VARCHAR, group_id VARCHAR {PLAIN},
    start_date DATE, end_date DATE, attributes JSON, source_file VARCHAR, source_line BIGINT);
CREATE TABLE IF NOT EXISTS staged.events (
    record_id VARCHAR {PLAIN}, system VARCHAR, source VARCHAR, event_type VARCHAR,
    group_id VARCHAR {PLAIN}, start_date DATE, end_date DATE, details JSON {PACKED},
    source_file VARCHAR, source_line BIGINT);
CREATE TABLE IF NOT EXISTS staged.rejects (
    source VARCHAR, system VARCHAR, file VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR,
    text VARCHAR);
CREATE TABLE IF NOT EXISTS staged.files (
    source VARCHAR, system VARCHAR, file VARCHAR, sha256 VARCHAR, format VARCHAR,
    version VARCHAR, rows_read BIGINT, rows_staged BIGINT, rows_rejected BIGINT,
    loaded_at TIMESTAMP, warnings VARCHAR[]);
""" + quality.DDL
STAGED_TABLES = ("person_records", "memberships", "groups", "events", "rejects", "files")


def reset(con: duckdb.DuckDBPyConnection) -> None:
    """Start the staged layer afresh: each ingest rebuilds it from raw."""
    quality.reset(con)
    for table in STAGED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS staged.{table}")
    con.execute(DDL)


def clean(column: str | None, columns: set[str]) -> str:
    """A text value as staged: blanks trimmed, empty means NULL. (NUL bytes are gone already:
    the readers hand on relations without them, see `reading.without_nul`.)

    A mapped column the file does not have is NULL (the ingest warns about it once).
    """
    if column is None or column not in columns:
        return "NULL"
    return f"nullif(trim({quote(column)}), '')"


def date_expr(column: str | None, columns: set[str], formats: list[str]) -> str:
    value = clean(column, columns)
    if value == "NULL":
        return "NULL::DATE"
    return _parsed(value, formats)


def _parsed(value: str, formats: list[str]) -> str:
    """The date the text `value` spells in the first of `formats` that reads it, else NULL."""
    tries = ", ".join(f"try_strptime({value}, {literal(f)})::DATE" for f in formats)
    return f"coalesce({tries})"


def _date_checks(columns: set[str], target: str, formats: list[str],
                 *names: str | None) -> list[Check]:
    """A check for each date column the file has: a value that no format reads is lost."""
    problem = f"unreadable date (not {' or '.join(formats)})"
    return [Check(name, target, problem, lost=f"{_parsed('v', formats)} IS NULL")
            for name in dict.fromkeys(names) if name and name in columns]


def _sex(raw: str, spec: PersonSpec) -> str:
    """F, M or NULL from the text `raw`, through the source's `sex_codes` (default: F and M)."""
    if spec.sex_codes:
        cases = " ".join(f"WHEN {literal(code.upper())} THEN {literal(sex)}"
                         for code, sex in spec.sex_codes.items())
        return f"CASE upper({raw}) {cases} END"
    return f"CASE WHEN upper({raw}) IN ('F', 'M') THEN upper({raw}) END"


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def first_line_of(key: str, relation: str) -> str:
    """A WHERE clause keeping the first line of each `key`: a semi-join on each key's first
    line, half the time of a window over whole rows. `relation` holds one file's rows (a mapped
    table is one file), so a line number names one row."""
    return f"WHERE _line IN (SELECT min(_line) FROM {relation} GROUP BY {key})"


def map_persons(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                spec: PersonSpec, relation: str, formats: list[str] | None = None) -> None:
    """Define the cursor's `_person_rows` and `_person_input` over a source's valid person
    rows in `relation`."""
    cols = columns_of(con, relation)
    sid = clean(spec.source_id, cols)
    sex = _sex(clean(spec.sex, cols), spec)
    rows = f"""
        SELECT {literal(source.prefix)} || ':' || {sid}, {literal(source.system)},
               {literal(name)}, {sid}, _file, _line,
               {clean(spec.first_name, cols)}, {clean(spec.middle_name, cols)},
               {clean(spec.last_name, cols)}, {clean(spec.suffix, cols)},
               {clean(spec.dob, cols)}, {clean(spec.dob_quality, cols)},
               {clean(spec.ssn, cols)}, {clean(spec.ssn_quality, cols)},
               {clean(spec.name_quality, cols)}, {sex},
               {clean(spec.address_line, cols)}, {clean(spec.city, cols)},
               {clean(spec.state, cols)}, {clean(spec.zip, cols)}, {clean(spec.phone, cols)},
               {date_expr(spec.seen, cols, formats or source.date_formats)}
        FROM {relation}"""
    # the first row of each person id is their record
    pick = first_line_of(sid, relation) if spec.one_record_per_id else ""
    names = ", ".join(column for column, _ in PERSON_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _person_rows ({names}) AS {rows}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _person_input ({names}) AS {rows} {pick}")
    _check_persons(con, name, source, spec, relation, cols, formats or source.date_formats)


def _check_persons(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                   spec: PersonSpec, relation: str, cols: set[str], formats: list[str]) -> None:
    """What mapping a source's person rows loses (sex codes, ZIP codes, states, the date seen),
    and which columns standardization reads (its flags are counted from person_records)."""
    quality.record_person_columns(con, name, {
        target: column for target, column in (
            ("dob", spec.dob), ("ssn", spec.ssn), ("first_name", spec.first_name),
            ("middle_name", spec.middle_name), ("last_name", spec.last_name))
        if column in cols})
    checks = _date_checks(cols, "person_records.first_seen", formats, spec.seen)
    if spec.sex in cols:
        codes = ", ".join(spec.sex_codes) if spec.sex_codes else "F, M"
        checks.append(Check(spec.sex, "person_records.sex", f"unknown code (not {codes})",
                            lost=f"{_sex('v', spec)} IS NULL"))
    if spec.zip in cols:
        checks.append(Check(spec.zip, "person_records.zip5", "not a ZIP code",
                            judge=lambda v: standardize_address(None, None, None, v)[4] is None))
    if spec.state in cols:
        checks.append(Check(spec.state, "person_records.state", "not a two-letter state",
                            judge=lambda v: standardize_address(None, None, v, None)[3] is None))
    quality.check(con, name, source.system, relation, checks)


def map_no_persons(con: duckdb.DuckDBPyConnection) -> None:
    """Empty `_person_rows` and `_person_input`: what a source has until its reader maps its
    persons, and keeps when every file of it was refused."""
    empty = ", ".join(f"NULL::{kind} AS {column}" for column, kind in PERSON_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _person_rows AS SELECT {empty} WHERE false")
    con.execute("CREATE OR REPLACE TEMP VIEW _person_input AS SELECT * FROM _person_rows")


def insert_memberships(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                       spec: MembershipSpec, relation: str,
                       formats: list[str] | None = None) -> None:
    cols = columns_of(con, relation)
    formats = formats or source.date_formats
    code = f"upper({clean(spec.role, cols)})"
    cases = " ".join(f"WHEN {literal(k.upper())} THEN {literal(v)}"
                     for k, v in spec.roles.items())
    role = f"CASE {code} {cases} ELSE {literal(spec.default_role)} END" if cases else \
        literal(spec.default_role)
    con.execute(f"""
        INSERT INTO staged.memberships
        SELECT {literal(source.prefix)} || ':' || {clean(spec.record, cols)},
               {literal(source.system)}, {literal(name)}, {literal(spec.group_type)},
               {clean(spec.group, cols)}, {role}, {clean(spec.role, cols)},
               {date_expr(spec.start, cols, formats)}, {date_expr(spec.end, cols, formats)},
               _file, _line
        FROM {relation}
    """)
    target = f"memberships ({spec.group_type})"
    checks = _date_checks(cols, target, formats, spec.start, spec.end)
    if spec.roles and spec.role in cols:
        known = ", ".join(literal(code.upper()) for code in spec.roles)
        problem = f"unknown code (staged as {spec.default_role})"
        checks.append(Check(spec.role, target, problem, lost=f"upper(v) NOT IN ({known})"))
    quality.check(con, name, source.system, relation, checks)


def _json(columns: list[str], cols: set[str]) -> str:
    if not columns:
        return "NULL::JSON"
    pairs = ", ".join(f"{literal(c)}, {clean(c, cols)}" for c in columns)
    return f"json_object({pairs})"


def insert_groups(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                  spec: GroupSpec, relation: str, formats: list[str] | None = None) -> None:
    cols = columns_of(con, relation)
    formats = formats or source.date_formats
    con.execute(f"""
        INSERT INTO staged.groups
        SELECT {literal(source.system)}, {literal(name)}, {literal(spec.group_type)},
               {clean(spec.group, cols)}, {date_expr(spec.start, cols, formats)},
               {date_expr(spec.end, cols, formats)}, {_json(spec.attributes, cols)}, _file, _line
        FROM {relation}
        {first_line_of(clean(spec.group, cols), relation) if spec.first_row_only else ""}
    """)
    quality.check(con, name, source.system, relation, _date_checks(
        cols, f"groups ({spec.group_type})", formats, spec.start, spec.end))


def insert_events(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                  spec: EventSpec, relation: str, formats: list[str] | None = None) -> None:
    cols = columns_of(con, relation)
    formats = formats or source.date_formats
    record = (f"{literal(source.prefix)} || ':' || {clean(spec.record, cols)}"
              if spec.record else "NULL")
    when = f"WHERE {clean(spec.when, cols)} IS NOT NULL" if spec.when else ""
    con.execute(f"""
        INSERT INTO staged.events
        SELECT {record}, {literal(source.system)}, {literal(name)}, {literal(spec.event_type)},
               {clean(spec.group, cols)}, {date_expr(spec.start, cols, formats)},
               {date_expr(spec.end, cols, formats)}, {_json(spec.details, cols)}, _file, _line
        FROM {relation} {when}
    """)
    quality.check(con, name, source.system, relation, _date_checks(
        cols, f"events ({spec.event_type})", formats, spec.start, spec.end), when)


def insert_rejects(con: duckdb.DuckDBPyConnection, name: str, system: str,
                   rejects: list) -> None:
    if rejects:
        con.executemany("INSERT INTO staged.rejects VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(name, system, r.file, r.line, r.field, r.reason,
                          None if r.text is None else r.text[:2000]) for r in rejects])
