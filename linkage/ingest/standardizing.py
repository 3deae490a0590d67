"""`staged.person_records`: every source's person rows, standardized the same way, in DuckDB.

Names, DOBs and addresses repeat across millions of rows but have far fewer distinct values, so
each macro of `linkage.standardize` runs once per distinct value and the results are joined back;
nicknames and phonetic keys are computed in Python, once per distinct standardized name.
Addresses that many unrelated cases in one system give (shelters, agency offices) are flagged so
linkage can down-weight them.
"""

from __future__ import annotations

import duckdb

from linkage.standardize import register_macros
from linkage.standardize.address import flag_shared_addresses
from linkage.standardize.names import name_keys
from linkage.warehouse import literal


def standardize_persons(con: duckdb.DuckDBPyConnection) -> None:
    """Append the cursor's `_person_input` (one source's person records, see
    `staging.map_persons`), standardized, to `staged.person_records`; `mark_shared_addresses`
    completes them once every source is in."""
    register_macros(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _names AS
        SELECT raw, _std_strip_suffix(s) AS std, _std_name_suffix(s) AS suffix
        FROM (SELECT raw, std_name(raw) AS s
              FROM (SELECT first_name_raw AS raw FROM _person_rows
                    UNION SELECT middle_name_raw FROM _person_rows
                    UNION SELECT last_name_raw FROM _person_rows)
              WHERE raw IS NOT NULL);
        CREATE OR REPLACE TEMP TABLE _dobs AS
        SELECT dob_raw, dob_quality, std_dob(dob_raw, dob_quality) AS d
        FROM (SELECT DISTINCT dob_raw, dob_quality FROM _person_rows);
        CREATE OR REPLACE TEMP TABLE _addresses AS
        SELECT address_line_raw, city_raw, state_raw, zip_raw,
               std_address(address_line_raw, city_raw, state_raw, zip_raw) AS a
        FROM (SELECT DISTINCT address_line_raw, city_raw, state_raw, zip_raw
              FROM _person_rows
              WHERE coalesce(address_line_raw, city_raw, state_raw, zip_raw) IS NOT NULL);
    """)
    name_keys(con, "SELECT std FROM _names", "std", "_name_keys")
    # Every key of a raw name in one row, so that each of a record's three names is one join.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _name_lookup AS
        SELECT n.raw, n.std, n.suffix, k.canonical_given, k.nysiis, k.metaphone,
               _std_surname_parts(n.std) AS parts,
               _std_surname_squashed(n.std) AS squashed
        FROM _names n LEFT JOIN _name_keys k ON k.name = n.std""")
    # a literal list, so that DuckDB skips the row groups of other sources
    sources = ", ".join(literal(row[0]) for row in con.execute(
        "SELECT DISTINCT source FROM _person_rows").fetchall()) or "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _dates AS
            SELECT record_id, min(start_date) AS first_date,
                   max(coalesce(end_date, start_date)) AS last_date
            FROM (SELECT record_id, start_date, end_date, source FROM staged.memberships
                  UNION ALL SELECT record_id, start_date, end_date, source FROM staged.events)
            WHERE source IN ({sources})
            GROUP BY record_id""")
    con.execute("""
        INSERT INTO staged.person_records BY NAME
        SELECT i.record_id, i.system, i.source, i.source_id, i.source_file, i.source_line,
               i.first_name_raw, i.middle_name_raw, i.last_name_raw, i.suffix_raw,
               fn.std AS first_name, mn.std AS middle_name, ln.std AS last_name,
               coalesce(_std_suffix_token(std_name(i.suffix_raw)), ln.suffix, fn.suffix)
                   AS suffix,
               fn.canonical_given AS first_name_canonical,
               fn.nysiis AS first_name_nysiis, fn.metaphone AS first_name_metaphone,
               ln.parts AS last_name_parts, ln.squashed AS last_name_squashed,
               ln.nysiis AS last_name_nysiis, ln.metaphone AS last_name_metaphone,
               i.dob_raw, dd.d.dob AS dob, dd.d.y AS dob_year, dd.d.m AS dob_month,
               dd.d.d AS dob_day, dd.d.flag AS dob_flag,
               i.ssn_raw, s.ssn AS ssn, s.last4 AS ssn_last4, s.flag AS ssn_flag, i.sex,
               ad.a.street AS address_street, ad.a.unit AS address_unit, ad.a.city AS city,
               ad.a.state AS state, ad.a.zip5 AS zip5, false AS address_shared,
               nullif(regexp_replace(i.phone_raw, '[^0-9]', '', 'g'), '') AS phone,
               i.name_quality, i.ssn_quality, i.dob_quality,
               least(i.seen, dates.first_date) AS first_seen,
               greatest(i.seen, dates.last_date) AS last_seen
        FROM (SELECT *, std_ssn(ssn_raw, ssn_quality) AS s FROM _person_input) i
        LEFT JOIN _name_lookup fn ON fn.raw = i.first_name_raw
        LEFT JOIN _name_lookup mn ON mn.raw = i.middle_name_raw
        LEFT JOIN _name_lookup ln ON ln.raw = i.last_name_raw
        LEFT JOIN _dobs dd ON dd.dob_raw IS NOT DISTINCT FROM i.dob_raw
                          AND dd.dob_quality IS NOT DISTINCT FROM i.dob_quality
        LEFT JOIN _addresses ad ON ad.address_line_raw IS NOT DISTINCT FROM i.address_line_raw
                               AND ad.city_raw IS NOT DISTINCT FROM i.city_raw
                               AND ad.state_raw IS NOT DISTINCT FROM i.state_raw
                               AND ad.zip_raw IS NOT DISTINCT FROM i.zip_raw
        LEFT JOIN _dates dates USING (record_id)""")
    for table in ("_names", "_dobs", "_addresses", "_name_keys", "_name_lookup", "_dates"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP VIEW _person_input; DROP VIEW _person_rows")


def mark_shared_addresses(con: duckdb.DuckDBPyConnection, min_groups: int) -> None:
    """Flag the addresses that `min_groups` or more cases of one system give (shelters,
    offices).

    Counted within each system: one family's home is one CW case but may be three cases across
    systems, while a shelter is many cases in the same system. It needs every source's records
    and memberships, so it runs once all sources are standardized.
    """
    key = "r.system || '|' || r.address_street || '|' || coalesce(r.zip5, r.city)"
    flag_shared_addresses(
        con, "_shared_addresses", key, "m.group_type || ':' || m.group_id",
        min_groups,
        source="staged.person_records r JOIN staged.memberships m USING (record_id, system) "
               "WHERE r.address_street IS NOT NULL")
    con.execute(f"""
        UPDATE staged.person_records r SET address_shared = true
        WHERE {key} IN (SELECT address_key FROM _shared_addresses)""")
    con.execute("DROP TABLE _shared_addresses")
