"""Rules for families and the marts (`configs/marts.yaml`), validated on load."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import duckdb
from pydantic import Field

from linkage.config import CONFIG_DIR, ConfigError, SqlExpression, SqlQuery, Strict, load_config
from linkage.marts.rules import Alerts, Paternity, Referrals
from linkage.sources import Role

MARTS_CONFIG = CONFIG_DIR / "marts.yaml"
Count = Annotated[int, Field(ge=1)]


class Families(Strict):
    max_group_persons: Count = 15
    max_family_persons: Count = 30
    hub_min_groups: Annotated[int, Field(ge=2)] = 4
    # system -> canonical role -> relation of that member to the group's children
    parent_roles: dict[str, dict[Role, str]]


class Priority(Strict):
    """A list's priority rule: the first that holds for a row ranks it (linkage.marts.priority);
    the last must hold for every row left, named for what those rows have in common."""

    name: str = Field(min_length=1)
    sql: SqlExpression = Field(min_length=1)


Priorities = Annotated[list[Priority], Field(min_length=1)]


class JointFamilies(Strict):
    min_systems: Annotated[int, Field(ge=2)] = 2


class AbsentParentLeads(Strict):
    parent_relations: list[str] = Field(min_length=1)
    parent_sex: str | None = "M"
    locate_event: str = "cs_locate"
    tanf_event: str = "tanf_month"
    hmis_event: str = "hmis_enrollment"
    alleged_fathers: SqlQuery | None = None
    infer_from_siblings: bool = False
    recent_days: Count = 365  # a sighting this recent is `seen_recently`
    priority: Priorities


class SupportiveHousing(Strict):
    project_types: list[str] = Field(min_length=1)
    living_situations: list[str] = []
    window_days: Count = 3650
    priority: Priorities
    hmis_event: str = "hmis_enrollment"  # a stay
    removal_event: str = "cw_removal"  # a child removed (the `child_removed` of the priority)


class SupportInError(Strict):
    order_attribute: str = "order_indicator"
    order_value: str = "Y"
    custodial_roles: list[Role] = ["custodial_party"]
    custodial_relation: str = "mother"
    referral_event: str = "cs_ive_referral"
    removal_event: str = "cw_removal"
    priority: Priorities


class MartsConfig(Strict):
    as_of: date | None = None
    families: Families
    joint_families: JointFamilies = JointFamilies()
    absent_parent_leads: AbsentParentLeads
    supportive_housing_eligible: SupportiveHousing
    support_in_error: SupportInError
    alerts: Alerts
    paternity: Paternity = Paternity()
    referrals: Referrals


def load_marts_config(path: str | Path | None = None) -> MartsConfig:
    return load_config(Path(path) if path else MARTS_CONFIG, MartsConfig)


def check_sql(con: duckdb.DuckDBPyConnection, key: str, sql: str) -> None:
    """Run a rule's SQL (written to return no rows) so that a typo names its key in the marts
    config instead of surfacing as a DuckDB traceback halfway through the lists."""
    try:
        con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise ConfigError(f"{key}: {str(exc).splitlines()[0]}") from None
