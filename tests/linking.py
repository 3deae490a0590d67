"""Hand-made warehouses for linkage tests: people written as plain dicts go through the real
standardization into staged.person_records, so comparisons and guards see what ingest makes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from linkage.ingest import staging
from linkage.ingest.settings import load_ingest_settings
from linkage.ingest.standardizing import mark_shared_addresses, standardize_persons
from linkage.warehouse import connect

PERSON_FIELDS = ("first_name_raw", "middle_name_raw", "last_name_raw", "suffix_raw", "dob_raw",
                 "ssn_raw", "sex", "address_line_raw", "city_raw", "zip_raw")


def scenario(path: Path, people: list[dict],
             groups: list[tuple[str, str, str, str]] = (),
             cases: list[tuple[str, str, str | None, str | None, dict]] = (),
             events: list[tuple[str, str, str, str, str | None, dict]] = ()
             ) -> duckdb.DuckDBPyConnection:
    """A warehouse holding `people` (record_id plus PERSON_FIELDS without the _raw suffix),
    `groups` memberships (record_id, group_type, group_id, role; all from 2020-01-01),
    `cases` (group_type, group_id, start, end, attributes) for staged.groups and `events`
    (record_id, event_type, group_id, start, end, details)."""
    con = connect(path)
    staging.reset(con)
    # the people as a table behind the views a reader defines (`staging.map_persons`)
    columns = ", ".join(f"{name} {kind}" for name, kind in staging.PERSON_COLUMNS)
    con.execute(f"CREATE TEMP TABLE _scenario_persons ({columns})")
    con.execute("CREATE TEMP VIEW _person_rows AS SELECT * FROM _scenario_persons")
    con.execute("CREATE TEMP VIEW _person_input AS SELECT * FROM _scenario_persons")
    for i, person in enumerate(people, start=1):
        values = [person.get(f.removesuffix("_raw")) for f in PERSON_FIELDS]
        system = person["record_id"].split(":")[0]
        con.execute("""
            INSERT INTO _scenario_persons (record_id, system, source, source_id, source_file,
                source_line, first_name_raw, middle_name_raw, last_name_raw, suffix_raw,
                dob_raw, ssn_raw, sex, address_line_raw, city_raw, zip_raw, seen)
            VALUES (?, ?, ?, ?, 'scenario.csv', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                    DATE '2020-01-01')""",
                    [person["record_id"], system, system, person["record_id"], i, *values])
    for record_id, group_type, group_id, role in groups:
        con.execute("INSERT INTO staged.memberships VALUES (?, ?, ?, ?, ?, ?, ?, "
                    "DATE '2020-01-01', NULL, 'scenario.csv', 0)",
                    [record_id, record_id.split(":")[0], record_id.split(":")[0], group_type,
                     group_id, role, role])
    for group_type, group_id, start, end, attributes in cases:
        system = group_type.split("_")[0]
        con.execute("INSERT INTO staged.groups VALUES (?, ?, ?, ?, ?, ?, ?, 'scenario.csv', 0)",
                    [system, system, group_type, group_id, start, end, json.dumps(attributes)])
    for record_id, event_type, group_id, start, end, details in events:
        system = record_id.split(":")[0]
        con.execute("INSERT INTO staged.events VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'scenario.csv', "
                    "0)", [record_id, system, system, event_type, group_id, start, end,
                           json.dumps(details)])
    standardize_persons(con)
    mark_shared_addresses(con, load_ingest_settings().shared_address.min_groups)
    return con
