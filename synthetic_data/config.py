"""The generator's settings (`configs/synthetic.yaml`), validated so a typo fails loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from linkage.config import CONFIG_DIR, load_config

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]


class _Strict(BaseModel):
    # An unknown key is almost always a misspelt one: refuse it rather than ignore it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    start_year: Annotated[int, Field(ge=1950, le=2100)]
    years: Annotated[int, Field(ge=1, le=40)]


class Ethnicity(_Strict):
    black: Rate
    hispanic: Rate
    white: Rate
    asian: Rate
    native: Rate

    @model_validator(mode="after")
    def _sums_to_one(self) -> Ethnicity:
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1, they add up to {total:.4f}")
        return self


class Family(_Strict):
    children_mean: Positive
    children_max: Annotated[int, Field(ge=1, le=15)]
    second_father: Rate
    father_known: Rate
    married: Rate
    takes_husband_surname: Rate
    split: Rate
    reverts_surname_after_split: Rate
    kinship_caregiver: Rate
    grandmother_vs_aunt: Rate
    no_fixed_address: Rate
    moves_mean: Annotated[float, Field(ge=0.0)]
    mother_age_first_birth_min: Annotated[int, Field(ge=12, le=50)]
    mother_age_first_birth_max: Annotated[int, Field(ge=12, le=50)]
    birth_spacing_years_mean: Positive

    @model_validator(mode="after")
    def _ages_ordered(self) -> Family:
        if self.mother_age_first_birth_min > self.mother_age_first_birth_max:
            raise ValueError("mother_age_first_birth_min is above mother_age_first_birth_max")
        return self


class Coverage(_Strict):
    cw_case: Rate
    low_income_given_cw: Rate
    low_income_given_no_cw: Rate
    tanf_given_low_income: Rate
    tanf_given_not_low_income: Rate
    cs_given_cw: Rate
    cs_given_no_cw: Rate
    homeless_given_cw: Rate
    homeless_given_no_cw: Rate
    cw_case_open_at_extract: Rate
    cw_father_participant: Rate
    cw_child_removed: Rate
    kinship_placement: Rate
    cs_order: Rate
    ive_referral_when_removed: Rate
    ive_good_cause: Rate
    tpr_given_adoption_goal: Rate
    moves_to_kin: Rate
    paternity_acknowledged_at_birth: Rate
    hmis_enrollments_mean: Positive
    hmis_second_provider_duplicate: Rate
    cw_duplicate: Rate
    cs_duplicate: Rate
    tanf_months_mean: Positive


class HardCases(_Strict):
    twin: Rate
    jr_sr: Rate
    compound_surname: Rate
    nickname: Rate
    name_swap: Rate
    hyphen_space_variant: Rate
    middle_missing: Rate
    first_name_typo: Rate
    first_initial: Rate
    first_last_swap: Rate
    dob_error: Rate
    dob_off_by_one_day: Rate
    dob_approximate: Rate
    dob_missing: Rate
    dob_placeholder: Rate
    ssn_missing_adult: Rate
    ssn_missing_child: Rate
    ssn_missing_hmis_adult: Rate
    ssn_missing_hmis_child: Rate
    ssn_missing_tanf: Rate
    ssn_error: Rate
    ssn_placeholder: Rate
    ssn_of_parent: Rate
    shelter_address: Rate
    shelters: Annotated[int, Field(ge=1, le=500)]


class Output(_Strict):
    hmis_version: Literal["2024", "2026"]
    tanf_encrypt_ssn: bool
    tanf_state_fips: Annotated[str, Field(pattern=r"^\d{2}$")]
    chunk_persons: Annotated[int, Field(ge=100, le=2_000_000)]


class SyntheticConfig(_Strict):
    window: Window
    ethnicity: Ethnicity
    family: Family
    coverage: Coverage
    hard_cases: HardCases
    output: Output


DEFAULT_PATH = CONFIG_DIR / "synthetic.yaml"


def load_synthetic_config(path: str | Path | None = None) -> SyntheticConfig:
    return load_config(path or DEFAULT_PATH, SyntheticConfig)
