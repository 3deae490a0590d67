"""Who a person is on a list: the name and birth date staff look them up by. A person's
records may spell a name differently; the list shows the most frequent spelling and the
earliest birth date (one definition for every list)."""

from __future__ import annotations

import duckdb

TABLE = "_mart_people"
PEOPLE = f"temp.{TABLE}"  # what the lists join


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Write temp._mart_people (person_id, name, dob) once for all the lists of a build."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {TABLE} AS
        SELECT p.person_id,
               mode(r.first_name || ' ' || r.last_name)
                   FILTER (WHERE r.first_name IS NOT NULL) AS name,
               min(r.dob) AS dob
        FROM linked.persons p JOIN staged.person_records r USING (record_id)
        GROUP BY p.person_id""")
