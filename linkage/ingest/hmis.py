"""HUD HMIS CSV exports (FY2022, FY2024, FY2026), read natively.

The version comes from Export.csv's CSVVersion; the mapping onto famlink's canonical tables is
built here from HUD's column names, so an HMIS source needs only `format: hmis_csv` and a path.
FY2022 two-digit LivingSituation codes are translated to FY2024's three-digit ones; FY2024's
gender columns and FY2026's Sex both give the record's sex.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from linkage.formats.hmis_csv import LIVING_SITUATION_2022_TO_2024, version_of
from linkage.ingest.loaded import IngestError, LoadedFile, Progress
from linkage.ingest.mapped import find_file, load_source, load_table, stage_source
from linkage.sources import (
    EventSpec,
    GroupSpec,
    MembershipSpec,
    PersonSpec,
    SourceConfig,
    TableSpec,
)
from linkage.warehouse import literal

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%m-%d-%Y", "%m/%d/%Y"]
_SPEC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


def hmis_mapping(source: SourceConfig) -> SourceConfig:
    """The HMIS export as a mapped source: HUD's files, keys and columns."""
    return source.model_copy(update={
        "format": "csv",
        "date_formats": DATE_FORMATS,
        "tables": {
            "Client": TableSpec(file="Client.csv", key=["PersonalID"], required=["PersonalID"]),
            "Enrollment": TableSpec(file="Enrollment.csv", key=["EnrollmentID"],
                                    required=["EnrollmentID", "PersonalID", "HouseholdID"]),
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
            table="Enrollment", record="PersonalID", group="HouseholdID",
            group_type="hmis_household", role="RelationshipToHoH",
            roles={"1": "head_of_household", "2": "child", "3": "spouse_partner",
                   "4": "other_relative", "5": "other"},
            start="EntryDate")],
        "groups": [
            GroupSpec(table="Project", group="ProjectID", group_type="hmis_project",
                      start="OperatingStartDate", end="OperatingEndDate",
                      attributes=["ProjectName", "ProjectType", "OrganizationID",
                                  "HousingType"]),
            GroupSpec(table="Organization", group="OrganizationID",
                      group_type="hmis_organization",
                      attributes=["OrganizationName", "VictimServiceProvider"]),
        ],
        "events": [
            EventSpec(table="Enrollment", event_type="hmis_enrollment", record="PersonalID",
                      group="HouseholdID", start="EntryDate",
                      details=["EnrollmentID", "ProjectID", "_project_type",
                               "_living_situation", "MoveInDate", "RelationshipToHoH"]),
            EventSpec(table="Exit", event_type="hmis_exit", record="PersonalID",
                      group="EnrollmentID", start="ExitDate", details=["ExitID", "Destination"]),
        ],
    })


def ingest_hmis(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                folder: Path, progress: Progress | None = None) -> list[LoadedFile]:
    # Export.csv first: its CSVVersion says how to read the rest.
    export_spec = TableSpec(file="Export.csv", key=["ExportID"],
                            required=["ExportID", "CSVVersion"])
    export_path = find_file(folder, export_spec.file, name)
    if progress:
        progress(f"{name}: reading {export_path.name}")
    export = load_table(con, name, source, "Export", export_spec, export_path, "csv")
    rows = con.execute(f"SELECT CSVVersion, ExportDate FROM {export.valid}").fetchall()
    if len(rows) != 1:
        raise IngestError(f"{export.label}: expected one export row, found {len(rows)}")
    csv_version, export_date = rows[0]
    try:
        version = version_of(csv_version or "")
    except ValueError as exc:
        raise IngestError(f"{export.label}: CSVVersion {csv_version!r}: {exc}") from None
    if export_date and not _SPEC_DATE.match(export_date):
        export.warnings.append(
            f"{export.label}: ExportDate {export_date!r} is not in HUD's YYYY-MM-DD HH:MM:SS "
            f"format; accepted")
    mapped = hmis_mapping(source)
    loaded = load_source(con, name, mapped, folder, progress)
    _derive_columns(con, loaded, version)
    staged = stage_source(con, name, mapped, loaded)
    con.execute(f"""
        INSERT INTO staged.groups
        SELECT {literal(source.system)}, {literal(name)}, 'hmis_export', ExportID,
               NULL, NULL, json_object('CSVVersion', CSVVersion, 'ExportDate', ExportDate,
               'SourceName', SourceName, 'SoftwareName', SoftwareName), _file, _line
        FROM {export.valid}""")
    for item in [export, *staged]:
        item.version = version
    return [export, *staged]


def _derive_columns(con: duckdb.DuckDBPyConnection, loaded: dict[str, LoadedFile],
                    version: str) -> None:
    """Sex from either layout; LivingSituation in FY2024 codes; each enrollment's ProjectType."""
    client = loaded["Client"]
    cols = {row[0] for row in con.execute(f"DESCRIBE {client.valid}").fetchall()}
    if "Sex" in cols:
        sex = "CASE trim(Sex) WHEN '0' THEN 'F' WHEN '1' THEN 'M' END"
    elif {"Woman", "Man"} <= cols:
        sex = ("CASE WHEN trim(Woman) = '1' AND coalesce(trim(Man), '0') <> '1' THEN 'F' "
               "WHEN trim(Man) = '1' AND coalesce(trim(Woman), '0') <> '1' THEN 'M' END")
    else:
        sex = "NULL"
    view = f"{client.valid}_derived"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT *, {sex} AS _sex "
                f"FROM {client.valid}")
    client.valid = view
    enrollment = loaded["Enrollment"]
    living = "LivingSituation"
    if version == "2022":
        cases = " ".join(f"WHEN '{old}' THEN '{new}'"
                         for old, new in LIVING_SITUATION_2022_TO_2024.items())
        living = f"CASE trim(LivingSituation) {cases} ELSE LivingSituation END"
    view = f"{enrollment.valid}_derived"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {view} AS
        SELECT e.*, {living} AS _living_situation, p.ProjectType AS _project_type
        FROM {enrollment.valid} e LEFT JOIN {loaded['Project'].valid} p USING (ProjectID)""")
    enrollment.valid = view
