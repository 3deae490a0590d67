"""The TANF Data Report, section 1 (fixed width), read natively.

Every `*.txt` in the source's folder is a report file: one HEADER, T1 family, T2 adult and T3
child lines (two children a line), one TRAILER. A file whose HEADER or TRAILER is missing,
doubled or broken is refused: each of its lines is rejected with the reason, nothing is staged.
Fields are cut out in DuckDB from the layouts in `linkage.formats.tanf_section1`; encrypted SSNs
are decoded with the standard digit substitution when the header says so.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from linkage.formats import tanf_section1 as layout
from linkage.ingest import staging
from linkage.ingest.loaded import IngestError, LoadedFile, Progress
from linkage.ingest.reading import inspect, load_lines
from linkage.sources import EventSpec, MembershipSpec, PersonSpec, SourceConfig
from linkage.warehouse import literal, quote

_TRAILER = re.compile(r"^TRAILER\d{7}")
_HEADER = re.compile(r"^HEADER\d{4}[1-4]")
_ENCRYPTED_FROM = "".join(layout.SSN_DECRYPTION_MAP)
_ENCRYPTED_TO = "".join(layout.SSN_DECRYPTION_MAP.values())
# the T1 (family) items kept in staged.events; the rest stay in raw
_T1_STAGED = ("RPT_MONTH_YEAR", "CASE_NUMBER", "ZIP_CODE", "FUNDING_STREAM",
              "NBR_FAMILY_MEMBERS", "CASH_AMOUNT", "NBR_MONTHS")
# RELATIONSHIP_HOH (items 38 and 73) to famlink's canonical roles
ROLES = {"01": "head_of_household", "02": "spouse_partner", "03": "other_relative",
         "04": "child", "05": "child", "06": "other_relative", "07": "other_relative",
         "08": "child", "09": "other", "10": "other"}


# why a data line of an accepted file cannot be staged (NULL: it can)
_BAD_LINE = ("CASE WHEN left(text, 2) NOT IN ('T1', 'T2', 'T3') THEN 'record type ' || "
             "coalesce(nullif(trim(left(text, 2)), ''), '(blank)') || ' is not a section 1 "
             "record (T1, T2 or T3)' WHEN nullif(trim(substr(text, 9, 11)), '') IS NULL THEN "
             "'the line is too short to hold a case number' END")


def _cut(fields: tuple[layout.Field, ...], offset: int = 0) -> str:
    return ", ".join(
        f"nullif(rtrim(substr(text, {f.start + 1 + offset}, {f.width})), '') AS {quote(f.name)}"
        for f in fields if f.name != "BLANK")


def _check_structure(con: duckdb.DuckDBPyConnection, raw: str, total: int,
                     item: LoadedFile) -> tuple[str | None, str, str]:
    """(why the file of `total` lines is refused or None, the header line, the trailer line).
    Notes on `item` which lines are records: in an accepted report, all but the first and the
    last, told by number so that later steps need not read every line's text again."""
    item.records = "WHERE NOT (text LIKE 'HEADER%' OR text LIKE 'TRAILER%')"
    lines = con.execute(f"SELECT _line, text FROM {raw} WHERE text LIKE 'HEADER%' "
                        f"OR text LIKE 'TRAILER%' ORDER BY _line").fetchall()
    headers = [(n, t) for n, t in lines if t.startswith("HEADER")]
    trailers = [(n, t) for n, t in lines if t.startswith("TRAILER")]
    if not headers:
        return "the file has no HEADER line: not a TANF section 1 report", "", ""
    if len(headers) > 1:
        return (f"the file has {len(headers)} HEADER lines (lines "
                f"{', '.join(str(n) for n, _ in headers)}): two reports run together?"), "", ""
    if headers[0][0] != 1:
        return f"the HEADER is on line {headers[0][0]}, not line 1", "", ""
    if not _HEADER.match(headers[0][1]):
        return "the HEADER line is broken (expected HEADER, year and quarter 1-4)", "", ""
    if len(trailers) != 1 or trailers[0][0] != total:
        return "the file does not end with exactly one TRAILER line (truncated?)", "", ""
    if not _TRAILER.match(trailers[0][1]):
        return ("the TRAILER line is broken (expected TRAILER and a 7-digit record count)", "",
                "")
    item.records = f"WHERE _line NOT IN (1, {total})"
    return None, headers[0][1], trailers[0][1]


def ingest_tanf(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                folder: Path, progress: Progress | None = None) -> list[LoadedFile]:
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise IngestError(f"source {name}: no TANF report files (*.txt) in {folder}")
    loaded: list[LoadedFile] = []
    accepted: list[str] = []
    for number, path in enumerate(files, start=1):
        if progress:
            progress(f"{name}: reading {path.name} ({number} of {len(files)} report files)")
        info = inspect(path)
        table = f"{name}__{path.stem}".lower()
        label = str(path)
        total = load_lines(con, info, table, label)
        raw = f"raw.{quote(table)}"
        item = LoadedFile(name, source.system, path.stem, info, raw, f"valid_{table}", label,
                          "tanf_section1", warnings=list(info.warnings))
        refused, header_line, trailer = _check_structure(con, raw, total, item)
        data = f"SELECT * FROM {raw} {item.records}"
        if refused:
            item.warnings.append(f"{label}: refused: {refused}")
            con.execute(f"""INSERT INTO staged.rejects SELECT {literal(name)},
                {literal(source.system)}, {literal(label)}, _line, NULL,
                {literal('file refused: ' + refused)}, left(text, 2000) FROM ({data})""")
        else:
            header = layout.parse_record(layout.HEADER, header_line)
            count = int(layout.parse_record(layout.TRAILER, trailer)["RECORD_COUNT"])
            lines = total - 2  # all but the HEADER and the TRAILER
            if count != lines:
                item.warnings.append(f"{label}: the TRAILER counts {count} records, the file "
                                     f"holds {lines}")
            item.version = f"{header['YEAR']}Q{header['QUARTER']}"
            encrypted = header[layout.ENCRYPTION_FIELD] == layout.ENCRYPTED_FLAG
            accepted.append(f"SELECT *, {literal('Y' if encrypted else 'N')} AS _encrypted "
                            f"FROM ({data})")
        loaded.append(item)
    if accepted:
        if progress:
            progress(f"{name}: staging families, adults and children")
        _stage(con, name, source, accepted)
    return loaded


def _stage(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
           accepted: list[str]) -> None:
    """Reject the lines that are not family, adult or child records; stage the rest."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE tanf_lines AS {' UNION ALL '.join(accepted)}")
    con.execute(f"""
        INSERT INTO staged.rejects
        SELECT {literal(name)}, {literal(source.system)}, _file, _line,
               CASE WHEN left(text, 2) IN ('T1', 'T2', 'T3') THEN 'CASE_NUMBER'
                    ELSE 'RecordType' END, {_BAD_LINE}, left(text, 2000)
        FROM tanf_lines WHERE {_BAD_LINE} IS NOT NULL""")
    con.execute(f"DELETE FROM tanf_lines WHERE {_BAD_LINE} IS NOT NULL")
    family_items = tuple(f for f in layout.T1 if f.name in _T1_STAGED)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW tanf_t1 AS
        SELECT _file, _line, {_cut(family_items)} FROM tanf_lines WHERE left(text, 2) = 'T1'""")
    child_slots = " UNION ALL ".join(
        f"SELECT _file, _line, {slot} AS _slot, _encrypted, {_cut(layout.T3_PREFIX)}, "
        f"{_cut(layout.T3_CHILD, offset)} FROM tanf_lines WHERE left(text, 2) = 'T3' "
        f"AND trim(substr(text, {offset + 1}, {layout.T3_CHILD_LENGTH})) NOT IN ('') "
        f"AND NOT regexp_full_match(substr(text, {offset + 1}, {layout.T3_CHILD_LENGTH}), '0+')"
        for slot, offset in enumerate(layout.T3_CHILD_OFFSETS, start=1))
    ssn = (f"CASE _encrypted WHEN 'Y' THEN translate(SSN, {literal(_ENCRYPTED_FROM)}, "
           f"{literal(_ENCRYPTED_TO)}) ELSE SSN END")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE tanf_people AS
        WITH adults AS (
            SELECT _file, _line, 1 AS _slot, RPT_MONTH_YEAR, CASE_NUMBER, DATE_OF_BIRTH,
                   {ssn} AS ssn, GENDER, RELATIONSHIP_HOH, 'A' AS kind
            FROM (SELECT _file, _line, _encrypted, {_cut(layout.T2)} FROM tanf_lines
                  WHERE left(text, 2) = 'T2')),
        children AS (
            SELECT _file, _line, _slot, RPT_MONTH_YEAR, CASE_NUMBER, DATE_OF_BIRTH,
                   {ssn} AS ssn, GENDER, RELATIONSHIP_HOH, 'C' AS kind
            FROM ({child_slots})),
        people AS (SELECT * FROM adults UNION ALL SELECT * FROM children)
        SELECT p.*, RPT_MONTH_YEAR || '-' || CASE_NUMBER || '-' || kind || row_number() OVER (
                   PARTITION BY _file, RPT_MONTH_YEAR, CASE_NUMBER, kind ORDER BY _line, _slot
               ) AS person_id,
               strftime(strptime(RPT_MONTH_YEAR || '01', '%Y%m%d'), '%Y-%m-%d') AS month,
               t1.ZIP_CODE AS zip
        FROM people p LEFT JOIN (SELECT _file, RPT_MONTH_YEAR, CASE_NUMBER, any_value(ZIP_CODE)
                                 AS ZIP_CODE FROM tanf_t1 GROUP BY ALL) t1
        USING (_file, RPT_MONTH_YEAR, CASE_NUMBER)""")
    person = PersonSpec(table="people", source_id="person_id", dob="DATE_OF_BIRTH", ssn="ssn",
                        sex="GENDER", sex_codes={"1": "M", "2": "F"}, zip="zip", seen="month")
    staging.map_persons(con, name, source, person, "tanf_people")
    staging.insert_memberships(con, name, source, MembershipSpec(
        table="people", record="person_id", group="CASE_NUMBER", group_type="tanf_case",
        role="RELATIONSHIP_HOH", roles=ROLES, start="month", end="month"), "tanf_people")
    con.execute("""CREATE OR REPLACE TEMP TABLE tanf_months AS SELECT *,
        strftime(strptime(RPT_MONTH_YEAR || '01', '%Y%m%d'), '%Y-%m-%d') AS month
        FROM tanf_t1""")
    staging.insert_events(con, name, source, EventSpec(
        table="t1", event_type="tanf_month", group="CASE_NUMBER", start="month", end="month",
        details=[d for d in _T1_STAGED if d not in ("CASE_NUMBER",)]), "tanf_months")
