"""HUD HMIS CSV export layout: column orders, CSVVersion handling and the HUD code lists.

Why this module exists: both the synthetic-data generator (which writes HMIS CSV files) and the
ingest (which reads real ones) must agree on HUD's column names, their order and the meaning of
the integer codes. Keeping that in one plain-data module means neither side invents its own copy,
and a fixture test can pin the layout to a real export.

Sources (column names and code values are HUD's public specification; no code was copied):

* FY2024 ("2024 v1.3"): the column order of the real DataLab sample in
  ``/work/shared/fixtures/hmis_csv/greenriver-datalab-fy2024/`` (greenriver/hmis-warehouse,
  ``drivers/hud_twenty_twenty_four_to_twenty_twenty_six/spec/fixtures/in/merged/source/``).
  Code lists: HUD "HMIS CSV Format Specifications FY2024", Appendix B (as mirrored by
  greenriver/hmis-warehouse ``lib/util/concerns/hud_lists_2024.rb``).
* FY2026 ("2026 v1.0"): greenriver/hmis-warehouse
  ``drivers/hud_twenty_twenty_four_to_twenty_twenty_six/spec/fixtures/out/`` -- Export.csv
  (commit 42801b3c), Client.csv (51db5c5a), Enrollment.csv (1f60398f) -- plus HUD's own
  HUD-Data-Lab/DataLab ``FY2026_mapping.R`` for the Client rename to ``HispanicLatinao``.
  Organization, Project and Exit did not change columns in FY2026: greenriver's FY2024->FY2026
  converter (``csv_transformer.rb``, commit 22771954) copies those three files unchanged.
* FY2022 living-situation codes and their FY2024 equivalents: HUD FY2022/FY2024 CSV specs
  (mapping as in greenriver ``hud_twenty_twenty_two_to_twenty_twenty_four`` living situations).
* FY2020 ("HMIS CSV Format Specifications FY2020 v1.8") and FY2022 ("2022 v1.x") column orders,
  and which columns hold dates: the importer of greenriver/hmis-warehouse, the open-source peer
  famlink is measured against: ``app/models/concerns/hmis_structure/<file>.rb``,
  ``hmis_configuration(version: '2020' / '2022')`` -- client.rb (commit eca80739), enrollment.rb
  and project.rb (03f4d64b), exit.rb (1be52fa7, which also pins FY2026 Exit = FY2024 Exit),
  export.rb (0e133ca9) and organization.rb (06492222). Its FY2024 lists agree column for column
  with the DataLab export above. FY2020's Export.csv has no ``CSVVersion`` (it arrived in
  FY2022), so such an export is told apart by its headers (``version_from_headers``).
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------

#: The Export.csv ``CSVVersion`` value this project writes for each format version.
CSV_VERSION: dict[str, str] = {"2024": "2024 v1.3", "2026": "2026 v1.0"}

#: Format versions famlink reads: the fiscal year of HUD's HMIS CSV specification.
KNOWN_VERSIONS: tuple[str, ...] = ("2020", "2022", "2024", "2026")

# How exports write CSVVersion: "2024 v1.3", "FY2024", "2024", "fy 2024 v1.3", "2024v1.3",
# "FY24", "2024 version 1.3". A two-digit year is read only after "FY" ("24 v1.3" is not a year).
_CSV_VERSION_RE = re.compile(
    r"^\s*(?:FY\s*(?P<yy>\d{2})(?!\d)|(?:FY\s*)?(?P<yyyy>\d{4})(?!\d))"
    r"(?:\s*[-_,]?\s*(?:v|ver\.?|version)?\s*\d+(?:\.\d+)*)?\s*$",
    re.IGNORECASE,
)


def version_of(csv_version: str) -> str:
    """Map an Export.csv ``CSVVersion`` value to ``"2020"``/``"2022"``/``"2024"``/``"2026"``,
    however the exporting software wrote it (``"2024 v1.3"``, ``"FY2024"``, ``"2024"``,
    ``"fy 2022 v1.0"``).

    Why: HUD revises the point release (``v1.0`` ... ``v1.3``) without changing which code lists
    and columns apply, and vendors spell the field every way, so the ingest keys on the fiscal
    year only -- but refuses a value it cannot read rather than guess a layout and mis-read
    every column (the ingest then tells the layout by the files' headers).
    """
    if not isinstance(csv_version, str):
        raise ValueError(f"CSVVersion must be a string like '2024 v1.3', got {csv_version!r}")
    match = _CSV_VERSION_RE.match(csv_version)
    year = None
    if match is not None:
        year = match.group("yyyy") or f"20{match.group('yy')}"
    if year not in KNOWN_VERSIONS:
        raise ValueError(
            f"Unknown HMIS CSVVersion {csv_version!r}: expected a fiscal year, one of "
            f"{', '.join(KNOWN_VERSIONS)} (e.g. '2024 v1.3', 'FY2022' or '2026')"
        )
    return year


# --------------------------------------------------------------------------------------------
# Column layouts
# --------------------------------------------------------------------------------------------

_EXPORT: tuple[str, ...] = (
    "ExportID", "SourceType", "SourceID", "SourceName", "SourceContactFirst",
    "SourceContactLast", "SourceContactPhone", "SourceContactExtension", "SourceContactEmail",
    "ExportDate", "ExportStartDate", "ExportEndDate", "SoftwareName", "SoftwareVersion",
    "CSVVersion", "ExportPeriodType", "ExportDirective", "HashStatus", "ImplementationID",
)  # fmt: skip

_ORGANIZATION: tuple[str, ...] = (
    "OrganizationID", "OrganizationName", "VictimServiceProvider", "OrganizationCommonName",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

_PROJECT: tuple[str, ...] = (
    "ProjectID", "OrganizationID", "ProjectName", "ProjectCommonName", "OperatingStartDate",
    "OperatingEndDate", "ContinuumProject", "ProjectType", "HousingType", "RRHSubType",
    "ResidentialAffiliation", "TargetPopulation", "HOPWAMedAssistedLivingFac", "PITCount",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

_CLIENT_2024: tuple[str, ...] = (
    "PersonalID", "FirstName", "MiddleName", "LastName", "NameSuffix", "NameDataQuality", "SSN",
    "SSNDataQuality", "DOB", "DOBDataQuality", "AmIndAKNative", "Asian", "BlackAfAmerican",
    "HispanicLatinaeo", "MidEastNAfrican", "NativeHIPacific", "White", "RaceNone",
    "AdditionalRaceEthnicity", "Woman", "Man", "NonBinary", "CulturallySpecific", "Transgender",
    "Questioning", "DifferentIdentity", "GenderNone", "DifferentIdentityText", "VeteranStatus",
    "YearEnteredService", "YearSeparated", "WorldWarII", "KoreanWar", "VietnamWar",
    "DesertStorm", "AfghanistanOEF", "IraqOIF", "IraqOND", "OtherTheater", "MilitaryBranch",
    "DischargeStatus", "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

# FY2026: 3.06 Gender columns (and DifferentIdentityText) removed, 4.21 Sex added right after
# DOBDataQuality, HispanicLatinaeo renamed HispanicLatinao. greenriver's out/Client.csv (51db5c5a)
# still spells the old HispanicLatinaeo (their DB column name); HUD's FY2026 header is
# HispanicLatinao (HUD-Data-Lab/DataLab FY2026_mapping.R; Abt's Eva FY2026 reads it).
_CLIENT_2026: tuple[str, ...] = (
    "PersonalID", "FirstName", "MiddleName", "LastName", "NameSuffix", "NameDataQuality", "SSN",
    "SSNDataQuality", "DOB", "DOBDataQuality", "Sex", "AmIndAKNative", "Asian",
    "BlackAfAmerican", "HispanicLatinao", "MidEastNAfrican", "NativeHIPacific", "White",
    "RaceNone", "AdditionalRaceEthnicity", "VeteranStatus", "YearEnteredService",
    "YearSeparated", "WorldWarII", "KoreanWar", "VietnamWar", "DesertStorm", "AfghanistanOEF",
    "IraqOIF", "IraqOND", "OtherTheater", "MilitaryBranch", "DischargeStatus", "DateCreated",
    "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

_ENROLLMENT_2024: tuple[str, ...] = (
    "EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "RelationshipToHoH",
    "EnrollmentCoC", "LivingSituation", "RentalSubsidyType", "LengthOfStay",
    "LOSUnderThreshold", "PreviousStreetESSH", "DateToStreetESSH",
    "TimesHomelessPastThreeYears", "MonthsHomelessPastThreeYears", "DisablingCondition",
    "DateOfEngagement", "MoveInDate", "DateOfPATHStatus", "ClientEnrolledInPATH",
    "ReasonNotEnrolled", "PercentAMI", "ReferralSource", "CountOutreachReferralApproaches",
    "DateOfBCPStatus", "EligibleForRHY", "ReasonNoServices", "RunawayYouth",
    "SexualOrientation", "SexualOrientationOther", "FormerWardChildWelfare",
    "ChildWelfareYears", "ChildWelfareMonths", "FormerWardJuvenileJustice",
    "JuvenileJusticeYears", "JuvenileJusticeMonths", "UnemploymentFam",
    "MentalHealthDisorderFam", "PhysicalDisabilityFam", "AlcoholDrugUseDisorderFam",
    "InsufficientIncome", "IncarceratedParent", "VAMCStation", "TargetScreenReqd",
    "TimeToHousingLoss", "AnnualPercentAMI", "LiteralHomelessHistory", "ClientLeaseholder",
    "HOHLeaseholder", "SubsidyAtRisk", "EvictionHistory", "CriminalRecord", "IncarceratedAdult",
    "PrisonDischarge", "SexOffender", "DisabledHoH", "CurrentPregnant", "SingleParent",
    "DependentUnder6", "HH5Plus", "CoCPrioritized", "HPScreeningScore", "ThresholdScore",
    "TranslationNeeded", "PreferredLanguage", "PreferredLanguageDifferent", "DateCreated",
    "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

# FY2026 (greenriver out/Enrollment.csv, 1f60398f): R3 SexualOrientation/SexualOrientationOther
# removed, V10 MentalHealthConsultation added after ThresholdScore. Caution: HUD's DataLab
# FY2026_mapping.R also drops the C4 columns (ENROLLMENT_C4_COLUMNS) and greenriver later moved
# them to a custom CustomEnrollmentFY26Deprecations.csv, so a later "2026 v1.x" export may omit
# them; an ingest should accept their absence.
_ENROLLMENT_2026: tuple[str, ...] = tuple(
    column
    for old in _ENROLLMENT_2024
    if old not in ("SexualOrientation", "SexualOrientationOther")
    for column in ((old, "MentalHealthConsultation") if old == "ThresholdScore" else (old,))
)

# Note the spelling "WorkPlaceViolenceThreats" (capital P): that is what the real export uses.
_EXIT: tuple[str, ...] = (
    "ExitID", "EnrollmentID", "PersonalID", "ExitDate", "Destination", "DestinationSubsidyType",
    "OtherDestination", "HousingAssessment", "SubsidyInformation", "ProjectCompletionStatus",
    "EarlyExitReason", "ExchangeForSex", "ExchangeForSexPastThreeMonths",
    "CountOfExchangeForSex", "AskedOrForcedToExchangeForSex",
    "AskedOrForcedToExchangeForSexPastThreeMonths", "WorkPlaceViolenceThreats",
    "WorkplacePromiseDifference", "CoercedToContinueWork", "LaborExploitPastThreeMonths",
    "CounselingReceived", "IndividualCounseling", "FamilyCounseling", "GroupCounseling",
    "SessionCountAtExit", "PostExitCounselingPlan", "SessionsInPlan", "DestinationSafeClient",
    "DestinationSafeWorker", "PosAdultConnections", "PosPeerConnections",
    "PosCommunityConnections", "AftercareDate", "AftercareProvided", "EmailSocialMedia",
    "Telephone", "InPersonIndividual", "InPersonGroup", "CMExitReason", "DateCreated",
    "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

# FY2020 and FY2022 (hmis-warehouse hmis_structure, see the module docstring). Export.csv gained
# CSVVersion in FY2022 and ImplementationID in FY2024.
_EXPORT_2020: tuple[str, ...] = tuple(c for c in _EXPORT if c not in ("CSVVersion",
                                                                     "ImplementationID"))
_EXPORT_2022: tuple[str, ...] = tuple(c for c in _EXPORT if c != "ImplementationID")

# FY2020 spelt the organization's flag VictimServicesProvider (FY2022: VictimServiceProvider).
_ORGANIZATION_2020: tuple[str, ...] = tuple(
    "VictimServicesProvider" if c == "VictimServiceProvider" else c for c in _ORGANIZATION)

# FY2020/FY2022: emergency shelters were one ProjectType (1) with a TrackingMethod (0 entry/exit,
# 3 night-by-night), which FY2024 folded into ProjectType 0 and 1; HMISParticipatingProject
# moved to HMISParticipation.csv in FY2024.
_PROJECT_2020: tuple[str, ...] = (
    "ProjectID", "OrganizationID", "ProjectName", "ProjectCommonName", "OperatingStartDate",
    "OperatingEndDate", "ContinuumProject", "ProjectType", "HousingType",
    "ResidentialAffiliation", "TrackingMethod", "HMISParticipatingProject", "TargetPopulation",
    "PITCount", "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip
_PROJECT_2022: tuple[str, ...] = tuple(
    column for old in _PROJECT_2020
    for column in ((old, "HOPWAMedAssistedLivingFac") if old == "TargetPopulation" else (old,)))

# FY2020: one Gender column (3.06, codes in GENDER_2020), race "NativeHIOtherPacific", Ethnicity.
_CLIENT_2020: tuple[str, ...] = (
    "PersonalID", "FirstName", "MiddleName", "LastName", "NameSuffix", "NameDataQuality", "SSN",
    "SSNDataQuality", "DOB", "DOBDataQuality", "AmIndAKNative", "Asian", "BlackAfAmerican",
    "NativeHIOtherPacific", "White", "RaceNone", "Ethnicity", "Gender", "VeteranStatus",
    "YearEnteredService", "YearSeparated", "WorldWarII", "KoreanWar", "VietnamWar",
    "DesertStorm", "AfghanistanOEF", "IraqOIF", "IraqOND", "OtherTheater", "MilitaryBranch",
    "DischargeStatus", "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

# FY2022: gender as 0/1 columns Female, Male, NoSingleGender, Transgender, Questioning (plus
# GenderNone); race "NativeHIPacific".
_CLIENT_2022: tuple[str, ...] = tuple(
    column for old in _CLIENT_2020
    for column in {
        "NativeHIOtherPacific": ("NativeHIPacific",),
        "Gender": ("Female", "Male", "NoSingleGender", "Transgender", "Questioning",
                   "GenderNone"),
    }.get(old, (old,)))

_ENROLLMENT_2020: tuple[str, ...] = (
    "EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "RelationshipToHoH",
    "LivingSituation", "LengthOfStay", "LOSUnderThreshold", "PreviousStreetESSH",
    "DateToStreetESSH", "TimesHomelessPastThreeYears", "MonthsHomelessPastThreeYears",
    "DisablingCondition", "DateOfEngagement", "MoveInDate", "DateOfPATHStatus",
    "ClientEnrolledInPATH", "ReasonNotEnrolled", "WorstHousingSituation", "PercentAMI",
    "LastPermanentStreet", "LastPermanentCity", "LastPermanentState", "LastPermanentZIP",
    "AddressDataQuality", "DateOfBCPStatus", "EligibleForRHY", "ReasonNoServices",
    "RunawayYouth", "SexualOrientation", "SexualOrientationOther", "FormerWardChildWelfare",
    "ChildWelfareYears", "ChildWelfareMonths", "FormerWardJuvenileJustice",
    "JuvenileJusticeYears", "JuvenileJusticeMonths", "UnemploymentFam", "MentalHealthIssuesFam",
    "PhysicalDisabilityFam", "AlcoholDrugAbuseFam", "InsufficientIncome", "IncarceratedParent",
    "ReferralSource", "CountOutreachReferralApproaches", "UrgentReferral", "TimeToHousingLoss",
    "ZeroIncome", "AnnualPercentAMI", "FinancialChange", "HouseholdChange", "EvictionHistory",
    "SubsidyAtRisk", "LiteralHomelessHistory", "DisabledHoH", "CriminalRecord", "SexOffender",
    "DependentUnder6", "SingleParent", "HH5Plus", "IraqAfghanistan", "FemVet",
    "HPScreeningScore", "ThresholdScore", "VAMCStation", "DateCreated", "DateUpdated", "UserID",
    "DateDeleted", "ExportID",
)  # fmt: skip

_ENROLLMENT_2022: tuple[str, ...] = (
    "EnrollmentID", "PersonalID", "ProjectID", "EntryDate", "HouseholdID", "RelationshipToHoH",
    "LivingSituation", "LengthOfStay", "LOSUnderThreshold", "PreviousStreetESSH",
    "DateToStreetESSH", "TimesHomelessPastThreeYears", "MonthsHomelessPastThreeYears",
    "DisablingCondition", "DateOfEngagement", "MoveInDate", "DateOfPATHStatus",
    "ClientEnrolledInPATH", "ReasonNotEnrolled", "WorstHousingSituation", "PercentAMI",
    "LastPermanentStreet", "LastPermanentCity", "LastPermanentState", "LastPermanentZIP",
    "AddressDataQuality", "ReferralSource", "CountOutreachReferralApproaches",
    "DateOfBCPStatus", "EligibleForRHY", "ReasonNoServices", "RunawayYouth",
    "SexualOrientation", "SexualOrientationOther", "FormerWardChildWelfare",
    "ChildWelfareYears", "ChildWelfareMonths", "FormerWardJuvenileJustice",
    "JuvenileJusticeYears", "JuvenileJusticeMonths", "UnemploymentFam",
    "MentalHealthDisorderFam", "PhysicalDisabilityFam", "AlcoholDrugUseDisorderFam",
    "InsufficientIncome", "IncarceratedParent", "VAMCStation", "TargetScreenReqd",
    "TimeToHousingLoss", "AnnualPercentAMI", "LiteralHomelessHistory", "ClientLeaseholder",
    "HOHLeaseholder", "SubsidyAtRisk", "EvictionHistory", "CriminalRecord", "IncarceratedAdult",
    "PrisonDischarge", "SexOffender", "DisabledHoH", "CurrentPregnant", "SingleParent",
    "DependentUnder6", "HH5Plus", "CoCPrioritized", "HPScreeningScore", "ThresholdScore",
    "DateCreated", "DateUpdated", "UserID", "DateDeleted", "ExportID",
)  # fmt: skip

# FY2020 and FY2022 Exit: FY2024's without DestinationSubsidyType (added with 3-digit codes).
_EXIT_2020: tuple[str, ...] = tuple(c for c in _EXIT if c != "DestinationSubsidyType")

#: HUD column order per format version (see ``KNOWN_VERSIONS``) and file name without ``.csv``.
#: Why: the generator must write exactly these headers in this order, and the ingest uses them to
#: detect a wrong or mixed-version export before trusting any value.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "2020": {
        "Export": _EXPORT_2020,
        "Organization": _ORGANIZATION_2020,
        "Project": _PROJECT_2020,
        "Client": _CLIENT_2020,
        "Enrollment": _ENROLLMENT_2020,
        "Exit": _EXIT_2020,
    },
    "2022": {
        "Export": _EXPORT_2022,
        "Organization": _ORGANIZATION,
        "Project": _PROJECT_2022,
        "Client": _CLIENT_2022,
        "Enrollment": _ENROLLMENT_2022,
        "Exit": _EXIT_2020,
    },
    "2024": {
        "Export": _EXPORT,
        "Organization": _ORGANIZATION,
        "Project": _PROJECT,
        "Client": _CLIENT_2024,
        "Enrollment": _ENROLLMENT_2024,
        "Exit": _EXIT,
    },
    "2026": {
        "Export": _EXPORT,  # same columns (greenriver out/Export.csv); only SourceID may be longer
        # Organization, Project, Exit: no FY2026 column change; taken over from FY2024 because
        # greenriver's converter copies these files unchanged (no FY2026 out fixture exists).
        "Organization": _ORGANIZATION,
        "Project": _PROJECT,
        "Client": _CLIENT_2026,
        "Enrollment": _ENROLLMENT_2026,
        "Exit": _EXIT,
    },
}

#: The files whose headers tell the layout apart when Export.csv does not say it: only Client
#: and Enrollment changed columns in every version (Exit is the same in FY2024 and FY2026).
LAYOUT_FILES: tuple[str, ...] = ("Client", "Enrollment")


def version_from_headers(headers: dict[str, set[str]]) -> str | None:
    """The version whose Client and Enrollment columns are closest to ``headers`` (file name
    without ``.csv`` -> its header's column names), or None when no layout is clearly closest.

    Why: FY2020 exports carry no CSVVersion, and some exports leave it blank or write something
    unreadable; the headers are then the only witness. "Closest" is the fewest columns in one
    and not the other, summed over the files, so a vendor's extra or missing column does not
    throw the choice (FY2026 without its C4 columns, greenriver's FY2026 ``HispanicLatinaeo``).
    A layout that shares fewer than half its columns with the files is no match at all.
    """
    distance: dict[str, int] = {}
    for version, files in COLUMNS.items():
        shared = total = differ = 0
        for name in LAYOUT_FILES:
            if name not in headers:
                continue
            layout = set(files[name])
            shared += len(layout & headers[name])
            total += len(layout)
            differ += len(layout ^ headers[name])
        if total and shared * 2 >= total:
            distance[version] = differ
    if not distance:
        return None
    best = min(distance.values())
    closest = [version for version, d in distance.items() if d == best]
    return closest[0] if len(closest) == 1 else None


#: HUD columns that hold a date (``yyyy-mm-dd`` in the specification), in the files famlink reads.
DATE_COLUMNS: frozenset[str] = frozenset({
    "DOB", "EntryDate", "DateToStreetESSH", "DateOfEngagement", "MoveInDate",
    "DateOfPATHStatus", "DateOfBCPStatus", "ExitDate", "AftercareDate", "OperatingStartDate",
    "OperatingEndDate", "ExportStartDate", "ExportEndDate",
})  # fmt: skip

#: HUD columns that hold a date and time (``yyyy-mm-dd hh:mm:ss``).
DATETIME_COLUMNS: frozenset[str] = frozenset({
    "DateCreated", "DateUpdated", "DateDeleted", "ExportDate",
})  # fmt: skip

#: 2.02.C TrackingMethod (FY2020/FY2022 Project.csv) for ProjectType 1 (emergency shelter).
TRACKING_METHOD: dict[int, str] = {0: "Entry/Exit Date", 3: "Night-by-Night"}

#: FY2020/FY2022 ProjectType 1 (emergency shelter) becomes FY2024's 1 "Night-by-Night" when its
#: TrackingMethod is this code, else 0 "Entry Exit"; every other ProjectType kept its code.
TRACKING_NIGHT_BY_NIGHT: int = 3

#: FY2024 3.06 Gender columns (one 0/1 column per response, plus GenderNone for 8/9/99).
#: Removed in FY2026, where 4.21 ``Sex`` replaces them.
GENDER_COLUMNS_2024: tuple[str, ...] = (
    "Woman", "Man", "NonBinary", "CulturallySpecific", "Transgender", "Questioning",
    "DifferentIdentity", "GenderNone",
)  # fmt: skip

#: Free-text companion of DifferentIdentity; also removed in FY2026.
GENDER_TEXT_COLUMN_2024 = "DifferentIdentityText"

#: 3.04 race and ethnicity 0/1 columns per version (RaceNone carries 8/9/99 separately).
RACE_COLUMNS: dict[str, tuple[str, ...]] = {
    "2024": (
        "AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinaeo", "MidEastNAfrican",
        "NativeHIPacific", "White",
    ),
    "2026": (
        "AmIndAKNative", "Asian", "BlackAfAmerican", "HispanicLatinao", "MidEastNAfrican",
        "NativeHIPacific", "White",
    ),
}  # fmt: skip

#: Columns that kept their meaning but changed name from FY2024 to FY2026, per file.
COLUMN_RENAMES_2024_TO_2026: dict[str, dict[str, str]] = {
    "Client": {"HispanicLatinaeo": "HispanicLatinao"},
}

#: C4 Translation Assistance columns that a FY2026 Enrollment.csv may or may not carry
#: (see the note above ``_ENROLLMENT_2026``).
ENROLLMENT_C4_COLUMNS: tuple[str, ...] = (
    "TranslationNeeded",
    "PreferredLanguage",
    "PreferredLanguageDifferent",
)

# --------------------------------------------------------------------------------------------
# Code lists (code -> HUD label). Keys are ints; CSV cells are strings, so convert with int().
# --------------------------------------------------------------------------------------------

#: 1.10 No/Yes -- race columns, FY2024 gender columns.
NO_YES: dict[int, str] = {0: "No", 1: "Yes"}

#: 1.7 No/Yes/Missing.
NO_YES_MISSING: dict[int, str] = {0: "No", 1: "Yes", 99: "Data not collected"}

#: 1.8 No/Yes/Reasons for Missing Data -- e.g. VeteranStatus, DisablingCondition.
NO_YES_REASONS_FOR_MISSING_DATA: dict[int, str] = {
    0: "No",
    1: "Yes",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 1.6 RaceNone / GenderNone.
RACE_NONE: dict[int, str] = {
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 3.15.1 RelationshipToHoH -- the household structure the linkage relies on.
RELATIONSHIP_TO_HOH: dict[int, str] = {
    1: "Self (head of household)",
    2: "Child",
    3: "Spouse or partner",
    4: "Other relative",
    5: "Unrelated household member",
    99: "Data not collected",
}

#: 2.02.6 ProjectType (FY2024; unchanged in FY2026). There is no code 5.
PROJECT_TYPE: dict[int, str] = {
    0: "Emergency Shelter - Entry Exit",
    1: "Emergency Shelter - Night-by-Night",
    2: "Transitional Housing",
    3: "PH - Permanent Supportive Housing",
    4: "Street Outreach",
    6: "Services Only",
    7: "Other",
    8: "Safe Haven",
    9: "PH - Housing Only",
    10: "PH - Housing with Services (no disability required for entry)",
    11: "Day Shelter",
    12: "Homelessness Prevention",
    13: "PH - Rapid Re-Housing",
    14: "Coordinated Entry",
}

#: 3.01.5 NameDataQuality.
NAME_DATA_QUALITY: dict[int, str] = {
    1: "Full name reported",
    2: "Partial, street name, or code name reported",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 3.02.2 SSNDataQuality.
SSN_DATA_QUALITY: dict[int, str] = {
    1: "Full SSN reported",
    2: "Approximate or partial SSN reported",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 3.03.2 DOBDataQuality.
DOB_DATA_QUALITY: dict[int, str] = {
    1: "Full DOB reported",
    2: "Approximate or partial DOB reported",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 3.06.1 Gender (FY2020): one code per client in Client.Gender.
GENDER_2020: dict[int, str] = {
    0: "Female",
    1: "Male",
    2: "Trans Female (MTF or Male to Female)",
    3: "Trans Male (FTM or Female to Male)",
    4: "Gender non-conforming (i.e. not exclusively male or female)",
    8: "Client doesn't know",
    9: "Client refused",
    99: "Data not collected",
}

#: 3.06.1 Gender (FY2024) -- the response each gender column stands for.
GENDER_2024: dict[int, str] = {
    0: "Woman (Girl, if child)",
    1: "Man (Boy, if child)",
    2: "Culturally Specific Identity (e.g., Two-Spirit)",
    3: "Different Identity",
    4: "Non-Binary",
    5: "Transgender",
    6: "Questioning",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: 4.21 Sex (FY2026 Client.Sex). HUD's list is 0/1; the column also takes the usual 8/9/99
#: reasons for missing data (HUD DataLab's FY2026 sample draws from 0, 1, 8, 9, 99, blank).
SEX: dict[int, str] = {
    0: "Female",
    1: "Male",
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    99: "Data not collected",
}

#: FY2024 residence list: every 3-digit situation used by 3.917 LivingSituation, 3.12 Destination
#: and 4.12 CurrentLivingSituation, plus the 1-2 digit "other/missing" responses. The first digit
#: of a 3-digit code is its category (see ``LIVING_SITUATION_CATEGORY``).
LIVING_SITUATION: dict[int, str] = {
    8: "Client doesn't know",
    9: "Client prefers not to answer",
    17: "Other",
    24: "Deceased",
    30: "No exit interview completed",
    37: "Worker unable to determine",
    99: "Data not collected",
    101: (
        "Emergency shelter, including hotel or motel paid for with emergency shelter voucher, "
        "or Host Home shelter"
    ),
    116: (
        "Place not meant for habitation (e.g., a vehicle, an abandoned building, "
        "bus/train/subway station/airport or anywhere outside)"
    ),
    118: "Safe Haven",
    204: "Psychiatric hospital or other psychiatric facility",
    205: "Substance abuse treatment facility or detox center",
    206: "Hospital or other residential non-psychiatric medical facility",
    207: "Jail, prison or juvenile detention facility",
    215: "Foster care home or foster care group home",
    225: "Long-term care facility or nursing home",
    302: "Transitional housing for homeless persons (including homeless youth)",
    312: "Staying or living with family, temporary tenure (e.g. room, apartment or house)",
    313: "Staying or living with friends, temporary tenure (e.g. room apartment or house)",
    314: "Hotel or motel paid for without emergency shelter voucher",
    327: "Moved from one HOPWA funded project to HOPWA TH",
    329: "Residential project or halfway house with no homeless criteria",
    332: "Host Home (non-crisis)",
    335: "Staying or living in a family member's room, apartment, or house",
    336: "Staying or living in a friend's room, apartment or house",
    410: "Rental by client, no ongoing housing subsidy",
    411: "Owned by client, no ongoing housing subsidy",
    421: "Owned by client, with ongoing housing subsidy",
    422: "Staying or living with family, permanent tenure",
    423: "Staying or living with friends, permanent tenure",
    426: "Moved from one HOPWA funded project to HOPWA PH",
    435: "Rental by client, with ongoing housing subsidy",
}

#: First digit of a 3-digit living situation -> HUD category.
LIVING_SITUATION_CATEGORY: dict[int, str] = {
    1: "homeless",
    2: "institutional",
    3: "temporary",
    4: "permanent",
}


def living_situation_category(code: int) -> str | None:
    """Return "homeless"/"institutional"/"temporary"/"permanent" for a FY2024 3-digit code, else
    None (for 8, 9, 17, 24, 30, 37, 99).

    Why: FY2024 built the category into the code's first digit so reports need no lookup table;
    household-level linkage features (e.g. "came from homelessness") use exactly that split.
    """
    if code in LIVING_SITUATION and 100 <= code < 500:
        return LIVING_SITUATION_CATEGORY[code // 100]
    return None


_PRIOR_ONLY = frozenset({335, 336})
_DESTINATION_ONLY = frozenset({24, 30, 312, 313, 327, 422, 423, 426})

#: 3.917 Prior living situation: the values allowed in Enrollment.LivingSituation.
PRIOR_LIVING_SITUATION: dict[int, str] = {
    k: v for k, v in LIVING_SITUATION.items() if k not in _DESTINATION_ONLY | {17, 37}
}

#: 3.12 Destination (FY2024): the values allowed in Exit.Destination.
DESTINATION: dict[int, str] = {k: v for k, v in LIVING_SITUATION.items() if k not in _PRIOR_ONLY}

#: 3.12 Destination in FY2026: greenriver's generated FY2026 HUD lists no longer offer
#: 37 "Worker unable to determine" as a destination.
DESTINATION_2026: dict[int, str] = {k: v for k, v in DESTINATION.items() if k != 37}

#: 4.12 Current living situation (FY2024).
CURRENT_LIVING_SITUATION: dict[int, str] = {
    k: v for k, v in LIVING_SITUATION.items() if k not in _DESTINATION_ONLY
}

#: 3.12.A RentalSubsidyType / DestinationSubsidyType (FY2024; asked when the situation is 435).
#: FY2026 relabels 436 "Housing Stability Voucher".
RENTAL_SUBSIDY_TYPE: dict[int, str] = {
    419: "VASH housing subsidy",
    420: "Rental by client, with other ongoing housing subsidy",
    428: "GPD TIP housing subsidy",
    431: "RRH or equivalent subsidy",
    433: "HCV voucher (tenant or project based) (not dedicated)",
    434: "Public housing unit",
    436: "Emergency Housing Voucher",
    437: "Family Unification Program Voucher (FUP)",
    438: "Foster Youth to Independence Initiative (FYI)",
    439: "Permanent Supportive Housing",
    440: "Other permanent housing dedicated for formerly homeless persons",
}

#: FY2022 (and earlier) 2-digit living situation / destination list (3.917.1 and 3.12.1).
LIVING_SITUATION_2022: dict[int, str] = {
    1: (
        "Emergency shelter, including hotel or motel paid for with emergency shelter voucher, "
        "or RHY-funded Host Home shelter"
    ),
    2: "Transitional housing for homeless persons (including homeless youth)",
    3: "Permanent housing (other than RRH) for formerly homeless persons",
    4: "Psychiatric hospital or other psychiatric facility",
    5: "Substance abuse treatment facility or detox center",
    6: "Hospital or other residential non-psychiatric medical facility",
    7: "Jail, prison or juvenile detention facility",
    8: "Client doesn't know",
    9: "Client refused",
    10: "Rental by client, no ongoing housing subsidy",
    11: "Owned by client, no ongoing housing subsidy",
    12: "Staying or living with family, temporary tenure (e.g., room, apartment or house)",
    13: "Staying or living with friends, temporary tenure (e.g., room, apartment or house)",
    14: "Hotel or motel paid for without emergency shelter voucher",
    15: "Foster care home or foster care group home",
    16: (
        "Place not meant for habitation (e.g., a vehicle, an abandoned building, "
        "bus/train/subway station/airport or anywhere outside)"
    ),
    17: "Other",
    18: "Safe Haven",
    19: "Rental by client, with VASH housing subsidy",
    20: "Rental by client, with other ongoing housing subsidy",
    21: "Owned by client, with ongoing housing subsidy",
    22: "Staying or living with family, permanent tenure",
    23: "Staying or living with friends, permanent tenure",
    24: "Deceased",
    25: "Long-term care facility or nursing home",
    26: "Moved from one HOPWA funded project to HOPWA PH",
    27: "Moved from one HOPWA funded project to HOPWA TH",
    28: "Rental by client, with GPD TIP housing subsidy",
    29: "Residential project or halfway house with no homeless criteria",
    30: "No exit interview completed",
    31: "Rental by client, with RRH or equivalent subsidy",
    32: "Host Home (non-crisis)",
    33: "Rental by client, with HCV voucher (tenant or project based)",
    34: "Rental by client in a public housing unit",
    35: "Staying or living in a family member's room, apartment or house",
    36: "Staying or living in a friend's room, apartment or house",
    37: "Worker unable to determine",
    99: "Data not collected",
}

#: FY2022 2-digit code -> FY2024 code. Mostly category digit + old code (16 -> 116, 1 -> 101,
#: 18 -> 118, 15 -> 215, 29 -> 329, 22 -> 422); the 1-2 digit "other/missing" codes keep their
#: value. Exceptions: every subsidised rental (3 PSH, 19, 20, 28, 31, 33, 34) collapses to 435
#: "Rental by client, with ongoing housing subsidy", the subsidy moving to RentalSubsidyType /
#: DestinationSubsidyType (``LIVING_SITUATION_2022_TO_SUBSIDY_TYPE``).
LIVING_SITUATION_2022_TO_2024: dict[int, int] = {
    1: 101,
    2: 302,
    3: 435,
    4: 204,
    5: 205,
    6: 206,
    7: 207,
    8: 8,
    9: 9,
    10: 410,
    11: 411,
    12: 312,
    13: 313,
    14: 314,
    15: 215,
    16: 116,
    17: 17,
    18: 118,
    19: 435,
    20: 435,
    21: 421,
    22: 422,
    23: 423,
    24: 24,
    25: 225,
    26: 426,
    27: 327,
    28: 435,
    29: 329,
    30: 30,
    31: 435,
    32: 332,
    33: 435,
    34: 435,
    35: 335,
    36: 336,
    37: 37,
    99: 99,
}

#: FY2022 code that became 435 -> the FY2024 RentalSubsidyType that keeps its meaning.
LIVING_SITUATION_2022_TO_SUBSIDY_TYPE: dict[int, int] = {
    3: 440,
    19: 419,
    20: 420,
    28: 428,
    31: 431,
    33: 433,
    34: 434,
}
