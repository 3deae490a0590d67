"""Build every mart from the families layer, in one place so the flow and the CLI agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import duckdb

from linkage.families.build import as_of
from linkage.families.settings import MartsConfig
from linkage.marts import (
    absent_parent_leads,
    alerts,
    history,
    joint_families,
    paternity,
    people,
    referrals,
    support_in_error,
    supportive_housing_eligible,
)

MARTS: dict[str, Callable[[duckdb.DuckDBPyConnection, MartsConfig, date], None]] = {
    "joint_families": joint_families.build,
    "absent_parent_leads": absent_parent_leads.build,
    "supportive_housing_eligible": supportive_housing_eligible.build,
    "support_in_error": support_in_error.build,
    "paternity": paternity.build,
    "referrals": referrals.build,
    "alerts": alerts.build,
}


def build_marts(con: duckdb.DuckDBPyConnection, config: MartsConfig) -> dict[str, int]:
    """Write every marts.<name>, carrying each list's history forward from the last run's
    (linkage.marts.history); return each one's row count."""
    day = as_of(con, config)
    run_at = datetime.now().replace(microsecond=0)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    people.prepare(con)
    counts = {}
    for name, build in MARTS.items():
        kept = name in history.KEYS and history.keep_previous(con, name)
        build(con, config, day)
        if name in history.KEYS:
            history.record(con, name, run_at, kept)
        counts[name] = con.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0]
    return counts
