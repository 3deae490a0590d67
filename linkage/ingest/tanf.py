"""The TANF Data Report, section 1 (fixed width), read natively.

Which files: TDRS names a state's section 1 file `ADS.E2J.FTP1.TS06` (no extension) and a
tribe's `ADS.E2J.FTP1.TS142`, so a file is a report when its first line is a section 1 HEADER,
whatever its name; the source's `files:` patterns (default `*.txt`) name the files read as
reports even without one (and refused, each line rejected with the reason, when they are
broken). Any other file in the folder is named in a warning (and in `staged.files`, 0 rows
read) instead of being read or passed over in silence.

A report is one HEADER, T1 family, T2 adult and T3 child lines (two children a line), one
TRAILER. A file whose HEADER or TRAILER is missing, doubled or broken is refused: each of its
lines is rejected with the reason, nothing is staged. In an accepted report, a line that cannot
be identified (not T1/T2/T3, too short, a blank or impossible report month, a blank case number,
a T3 line without a child) is rejected with its reason and the rest is staged: one file's bad
lines never stop the ingest.

Resubmissions: a state sends a quarter again to correct it. The HEADER carries no date, and
TDRS names every delivery of a state's section the same, so neither says which came last;
TANF-app keeps one version per state, year, quarter and section and uses the latest submitted.
Here the order of delivery is the files' modification time (equal times: name order). The newer
of two reports of the same state, quarter and section replaces the older one whole (its UPDATE
"N" new or "D" delete and replace), or, when it only adds and updates ("U"), the families it
holds. Beyond that, a family and month (RPT_MONTH_YEAR, CASE_NUMBER: the key of its person ids)
found in several files is taken from the newest. Each superseded line is rejected with a reason
naming the newer file; the rejects' `file` names the older one.

Fields are cut out in DuckDB from the layouts in `linkage.formats.tanf_section1`; encrypted SSNs
are decoded with the standard digit substitution when the header says so.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.formats import tanf_section1 as layout
from linkage.ingest import staging
from linkage.ingest.loaded import IngestError, LoadedFile, Progress
from linkage.ingest.reading import FileInfo, inspect, load_lines, raw_table
from linkage.sources import EventSpec, MembershipSpec, PersonSpec, SourceConfig
from linkage.warehouse import literal, quote

_TRAILER = re.compile(r"^TRAILER\d{7}")
_HEADER = re.compile(r"^HEADER\d{4}[1-4]")
_BOM = "\ufeff"
# what a source without `files:` reads whatever the first line: the names famlink always read
DEFAULT_FILES = ("*.txt",)
_ENCRYPTED_FROM = "".join(layout.SSN_DECRYPTION_MAP)
_ENCRYPTED_TO = "".join(layout.SSN_DECRYPTION_MAP.values())
# the T1 (family) items kept in staged.events; the rest stay in raw
_T1_STAGED = ("RPT_MONTH_YEAR", "CASE_NUMBER", "ZIP_CODE", "FUNDING_STREAM",
              "NBR_FAMILY_MEMBERS", "CASH_AMOUNT", "NBR_MONTHS")
# RELATIONSHIP_HOH (items 38 and 73) to famlink's canonical roles
ROLES = {"01": "head_of_household", "02": "spouse_partner", "03": "other_relative",
         "04": "child", "05": "child", "06": "other_relative", "07": "other_relative",
         "08": "child", "09": "other", "10": "other"}


def _child_on(slot: int) -> str:
    """SQL: the T3 line holds a child in `slot` (1 or 2): its 41 characters are neither blank
    (nor cut off) nor all zeros, TANF-app's rule."""
    text = f"substr(text, {layout.T3_CHILD_OFFSETS[slot - 1] + 1}, {layout.T3_CHILD_LENGTH})"
    return f"(trim({text}) <> '' AND NOT regexp_full_match({text}, '0+'))"


# Why a data line of an accepted report cannot be staged: (field, SQL condition, reason), the
# first that holds. The month and case number are the line's identity (person ids are built
# from them); a line without them cannot be told apart from others. No reason quotes a value
# from the line beyond its record type: the line itself is in `staged.rejects.text`.
_MONTH = "substr(text, 3, 6)"
_LINE_CHECKS: tuple[tuple[str | None, str, str], ...] = (
    ("RecordType", "left(text, 2) NOT IN ('T1', 'T2', 'T3')",
     "'record type ' || coalesce(nullif(trim(left(text, 2)), ''), '(blank)') || ' is not a "
     "section 1 record (T1, T2 or T3)'"),
    ("CASE_NUMBER", "length(rtrim(text)) <= 8",
     "'the line is too short to hold a report month and case number'"),
    ("RPT_MONTH_YEAR", f"trim({_MONTH}) = ''",
     "'the report month (RPT_MONTH_YEAR) is blank: the line cannot be tied to a month'"),
    ("RPT_MONTH_YEAR", f"NOT regexp_full_match({_MONTH}, '[0-9]{{4}}(0[1-9]|1[0-2])')",
     "'the report month (RPT_MONTH_YEAR) is not a year and month (YYYYMM)'"),
    ("CASE_NUMBER", "trim(substr(text, 9, 11)) = ''",
     "'the case number (CASE_NUMBER) is blank: the line cannot be tied to a family'"),
    (None, f"left(text, 2) = 'T3' AND NOT ({_child_on(1)} OR {_child_on(2)})",
     "'a T3 line with no child on it (both child slots blank or zeros)'"),
)
_BAD_FIELD = "CASE " + " ".join(
    f"WHEN {cond} THEN {literal(field) if field else 'NULL'}"
    for field, cond, _ in _LINE_CHECKS) + " END"
_BAD_LINE = "CASE " + " ".join(f"WHEN {cond} THEN {why}" for _, cond, why in _LINE_CHECKS) + " END"


@dataclass
class _Report:
    """An accepted report file and what its HEADER says."""

    item: LoadedFile
    header: dict[str, str]
    encrypted: bool
    modified: int  # modification time, ns
    rank: int = 0  # order of delivery among the source's reports: higher is newer

    @property
    def identity(self) -> tuple[str, ...]:
        return tuple(self.header[f] for f in layout.REPORT_IDENTITY)


def _starts_with_header(path: Path) -> bool:
    """The file's first line is a section 1 HEADER (read from its first bytes only)."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(64)
    except OSError:
        return False
    return layout.is_section1_header(start.removeprefix(b"\xef\xbb\xbf").decode("latin-1"))


def find_reports(folder: Path, patterns: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """(the files to read as reports, the other files in the folder), each in name order.

    A report is a file `patterns` name or one whose first line is a section 1 HEADER; the
    folder's sub-folders are searched only as far as a pattern reaches into them.
    """
    if not folder.is_dir():
        return [], []
    named = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    others = []
    for path in sorted(folder.iterdir()):
        if path in named or not path.is_file():
            continue
        if _starts_with_header(path):
            named.add(path)
        else:
            others.append(path)
    return sorted(named), others


def _table_name(name: str, path: Path, taken: set[str]) -> str:
    """A raw table name of the file's own, plain letters: `ADS.E2J.FTP1.TS06` and
    `ADS.E2J.FTP1.TS142` share their stem, so an extension other than .txt stays in it."""
    base = path.stem if path.suffix.lower() == ".txt" else path.name
    base = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_") or "file"
    table, n = f"{name}__{base}", 1
    while table in taken:
        n += 1
        table = f"{name}__{base}_{n}"
    taken.add(table)
    return table


def _check_structure(con: duckdb.DuckDBPyConnection, raw: str, total: int,
                     item: LoadedFile) -> tuple[str | None, str, str]:
    """(why the file of `total` lines is refused or None, the header line, the trailer line).
    Notes on `item` which lines are records: in an accepted report, all but the first and the
    last, told by number so that later steps need not read every line's text again."""
    item.records = "WHERE NOT (text LIKE 'HEADER%' OR text LIKE 'TRAILER%')"
    lines = con.execute(f"SELECT _line, text FROM {raw} WHERE text LIKE 'HEADER%' "
                        f"OR text LIKE 'TRAILER%' OR (_line = 1 AND text LIKE '{_BOM}HEADER%') "
                        f"ORDER BY _line").fetchall()
    lines = [(n, t.removeprefix(_BOM) if n == 1 else t) for n, t in lines]
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
    kind = layout.parse_record(layout.HEADER, headers[0][1])["TYPE"]
    if kind != "A":
        return (f"the HEADER says TYPE {kind or '(blank)'}: not section 1 (TYPE A, active "
                f"cases)"), "", ""
    if len(trailers) != 1 or trailers[0][0] != total:
        return "the file does not end with exactly one TRAILER line (truncated?)", "", ""
    if not _TRAILER.match(trailers[0][1]):
        return ("the TRAILER line is broken (expected TRAILER and a 7-digit record count)", "",
                "")
    item.records = f"WHERE _line NOT IN (1, {total})"
    return None, headers[0][1], trailers[0][1]


def _not_read(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig, path: Path,
              table: str, why: str) -> LoadedFile:
    """A file of the folder that is not read: an empty raw table (so that `staged.files` lists
    it, with its hash, 0 rows read) and a warning naming it."""
    try:
        info = inspect(path)
    except OSError as error:
        info = FileInfo(path, "", "utf-8", 0)
        why = f"{why}; it cannot be opened ({error.strerror})"
    label = str(path)
    target = f"raw.{quote(table)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    raw_table(con, target, info, label, [("_line", "BIGINT"), ("text", "VARCHAR")])
    return LoadedFile(name, source.system, table, info, target, f"valid_{table}", label,
                      "tanf_section1", warnings=[f"{label}: not read: {why}"])


def ingest_tanf(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                folder: Path, progress: Progress | None = None) -> list[LoadedFile]:
    patterns = DEFAULT_FILES if source.files is None else tuple(source.files)
    files, others = find_reports(folder, patterns)
    if not files and not others:
        raise IngestError(f"source {name}: no files in {folder} (a TANF report is a file whose "
                          f"first line is a section 1 HEADER, or one named by `files:` "
                          f"{list(patterns)})")
    loaded: list[LoadedFile] = []
    reports: list[_Report] = []
    taken: set[str] = set()
    for number, path in enumerate(files, start=1):
        if progress:
            progress(f"{name}: reading {path.name} ({number} of {len(files)} report files)")
        table = _table_name(name, path, taken)
        try:
            info = inspect(path)
            modified = path.stat().st_mtime_ns
        except OSError as error:
            loaded.append(_not_read(con, name, source, path, table,
                                    f"it cannot be opened ({error.strerror})"))
            continue
        label = str(path)
        total = load_lines(con, info, table, label)
        raw = f"raw.{quote(table)}"
        item = LoadedFile(name, source.system, table, info, raw, f"valid_{table}", label,
                          "tanf_section1", warnings=list(info.warnings))
        refused, header_line, trailer = _check_structure(con, raw, total, item)
        if refused:
            item.warnings.append(f"{label}: refused: {refused}")
            con.execute(f"""INSERT INTO staged.rejects SELECT {literal(name)},
                {literal(source.system)}, {literal(label)}, _line, NULL,
                {literal('file refused: ' + refused)}, left(text, 2000)
                FROM {raw} {item.records}""")
        else:
            header = layout.parse_record(layout.HEADER, header_line)
            count = int(layout.parse_record(layout.TRAILER, trailer)["RECORD_COUNT"])
            lines = total - 2  # all but the HEADER and the TRAILER
            if count != lines:
                item.warnings.append(f"{label}: the TRAILER counts {count} records, the file "
                                     f"holds {lines}")
            item.version = f"{header['YEAR']}Q{header['QUARTER']}"
            encrypted = header[layout.ENCRYPTION_FIELD] == layout.ENCRYPTED_FLAG
            reports.append(_Report(item, header, encrypted, modified))
        loaded.append(item)
    for path in others:
        loaded.append(_not_read(
            con, name, source, path, _table_name(name, path, taken),
            f"not a TANF section 1 report (its first line is not a section 1 HEADER) and no "
            f"`files:` pattern {list(patterns)} names it"))
    if reports:
        if progress:
            progress(f"{name}: staging families, adults and children")
        _collect_lines(con, name, source, reports)
        _stage(con, name, source)
    return loaded


def _collect_lines(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                   reports: list[_Report]) -> None:
    """Gather the accepted reports' data lines in `tanf_lines`; reject the lines that cannot be
    identified and those a newer delivery supersedes, so that what is left stages once."""
    reports.sort(key=lambda r: (r.modified, r.item.info.path.name, r.item.label))
    for rank, report in enumerate(reports):
        report.rank = rank
    con.execute("CREATE OR REPLACE TEMP TABLE tanf_lines AS " + " UNION ALL ".join(
        f"SELECT _file, _line, text, {literal('Y' if r.encrypted else 'N')} AS _encrypted, "
        f"{r.rank} AS _rank FROM {r.item.raw} {r.item.records}" for r in reports))
    con.execute(f"""
        INSERT INTO staged.rejects
        SELECT {literal(name)}, {literal(source.system)}, _file, _line, {_BAD_FIELD},
               {_BAD_LINE}, left(text, 2000)
        FROM tanf_lines WHERE {_BAD_LINE} IS NOT NULL""")
    con.execute(f"DELETE FROM tanf_lines WHERE {_BAD_LINE} IS NOT NULL")
    _supersede(con, name, source, reports)


def _newer(newer: _Report, older: _Report) -> str:
    """Why `newer` counts as the later delivery, in words."""
    if newer.modified > older.modified:
        return "modified later"
    return "modified at the same time, later by name"


def _supersede(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
               reports: list[_Report]) -> None:
    """Reject the lines that a newer delivery replaces: a whole older report of the same state,
    quarter and section (unless the newer one only adds and updates), then any family and
    month that a newer file reports again. Both files get a warning."""
    by_rank = {r.rank: r for r in reports}
    same: dict[tuple[str, ...], list[_Report]] = defaultdict(list)
    for report in reports:
        same[report.identity].append(report)
    for group in same.values():
        replacing: _Report | None = None
        for report in sorted(group, key=lambda r: -r.rank):  # newest first
            if replacing is not None:
                why = (f"superseded by {replacing.item.label}: the same state, quarter and "
                       f"section delivered again, and that file is newer "
                       f"({_newer(replacing, report)})")
                con.execute(f"""INSERT INTO staged.rejects SELECT {literal(name)},
                    {literal(source.system)}, _file, _line, NULL, {literal(why)},
                    left(text, 2000) FROM tanf_lines WHERE _rank = {report.rank}""")
                con.execute(f"DELETE FROM tanf_lines WHERE _rank = {report.rank}")
                report.item.warnings.append(
                    f"{report.item.label}: every line superseded by the newer "
                    f"{replacing.item.label} (the same state, quarter and section)")
                replacing.item.warnings.append(
                    f"{replacing.item.label}: replaces the older {report.item.label} (the same "
                    f"state, quarter and section; {_newer(replacing, report)})")
            elif report.header["UPDATE"] != layout.UPDATE_ADD:
                replacing = report
    # a family and month in several files: the newest file's lines stand
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tanf_superseded AS
        WITH keyed AS (SELECT _file, _line, _rank, text, {_MONTH} AS month,
                              rtrim(substr(text, 9, 11)) AS case_number FROM tanf_lines),
             newest AS (SELECT month, case_number, max(_rank) AS newest FROM keyed
                        GROUP BY ALL HAVING count(DISTINCT _rank) > 1)
        SELECT k._file, k._line, k._rank, k.text, n.newest
        FROM keyed k JOIN newest n USING (month, case_number) WHERE k._rank < n.newest""")
    pairs = con.execute("SELECT _rank, newest, count(*) FROM tanf_superseded GROUP BY ALL "
                        "ORDER BY ALL").fetchall()
    if not pairs:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE tanf_why (older INTEGER, newer INTEGER, "
                "why VARCHAR)")
    con.executemany("INSERT INTO tanf_why VALUES (?, ?, ?)", [
        (older, newer, f"superseded by {by_rank[newer].item.label}: it reports the same family "
                       f"and month again, and is newer ({_newer(by_rank[newer], by_rank[older])})")
        for older, newer, _ in pairs])
    con.execute(f"""
        INSERT INTO staged.rejects
        SELECT {literal(name)}, {literal(source.system)}, s._file, s._line, NULL, w.why,
               left(s.text, 2000)
        FROM tanf_superseded s JOIN tanf_why w ON w.older = s._rank AND w.newer = s.newest""")
    con.execute("""DELETE FROM tanf_lines t WHERE EXISTS (
        SELECT 1 FROM tanf_superseded s WHERE s._rank = t._rank AND s._line = t._line)""")
    for older, newer, count in pairs:
        old, new = by_rank[older].item, by_rank[newer].item
        old.warnings.append(f"{old.label}: {count} lines superseded by the newer {new.label} "
                            f"(the same families and months delivered again)")
        new.warnings.append(f"{new.label}: replaces {count} lines of the older {old.label} "
                            f"(the same families and months; "
                            f"{_newer(by_rank[newer], by_rank[older])})")


def _cut(fields: tuple[layout.Field, ...], offset: int = 0) -> str:
    return ", ".join(
        f"nullif(rtrim(substr(text, {f.start + 1 + offset}, {f.width})), '') AS {quote(f.name)}"
        for f in fields if f.name != "BLANK")


def _identity_key() -> str:
    """SQL: the person's identity key, `layout.person_digest`'s: the identity items joined by
    "|", a blank item empty (`concat_ws` would drop it and shift the others)."""
    return " || '|' || ".join(f"coalesce({quote(name)}, '')" for name in layout.PERSON_IDENTITY)


def _stage(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig) -> None:
    """Stage the family, adult and child lines left in `tanf_lines`.

    Each adult and child gets the record id `layout.person_ids` defines: the month, the case,
    A or C and a digest of the person's identity items, numbered `-2`, `-3`... only among people
    of the case and month whose identity items are all equal, in the order of their content.
    No line's place in the file enters an id or a value, and no person is dropped: every T2
    line and every child slot stages one record. (A family reported twice in a month with two
    ZIP codes, a state's error, gives its people the smaller, whichever line comes first.)"""
    family_items = tuple(f for f in layout.T1 if f.name in _T1_STAGED)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW tanf_t1 AS
        SELECT _file, _line, {_cut(family_items)} FROM tanf_lines WHERE left(text, 2) = 'T1'""")
    after_case = layout.T3_PREFIX[-1].end + 1  # where a T2 line's own items start (1-based)
    child_slots = " UNION ALL ".join(
        f"SELECT _file, _line, {slot} AS _slot, _encrypted, {_cut(layout.T3_PREFIX)}, "
        f"{_cut(layout.T3_CHILD, offset)}, rtrim(substr(text, {offset + 1}, "
        f"{layout.T3_CHILD_LENGTH})) AS _text FROM tanf_lines WHERE left(text, 2) = 'T3' "
        f"AND {_child_on(slot)}"
        for slot, offset in enumerate(layout.T3_CHILD_OFFSETS, start=1))
    ssn = (f"CASE _encrypted WHEN 'Y' THEN translate(SSN, {literal(_ENCRYPTED_FROM)}, "
           f"{literal(_ENCRYPTED_TO)}) ELSE SSN END")
    own = f"FAMILY_AFFILIATION, DATE_OF_BIRTH, {ssn} AS ssn, GENDER, RELATIONSHIP_HOH, _text"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE tanf_people AS
        WITH adults AS (
            SELECT _file, _line, 1 AS _slot, RPT_MONTH_YEAR, CASE_NUMBER, {own},
                   {literal(layout.PERSON_KINDS['T2'])} AS kind
            FROM (SELECT _file, _line, _encrypted, {_cut(layout.T2)},
                         rtrim(substr(text, {after_case})) AS _text
                  FROM tanf_lines WHERE left(text, 2) = 'T2')),
        children AS (
            SELECT _file, _line, _slot, RPT_MONTH_YEAR, CASE_NUMBER, {own},
                   {literal(layout.PERSON_KINDS['T3'])} AS kind
            FROM ({child_slots})),
        people AS (
            SELECT *, RPT_MONTH_YEAR || '-' || CASE_NUMBER || '-' || kind || '-'
                          || left(md5(_key), 8) AS _base
            FROM (SELECT *, {_identity_key()} AS _key
                  FROM (SELECT * FROM adults UNION ALL SELECT * FROM children)))
        SELECT p.* EXCLUDE (_key, _text, _base),
               _base || CASE WHEN row_number() OVER _same > 1
                             THEN '-' || row_number() OVER _same ELSE '' END AS person_id,
               strftime(strptime(RPT_MONTH_YEAR || '01', '%Y%m%d'), '%Y-%m-%d') AS month,
               t1.ZIP_CODE AS zip
        FROM people p LEFT JOIN (SELECT _file, RPT_MONTH_YEAR, CASE_NUMBER, min(ZIP_CODE)
                                 AS ZIP_CODE FROM tanf_t1 GROUP BY ALL) t1
        USING (_file, RPT_MONTH_YEAR, CASE_NUMBER)
        WINDOW _same AS (PARTITION BY _base ORDER BY _key, _text)""")
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
