"""Build every mart from the families layer, in one place so the flow and the CLI agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb

from linkage.families.build import as_of
from linkage.families.settings import MartsConfig
from linkage.marts import (
    absent_parent_leads,
    joint_families,
    support_in_error,
    supportive_housing_eligible,
)

MARTS: dict[str, Callable[[duckdb.DuckDBPyConnection, MartsConfig, date], None]] = {
    "joint_families": joint_families.build,
    "absent_parent_leads": absent_parent_leads.build,
    "supportive_housing_eligible": supportive_housing_eligible.build,
    "support_in_error": support_in_error.build,
}


def build_marts(con: duckdb.DuckDBPyConnection, config: MartsConfig) -> dict[str, int]:
    """Write every marts.<name>; return each one's row count."""
    day = as_of(con, config)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    counts = {}
    for name, build in MARTS.items():
        build(con, config, day)
        counts[name] = con.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0]
    return counts
