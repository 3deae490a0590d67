"""The rules of the alerts and of the paternity and referral lists (their sections of
configs/marts.yaml), validated on load with the rest of the file (linkage.families.settings)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from linkage.config import SqlExpression, Strict
from linkage.sources import Role

AlertType = Literal["placement_changed", "entered_care_while_cs_pays", "family_in_shelter",
                    "absent_parent_located", "paternity_established", "putative_father_named"]


class Alerts(Strict):
    """linkage/marts/alerts.py: what is new since the last published run, per agency."""

    # a first run (no alert state in the warehouse) raises the events of these last days
    first_run_days: Annotated[int, Field(ge=0)] = 30
    keep_days: Annotated[int, Field(ge=1)] = 30  # on the list this long after it was raised
    agency: dict[AlertType, Literal["cs", "cw"]]
    order_attribute: str = "order_indicator"
    order_value: str = "Y"
    custodial_roles: list[Role] = ["custodial_party"]
    paying_relations: list[str] = Field(default=["mother", "father"], min_length=1)
    located_relations: list[str] = Field(default=["parent", "putative_father"], min_length=1)
    shelter_project_types: list[str] = Field(min_length=1)
    removal_event: str = "cw_removal"
    placement_event: str = "cw_placement"
    locate_event: str = "cs_locate"
    paternity_event: str = "cs_paternity"
    hmis_event: str = "hmis_enrollment"

    @model_validator(mode="after")
    def _every_type_addressed(self) -> Alerts:
        missing = set(get_args(AlertType)) - set(self.agency)
        if missing:
            raise ValueError(f"agency: no agency for {', '.join(sorted(missing))}")
        return self


class Paternity(Strict):
    """linkage/marts/paternity.py: children in care with no legal father on the CW case."""

    father_type_event: str = "cw_father_type"
    legal_father_types: list[str] = Field(default=["LEGAL"], min_length=1)
    father_relations: list[str] = Field(default=["parent", "putative_father"], min_length=1)
    paternity_event: str = "cs_paternity"
    statuses: dict[str, str] = {}  # CS paternity code -> words
    removal_event: str = "cw_removal"
    locate_event: str = "cs_locate"


class ReferralRule(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["refer", "withdraw"]
    reason: str = Field(min_length=1)  # in words, as staff read it
    sql: SqlExpression = Field(min_length=1)


class Referrals(Strict):
    """linkage/marts/referrals.py: children in care CS should hear of, and referrals it
    should not act on."""

    removal_event: str = "cw_removal"
    referral_event: str = "cs_ive_referral"
    good_cause_event: str = "cw_good_cause"
    tpr_event: str = "cw_tpr"
    family_violence_event: str = "cs_family_violence"
    rules: list[ReferralRule] = Field(min_length=1)
