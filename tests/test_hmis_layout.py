"""Pin linkage.formats.hmis_csv to a real HUD HMIS CSV export (FY2024, "2024 v1.3").

Why: the generator writes and the ingest reads HMIS CSV through these tables; if a header or a
code list drifts from what real exports contain, both sides would agree with each other and still
be wrong. The fixture is a real DataLab export, read-only, taken as it is.
"""

from __future__ import annotations

import csv

import pytest
from helpers import FIXTURES

from linkage.formats import hmis_csv as h

FIXTURE = FIXTURES / "hmis_csv" / "greenriver-datalab-fy2024"
FILES = ("Export", "Organization", "Project", "Client", "Enrollment", "Exit")


def _open(name: str):
    # utf-8-sig: tolerate a byte-order mark, which some HMIS vendors write.
    return (FIXTURE / f"{name}.csv").open(newline="", encoding="utf-8-sig")


def _header(name: str) -> list[str]:
    with _open(name) as fh:
        return next(csv.reader(fh))


def _column(name: str, column: str) -> list[str]:
    with _open(name) as fh:
        return [row[column] for row in csv.DictReader(fh)]


def _codes(values: list[str]) -> set[int]:
    """Non-blank cells as ints; fails the test if a cell is not a plain integer."""
    out = set()
    for value in values:
        if value == "":
            continue
        assert value.isdigit(), f"non-integer code {value!r}"
        out.add(int(value))
    return out


@pytest.mark.parametrize("name", FILES)
def test_fy2024_headers_match_fixture(name: str) -> None:
    # Organization.csv quotes its header names; csv.reader strips the quotes.
    assert tuple(_header(name)) == h.COLUMNS["2024"][name]


def test_both_versions_cover_the_same_files_without_duplicate_columns() -> None:
    assert set(h.COLUMNS) == {"2024", "2026"}
    for version, files in h.COLUMNS.items():
        assert set(files) == set(FILES), version
        for name, cols in files.items():
            assert len(cols) == len(set(cols)), (version, name)


def test_fy2026_client_has_sex_and_no_gender_columns() -> None:
    client = h.COLUMNS["2026"]["Client"]
    assert "Sex" in client
    assert "HispanicLatinao" in client
    assert "HispanicLatinaeo" not in client
    assert not set(h.GENDER_COLUMNS_2024) & set(client)
    assert h.GENDER_TEXT_COLUMN_2024 not in client
    # Sex sits right after DOBDataQuality, as in the greenriver FY2026 output.
    assert client[client.index("DOBDataQuality") + 1] == "Sex"
    assert set(h.RACE_COLUMNS["2026"]) <= set(client)
    assert set(h.RACE_COLUMNS["2024"]) <= set(h.COLUMNS["2024"]["Client"])


def test_fy2026_client_is_fy2024_minus_gender_plus_sex_with_rename() -> None:
    renames = h.COLUMN_RENAMES_2024_TO_2026["Client"]
    dropped = set(h.GENDER_COLUMNS_2024) | {h.GENDER_TEXT_COLUMN_2024}
    expected = [renames.get(c, c) for c in h.COLUMNS["2024"]["Client"] if c not in dropped]
    expected.insert(expected.index("DOBDataQuality") + 1, "Sex")
    assert tuple(expected) == h.COLUMNS["2026"]["Client"]


def test_fy2026_enrollment_changes() -> None:
    e24, e26 = h.COLUMNS["2024"]["Enrollment"], h.COLUMNS["2026"]["Enrollment"]
    assert "MentalHealthConsultation" in e26 and "MentalHealthConsultation" not in e24
    assert "SexualOrientation" not in e26 and "SexualOrientationOther" not in e26
    assert set(e26) - set(e24) == {"MentalHealthConsultation"}


def test_version_of() -> None:
    (csv_version,) = _column("Export", "CSVVersion")
    assert csv_version == h.CSV_VERSION["2024"]
    assert h.version_of(csv_version) == "2024"
    assert h.version_of(h.CSV_VERSION["2026"]) == "2026"
    assert h.version_of("2022 v1.3") == "2022"
    assert h.version_of("2026 v1.3") == "2026"
    for garbage in ("", "garbage", "2020 v1.8", "v1.3", "2024", "2024 v", None):
        with pytest.raises(ValueError):
            h.version_of(garbage)  # type: ignore[arg-type]


def test_living_situations_are_known_codes() -> None:
    values = _column("Enrollment", "LivingSituation")
    codes = _codes(values)
    # Blank is legitimate: 3.917 is asked of heads of household and adults only.
    assert sum(v != "" for v in values) > len(values) // 2
    assert codes <= set(h.PRIOR_LIVING_SITUATION)
    assert codes <= set(h.LIVING_SITUATION)


def test_destinations_are_known_codes() -> None:
    codes = _codes(_column("Exit", "Destination"))
    assert codes
    assert codes <= set(h.DESTINATION)
    subsidies = _codes(_column("Exit", "DestinationSubsidyType"))
    assert subsidies <= set(h.RENTAL_SUBSIDY_TYPE)
    assert _codes(_column("Enrollment", "RentalSubsidyType")) <= set(h.RENTAL_SUBSIDY_TYPE)


def test_project_types_are_known_codes() -> None:
    codes = _codes(_column("Project", "ProjectType"))
    assert codes and codes <= set(h.PROJECT_TYPE)


def test_client_and_household_codes_are_known() -> None:
    assert _codes(_column("Enrollment", "RelationshipToHoH")) <= set(h.RELATIONSHIP_TO_HOH)
    assert _codes(_column("Client", "NameDataQuality")) <= set(h.NAME_DATA_QUALITY)
    assert _codes(_column("Client", "SSNDataQuality")) <= set(h.SSN_DATA_QUALITY)
    assert _codes(_column("Client", "DOBDataQuality")) <= set(h.DOB_DATA_QUALITY)
    assert _codes(_column("Client", "VeteranStatus")) <= set(h.NO_YES_REASONS_FOR_MISSING_DATA)
    for col in h.GENDER_COLUMNS_2024[:-1] + h.RACE_COLUMNS["2024"]:
        assert _codes(_column("Client", col)) <= set(h.NO_YES), col
    assert _codes(_column("Client", "GenderNone")) <= set(h.RACE_NONE)
    assert _codes(_column("Client", "RaceNone")) <= set(h.RACE_NONE)


def test_2022_mapping_targets_are_valid_2024_codes() -> None:
    assert set(h.LIVING_SITUATION_2022_TO_2024) == set(h.LIVING_SITUATION_2022)
    assert set(h.LIVING_SITUATION_2022_TO_2024.values()) <= set(h.LIVING_SITUATION)
    for old, new in h.LIVING_SITUATION_2022_TO_2024.items():
        if new >= 100 and new != 435:
            # Category digit + the old code, zero-padded (16 -> 116, 1 -> 101, 15 -> 215).
            assert new % 100 == old, (old, new)
    for old, subsidy in h.LIVING_SITUATION_2022_TO_SUBSIDY_TYPE.items():
        assert h.LIVING_SITUATION_2022_TO_2024[old] == 435
        assert subsidy in h.RENTAL_SUBSIDY_TYPE
    assert h.LIVING_SITUATION_2022_TO_2024[16] == 116
    assert h.LIVING_SITUATION_2022_TO_2024[1] == 101
    assert h.LIVING_SITUATION_2022_TO_2024[3] == 435


def test_living_situation_subsets_and_categories() -> None:
    for subset in (h.PRIOR_LIVING_SITUATION, h.DESTINATION, h.CURRENT_LIVING_SITUATION):
        assert subset.items() <= h.LIVING_SITUATION.items()
    assert 335 in h.PRIOR_LIVING_SITUATION and 335 not in h.DESTINATION
    assert 312 in h.DESTINATION and 312 not in h.PRIOR_LIVING_SITUATION
    assert h.living_situation_category(116) == "homeless"
    assert h.living_situation_category(215) == "institutional"
    assert h.living_situation_category(336) == "temporary"
    assert h.living_situation_category(435) == "permanent"
    assert h.living_situation_category(99) is None
    assert h.living_situation_category(199) is None
    assert set(h.SEX) == {0, 1, 8, 9, 99}
