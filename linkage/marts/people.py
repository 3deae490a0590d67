"""Who a person is on a list: the name and birth date staff look them up by. A person's
records may spell a name differently; the list shows the most frequent spelling and the
earliest birth date (one definition for every list); spellings as frequent as each other give
the alphabetically last, so that a list never changes between runs for a tie alone."""

from __future__ import annotations

import duckdb

TABLE = "_mart_people"
PEOPLE = f"temp.{TABLE}"  # what the lists join


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Write temp._mart_people (person_id, name, dob) once for all the lists of a build."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {TABLE} AS
        SELECT person_id, arg_max(name, (n, name)) FILTER (WHERE name IS NOT NULL) AS name,
               min(dob) AS dob
        FROM (SELECT p.person_id, r.first_name || ' ' || r.last_name AS name,
                     count(*) OVER (PARTITION BY p.person_id, r.first_name, r.last_name) AS n,
                     r.dob
              FROM linked.persons p JOIN staged.person_records r USING (record_id))
        GROUP BY person_id""")
