"""HUD HMIS CSV exports (FY2020, FY2022, FY2024, FY2026), read natively.

The layout comes from Export.csv's CSVVersion, however the exporting software wrote it, or, when
that is missing or unreadable (FY2020 has no such column), from the headers of Client.csv and
Enrollment.csv. The mapping onto famlink's canonical tables is built here from HUD's column
names, so an HMIS source needs only `format: hmis_csv` and a path. What differs between layouts
is evened out in views over each file's valid rows: dates in the formats vendors export become
ISO, FY2020/FY2022 two-digit LivingSituation and Destination codes become FY2024's three-digit
ones, a shelter's TrackingMethod becomes FY2024's ProjectType, and FY2020's Gender, FY2022's
Female/Male, FY2024's Woman/Man and FY2026's Sex all give the record's sex.

greenriver/hmis-warehouse's importer is the peer: what it accepts is staged here, or rejected
with a reason (a repeated key; a line cut short); an export it could not read at all is refused
with one line naming the file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from linkage.formats.hmis_csv import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    LAYOUT_FILES,
    LIVING_SITUATION_2022_TO_2024,
    TRACKING_NIGHT_BY_NIGHT,
    version_from_headers,
    version_of,
)
from linkage.ingest import staging
from linkage.ingest.loaded import IngestError, LoadedFile, Progress
from linkage.ingest.mapped import (
    find_file,
    load_source,
    load_table,
    mapped_columns,
    raw_name,
    stage_source,
)
from linkage.ingest.reading import error_kind
from linkage.sources import (
    EventSpec,
    GroupSpec,
    MembershipSpec,
    PersonSpec,
    SourceConfig,
    TableSpec,
)
from linkage.warehouse import literal, quote, table_exists

# Every HMIS date staging reads is made ISO in the views (`_iso`): HUD's formats are enough.
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]
_SPEC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
_EXPORT = TableSpec(file="Export.csv", key=["ExportID"], required=["ExportID"])
T = TypeVar("T")

# -------------------------------------------------------------------------------------------
# Dates as vendors export them
# -------------------------------------------------------------------------------------------

# The layouts hmis-warehouse's importer reads (HmisCsvImporter ImportConcern HMIS_DATE_FORMATS
# and HMIS_TIME_FORMATS: %Y-%m-%d, %m-%d-%Y, %d-%b-%Y, each with an optional %H:%M[:%S], slashes
# read as hyphens; Ruby's %Y also takes a two-digit year). Groups: year, month, day in the
# order written. A time may follow, with seconds, fractions and AM/PM as spreadsheets add them.
_TIME = r"(?:(?:T|[ \t]+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?[ \t]*([AaPp][Mm])?)?"
_DATE_LAYOUTS: tuple[tuple[str, str], ...] = (
    (r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", "ymd"),  # ISO, HUD's own
    (r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4}|[0-9]{2})", "mdy"),  # 9-10-2015, 12-31-15
    (r"([0-9]{1,2})-([A-Za-z]{3,9})-([0-9]{4}|[0-9]{2})", "dby"),  # 08-MAY-67, 8-May-1967
)
_MONTHS = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
           "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER")
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_DATETIME = _ISO_DATE + r" [0-9]{2}:[0-9]{2}:[0-9]{2}"


def _layout_parts(pattern: str, order: str) -> str:
    """SQL: the struct (y, m, d, hh, mi, ss, ap) of text `t` written in one layout; y is ''
    when `t` is not in that layout. One regexp_extract names all the groups at once, which
    keeps the expression small: DuckDB binds it again in every query of a view that has it."""
    names = [*order, "hh", "mi", "ss", "ap"]
    parts = f"regexp_extract(t, {literal(f'^{pattern}{_TIME}$')}, {names})"
    if "b" in order:  # a month's name: its first three letters, or the whole name
        months = "[" + ", ".join(literal(m) for m in _MONTHS) + "]"
        month = (f"list_position(list_transform({months}, lambda n: upper(x.b) = n "
                 f"OR upper(x.b) = left(n, 3)), true)")
    else:
        month = "TRY_CAST(x.m AS INTEGER)"
    return (f"list_transform([{parts}], lambda x: struct_pack(y := x.y, m := {month}, "
            f"d := TRY_CAST(x.d AS INTEGER), hh := x.hh, mi := x.mi, ss := x.ss, "
            f"ap := x.ap))[1]")


MACROS: tuple[str, ...] = (
    # the parts of a date as written, from the first layout it fits; NULL when none
    "CREATE OR REPLACE TEMP MACRO _hmis_date_parts(t) AS list_filter(["
    + ", ".join(_layout_parts(pattern, order) for pattern, order in _DATE_LAYOUTS)
    + "], lambda p: p.y <> '')[1]",
    # A two-digit year goes to the century that puts the date on or before `latest`: for a birth
    # date that is today, so no one is born in the future (08-MAY-67 -> 1967, 17-JUN-20 -> 2020);
    # for other dates the end of next year, as hmis-warehouse's importer does.
    """CREATE OR REPLACE TEMP MACRO _hmis_year(y, m, d, latest) AS
        CASE WHEN length(y) = 4 THEN y::INTEGER
             WHEN (2000 + y::INTEGER) * 10000 + m * 100 + d
                  > year(latest) * 10000 + month(latest) * 100 + day(latest)
                 THEN 1900 + y::INTEGER
             ELSE 2000 + y::INTEGER END""",
    """CREATE OR REPLACE TEMP MACRO _hmis_hour(hh, ap) AS
        coalesce(TRY_CAST(nullif(hh, '') AS INTEGER), 0) % CASE WHEN ap <> '' THEN 12 ELSE 24 END
        + CASE WHEN upper(ap) = 'PM' THEN 12 ELSE 0 END""",
    # `s` as a timestamp, or NULL when it is no date in any layout (or no real day: 02-30-2015)
    """CREATE OR REPLACE TEMP MACRO hmis_timestamp(s, latest) AS
        list_transform([_hmis_date_parts(replace(trim(s), '/', '-'))], lambda p:
            CASE WHEN p.y IS NOT NULL THEN try(make_timestamp(
                _hmis_year(p.y, p.m, p.d, latest), p.m, p.d, _hmis_hour(p.hh, p.ap),
                coalesce(TRY_CAST(nullif(p.mi, '') AS INTEGER), 0),
                coalesce(TRY_CAST(nullif(p.ss, '') AS DOUBLE), 0))) END)[1]""",
)


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the date macros on `con` (temporary objects of its catalog, so of each cursor)."""
    for statement in MACROS:
        con.execute(statement)


def _iso(column: str) -> str:
    """SQL: the column's text as HUD writes it (ISO) when it is a date in a layout vendors
    export; else the text unchanged, which staging then leaves empty (and a DOB gets its flag).

    Why: the values keep their text form so staging parses every source's dates one way, and
    what could not be read stays as it was for whoever looks at why it is empty.
    """
    value = quote(column)
    latest = "current_date" if column == "DOB" else "make_date(year(current_date) + 1, 12, 31)"
    kind, iso = (("%Y-%m-%d %H:%M:%S", _ISO_DATETIME) if column in DATETIME_COLUMNS
                 else ("%Y-%m-%d", _ISO_DATE))
    return (f"CASE WHEN {value} IS NULL OR regexp_full_match({value}, {literal(iso)}) "
            f"THEN {value} ELSE coalesce(strftime(hmis_timestamp({value}, {latest}), "
            f"{literal(kind)}), {value}) END")


# -------------------------------------------------------------------------------------------
# The mapping
# -------------------------------------------------------------------------------------------


def hmis_mapping(source: SourceConfig) -> SourceConfig:
    """The HMIS export as a mapped source: HUD's files, keys and columns. Columns starting with
    `_` are derived in `_derive_columns`; ExportID travels with every event and group, so each
    record keeps the export row it came in (an Export.csv may hold several)."""
    return source.model_copy(update={
        "format": "csv",
        "date_formats": DATE_FORMATS,
        "tables": {
            "Client": TableSpec(file="Client.csv", key=["PersonalID"], required=["PersonalID"]),
            # a blank HouseholdID is kept: the enrollment is a household of its own, as
            # hmis-warehouse's FixBlankHouseholdIds makes it
            "Enrollment": TableSpec(file="Enrollment.csv", key=["EnrollmentID"],
                                    required=["EnrollmentID", "PersonalID"]),
            "Exit": TableSpec(file="Exit.csv", key=["ExitID"],
                              required=["ExitID", "EnrollmentID", "PersonalID"]),
            "Project": TableSpec(file="Project.csv", key=["ProjectID"], required=["ProjectID"]),
            "Organization": TableSpec(file="Organization.csv", key=["OrganizationID"],
                                      required=["OrganizationID"]),
        },
        "person": PersonSpec(
            table="Client", source_id="PersonalID", first_name="FirstName",
            middle_name="MiddleName", last_name="LastName", suffix="NameSuffix", dob="DOB",
            ssn="SSN", sex="_sex", sex_codes={"F": "F", "M": "M"}, seen="DateCreated",
            name_quality="NameDataQuality", ssn_quality="SSNDataQuality",
            dob_quality="DOBDataQuality"),
        "memberships": [MembershipSpec(
            table="Enrollment", record="PersonalID", group="_household",
            group_type="hmis_household", role="RelationshipToHoH",
            roles={"1": "head_of_household", "2": "child", "3": "spouse_partner",
                   "4": "other_relative", "5": "other"},
            start="EntryDate")],
        "groups": [
            GroupSpec(table="Project", group="ProjectID", group_type="hmis_project",
                      start="OperatingStartDate", end="OperatingEndDate",
                      attributes=["ProjectName", "ProjectType", "OrganizationID",
                                  "HousingType", "ExportID"]),
            GroupSpec(table="Organization", group="OrganizationID",
                      group_type="hmis_organization",
                      attributes=["OrganizationName", "VictimServiceProvider", "ExportID"]),
        ],
        "events": [
            EventSpec(table="Enrollment", event_type="hmis_enrollment", record="PersonalID",
                      group="_household", start="EntryDate",
                      details=["EnrollmentID", "ProjectID", "_project_type",
                               "_living_situation", "MoveInDate", "RelationshipToHoH",
                               "ExportID"]),
            EventSpec(table="Exit", event_type="hmis_exit", record="PersonalID",
                      group="EnrollmentID", start="ExitDate",
                      details=["ExitID", "Destination", "_destination", "ExportID"]),
        ],
    })


# -------------------------------------------------------------------------------------------
# Reading an export
# -------------------------------------------------------------------------------------------


def ingest_hmis(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                folder: Path, progress: Progress | None = None) -> list[LoadedFile]:
    """Load, check and stage one HMIS CSV export (a folder of HUD's files)."""
    register_macros(con)
    mapped = hmis_mapping(source)
    export_path = find_file(folder, _EXPORT.file, name)
    if progress:
        progress(f"{name}: reading {export_path.name}")
    export = _readable(con, name, mapped, ["Export"], lambda: load_table(
        con, name, mapped, "Export", _EXPORT, export_path, "csv"))
    loaded = _readable(con, name, mapped, list(mapped.tables), lambda: load_source(
        con, name, mapped, folder, progress))
    version = _version(con, export, loaded)
    _check_export_ids(con, name, source.system, export, loaded)
    _derive_columns(con, mapped, {"Export": export, **loaded}, version)
    staged = stage_source(con, name, mapped, loaded)
    columns = staging.columns_of(con, export.valid)
    attributes = ", ".join(f"{literal(c)}, {staging.clean(c, columns)}" for c in
                           ("CSVVersion", "ExportDate", "SourceName", "SoftwareName"))
    con.execute(f"""
        INSERT INTO staged.groups
        SELECT {literal(source.system)}, {literal(name)}, 'hmis_export',
               {staging.clean("ExportID", columns)},
               {staging.date_expr("ExportStartDate", columns, DATE_FORMATS)},
               {staging.date_expr("ExportEndDate", columns, DATE_FORMATS)},
               json_object({attributes}), _file, _line
        FROM {export.valid}""")
    for item in [export, *staged]:
        item.version = version
    return [export, *staged]


def _readable(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
              tables: list[str], load: Callable[[], T]) -> T:
    """Run `load` (which reads `tables` in that order, the person table first); a file DuckDB
    cannot read at all becomes one line naming it instead of a traceback.

    Why: the peer reads an export or says which file it could not; a reader's stack trace
    tells an analyst neither.
    """
    try:
        return load()
    except duckdb.Error as exc:
        order = sorted(tables, key=lambda t: t != (source.person.table if source.person else ""))
        failed = next((t for t in order if not table_exists(con, f"raw.{raw_name(name, t)}")),
                      order[0])
        raise IngestError(f"source {name}: {source.tables.get(failed, _EXPORT).file} cannot be "
                          f"read as CSV: {error_kind(exc)}") from None


def _version(con: duckdb.DuckDBPyConnection, export: LoadedFile,
             loaded: dict[str, LoadedFile]) -> str:
    """The export's layout: its CSVVersion when readable, else what Client.csv's and
    Enrollment.csv's headers say; disagreements are warnings, an unknowable layout an error.

    Why: the version decides how codes are read (FY2022's two-digit living situations), while
    every column is read by name in any layout; so a readable CSVVersion is trusted over the
    headers (an FY2022 export may have been rewritten in FY2024 columns), and the headers are
    the witness only when the version is missing or cannot be read.
    """
    columns = staging.columns_of(con, export.valid)
    values: list[str] = []
    if "CSVVersion" in columns:
        values = [row[0] for row in con.execute(
            f"SELECT DISTINCT trim(CSVVersion) FROM {export.valid} WHERE "
            f"nullif(trim(CSVVersion), '') IS NOT NULL ORDER BY 1").fetchall()]
    named: dict[str, str] = {}
    for value in values:
        with contextlib.suppress(ValueError):  # unreadable: the headers decide
            named[value] = version_of(value)
    headers = {t: staging.columns_of(con, loaded[t].raw) for t in LAYOUT_FILES if t in loaded}
    by_headers = version_from_headers(headers)
    files = " and ".join(_file_name(loaded[t]) for t in LAYOUT_FILES if t in loaded)
    said = ", ".join(repr(v) for v in values) or "none"
    if len(set(named.values())) == 1:
        version = next(iter(named.values()))
        if by_headers and by_headers != version:
            export.warnings.append(
                f"{export.label}: CSVVersion says FY{version} but the columns of {files} are "
                f"FY{by_headers}'s; codes are read as FY{version}, columns by name")
    elif by_headers is None:
        what = ("names several versions" if named else
                "names no HMIS CSV version famlink reads (FY2020-FY2026)")
        raise IngestError(f"{export.label}: CSVVersion {said} {what}, and the columns of "
                          f"{files} match no HMIS CSV layout")
    else:
        version = by_headers
        if len(set(named.values())) > 1:
            export.warnings.append(
                f"{export.label}: its rows name several versions ({said}); read as "
                f"FY{version}, the layout of {files}")
        elif values:
            export.warnings.append(
                f"{export.label}: CSVVersion {said} is no HMIS CSV version famlink knows; read "
                f"as FY{version}, the layout of {files}")
        elif version != "2020":  # FY2020 exports have no CSVVersion; later ones should
            export.warnings.append(
                f"{export.label}: no CSVVersion; read as FY{version}, the layout of {files}")
    odd = con.execute(
        f"SELECT count(*), min(_line) FROM {export.valid} WHERE NOT regexp_full_match("
        f"trim(ExportDate), {literal(_SPEC_DATE.pattern)})").fetchall()[0] \
        if "ExportDate" in columns else (0, None)
    if odd[0]:
        export.warnings.append(
            f"{export.label}: ExportDate of {odd[0]} row(s) (first at line {odd[1]}) is not "
            f"in HUD's YYYY-MM-DD HH:MM:SS format; accepted")
    return version


def _derive_columns(con: duckdb.DuckDBPyConnection, mapped: SourceConfig,
                    loaded: dict[str, LoadedFile], version: str) -> None:
    """Replace each file's valid rows by a view in which what differs between layouts and
    vendors is evened out: the dates staging reads made ISO; and per file the columns the
    mapping reads that no single layout has (`_sex`, `_household`, `_living_situation`,
    `_project_type`, `_destination`).

    Only the date columns the mapping reads and that hold a value not already ISO are
    rewritten: DuckDB binds a view's every expression in each query that reads it, and a
    vendor-date expression takes it milliseconds; a file written to HUD's specification
    (the usual case) then costs one scan of its dates and nothing more.
    """
    old_codes = version in ("2020", "2022")
    projects = loaded["Project"].valid  # before its own view: the ProjectType as it is
    for table, item in loaded.items():
        cols = staging.columns_of(con, item.raw)
        read = set(mapped_columns(mapped, table)) | {"ExportDate", "ExportStartDate",
                                                      "ExportEndDate"}
        dates = _not_iso(con, item.valid, sorted(c for c in cols & read
                                                 if c in DATE_COLUMNS | DATETIME_COLUMNS))
        replaced = f" REPLACE ({', '.join(f'{_iso(c)} AS {quote(c)}' for c in dates)})" \
            if dates else ""
        extra: dict[str, str] = {}
        joined = ""
        if table == "Client":
            extra["_sex"] = _sex(cols)
        elif table == "Organization" and "VictimServiceProvider" not in cols \
                and "VictimServicesProvider" in cols:  # FY2020's spelling
            extra["VictimServiceProvider"] = "VictimServicesProvider"
        elif table == "Enrollment":
            extra["_living_situation"] = _fy2024_situation("LivingSituation", cols, old_codes)
            extra["_household"] = (f"coalesce({staging.clean('HouseholdID', cols)}, "
                                   f"'enrollment:' || {staging.clean('EnrollmentID', cols)})")
            extra["_project_type"] = "NULL"
            project_cols = staging.columns_of(con, loaded["Project"].raw)
            if "ProjectID" in cols and "ProjectID" in project_cols:
                extra["_project_type"] = "_p._project_type"
                joined = (f" LEFT JOIN (SELECT ProjectID AS _pid, any_value("
                          f"{_fy2024_project_type(project_cols, old_codes)}) AS _project_type "
                          f"FROM {projects} GROUP BY 1) _p ON _p._pid = _e.ProjectID")
            _warn_blank_households(con, item, cols)
        elif table == "Exit":
            extra["_destination"] = _fy2024_situation("Destination", cols, old_codes)
        if not replaced and not extra:
            continue
        view = f"{item.valid}_hmis"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT _e.*{replaced}"
                    f"{''.join(f', {e} AS {quote(c)}' for c, e in extra.items())} "
                    f"FROM {item.valid} _e{joined}")
        # a mapped column this view provides (FY2020's VictimServicesProvider) is not missing:
        # the ingest checks the mapped columns on `valid` (`run.account`)
        item.valid = view


def _not_iso(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> list[str]:
    """The `columns` of `relation` holding a value not written as HUD specifies (ISO)."""
    if not columns:
        return []
    tests = ", ".join(
        f"bool_or(NOT regexp_full_match({quote(c)}, "
        f"{literal(_ISO_DATETIME if c in DATETIME_COLUMNS else _ISO_DATE)}))" for c in columns)
    found = con.execute(f"SELECT {tests} FROM {relation}").fetchall()[0]
    return [c for c, odd in zip(columns, found, strict=True) if odd]


def _fy2024_project_type(cols: set[str], old_codes: bool) -> str:
    """SQL: a project's ProjectType in FY2024 codes: FY2020/FY2022 shelters (type 1) are
    entry/exit (0) unless their TrackingMethod says night-by-night (1)."""
    kind = staging.clean("ProjectType", cols)
    if not old_codes or "TrackingMethod" not in cols:
        return kind
    return (f"CASE WHEN {kind} = '1' AND coalesce(trim(TrackingMethod), '') <> "
            f"'{TRACKING_NIGHT_BY_NIGHT}' THEN '0' ELSE {kind} END")


def _sex(cols: set[str]) -> str:
    """SQL: 'F', 'M' or NULL from whichever layout's columns the client file has."""
    if "Sex" in cols:  # FY2026 4.21
        return "CASE trim(Sex) WHEN '0' THEN 'F' WHEN '1' THEN 'M' END"
    for woman, man in (("Woman", "Man"), ("Female", "Male")):  # FY2024 / FY2022 0-1 columns
        if {woman, man} <= cols:
            return (f"CASE WHEN trim({woman}) = '1' AND coalesce(trim({man}), '0') <> '1' "
                    f"THEN 'F' WHEN trim({man}) = '1' AND coalesce(trim({woman}), '0') <> '1' "
                    f"THEN 'M' END")
    if "Gender" in cols:  # FY2020 3.06: 0 female, 1 male (2-4 say nothing of sex at birth)
        return "CASE trim(Gender) WHEN '0' THEN 'F' WHEN '1' THEN 'M' END"
    return "NULL"


def _fy2024_situation(column: str, cols: set[str], old_codes: bool) -> str:
    """SQL: a living situation or destination in FY2024's three-digit codes."""
    value = staging.clean(column, cols)
    if not old_codes or value == "NULL":
        return value
    cases = " ".join(f"WHEN '{old}' THEN '{new}'"
                     for old, new in LIVING_SITUATION_2022_TO_2024.items())
    return f"CASE {value} {cases} ELSE {value} END"


def _warn_blank_households(con: duckdb.DuckDBPyConnection, item: LoadedFile,
                           cols: set[str]) -> None:
    """Say how many enrollments have no HouseholdID: kept, but nobody's family."""
    blank = con.execute(f"SELECT count(*), min(_line) FROM {item.valid} WHERE "
                        f"{staging.clean('HouseholdID', cols)} IS NULL").fetchall()[0]
    if blank[0]:
        item.warnings.append(
            f"{item.label}: {blank[0]} enrollment(s) without a HouseholdID (first at line "
            f"{blank[1]}); each is a household of its own")


def _check_export_ids(con: duckdb.DuckDBPyConnection, name: str, system: str,
                      export: LoadedFile, loaded: dict[str, LoadedFile]) -> None:
    """Every record names its export row by ExportID. One that names none is kept with a
    warning -- unless it is the last line of a file that ends without a line break while the
    file's other records name their export: that line was cut short (its last field, ExportID,
    lost characters) and is rejected.

    Why: HUD puts ExportID last on every line, so a file cut inside its last line still has
    all its fields, and only the ExportID can tell that line from a whole one.
    """
    if "ExportID" not in staging.columns_of(con, export.raw) or not con.execute(
            f"SELECT count(*) FROM {export.valid}").fetchall()[0][0]:
        return  # Export.csv has no row to name: its own rejects say why
    ids = f"(SELECT DISTINCT trim(ExportID) FROM {export.valid})"
    for item in loaded.values():
        cols = staging.columns_of(con, item.raw)
        if "ExportID" not in cols:
            continue
        known = f"coalesce({staging.clean('ExportID', cols)} IN {ids}, false)"
        other, first, last, last_known = con.execute(f"""
            SELECT count(*) FILTER (WHERE NOT {known}), min(_line) FILTER (WHERE NOT {known}),
                   max(_line), arg_max({known}, _line)
            FROM {item.valid}""").fetchall()[0]
        if not other:
            continue
        # the file's last line: the reader may have rejected it already (fields missing)
        last_read = con.execute("SELECT max(line) FROM staged.rejects WHERE file = ?",
                                [item.label]).fetchall()[0][0]
        if not last_known and (last_read is None or last_read < last) and other < con.execute(
                f"SELECT count(*) FROM {item.valid}").fetchall()[0][0] \
                and not item.info.ends_with_line_break:
            con.execute("INSERT INTO staged.rejects VALUES (?, ?, ?, ?, ?, ?, NULL)",
                        [name, system, item.label, last, "ExportID",
                         "the file ends inside this line (no line break after it) and its "
                         "ExportID names no row of Export.csv: the line was cut short"])
            view = f"{item.valid}_whole"
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {item.valid} "
                        f"WHERE _line <> {int(last)}")
            item.valid = view
            other -= 1
            if not other:
                continue
            first = con.execute(f"SELECT min(_line) FROM {item.valid} WHERE NOT {known}"
                                ).fetchall()[0][0]
        item.warnings.append(
            f"{item.label}: {other} record(s) name an ExportID that Export.csv does not have "
            f"(first at line {first}); kept")


def _file_name(item: LoadedFile) -> str:
    """A loaded file's name as the export calls it (its label's last part)."""
    return Path(item.label).name
