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

SHARED_ADDRESS_MIN_GROUPS = 3


def build_person_records(con: duckdb.DuckDBPyConnection) -> None:
    register_macros(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _names AS
        SELECT raw, strip_suffix(std_name(raw)) AS std, name_suffix(NULL, raw) AS suffix
        FROM (SELECT first_name_raw AS raw FROM _person_input
              UNION SELECT middle_name_raw FROM _person_input
              UNION SELECT last_name_raw FROM _person_input)
        WHERE raw IS NOT NULL;
        CREATE OR REPLACE TEMP TABLE _surnames AS
        SELECT DISTINCT std, surname_parts(std) AS parts, surname_squashed(std) AS squashed
        FROM _names WHERE std IS NOT NULL;
        CREATE OR REPLACE TEMP TABLE _dobs AS
        SELECT dob_raw, dob_quality, std_dob(dob_raw, dob_quality) AS d
        FROM (SELECT DISTINCT dob_raw, dob_quality FROM _person_input);
        CREATE OR REPLACE TEMP TABLE _addresses AS
        SELECT address_line_raw, city_raw, state_raw, zip_raw,
               std_address(address_line_raw, city_raw, state_raw, zip_raw) AS a
        FROM (SELECT DISTINCT address_line_raw, city_raw, state_raw, zip_raw
              FROM _person_input
              WHERE coalesce(address_line_raw, city_raw, state_raw, zip_raw) IS NOT NULL);
        CREATE OR REPLACE TEMP TABLE _record_addresses AS
        SELECT i.record_id, i.system, ad.a.street AS street, ad.a.unit AS unit,
               ad.a.city AS city, ad.a.state AS state, ad.a.zip5 AS zip5,
               -- one system's view of a place: a shelter is many cases in one system
               i.system || '|' || ad.a.street || '|' || coalesce(ad.a.zip5, ad.a.city)
                   AS address_key
        FROM _person_input i JOIN _addresses ad
          ON ad.address_line_raw IS NOT DISTINCT FROM i.address_line_raw
         AND ad.city_raw IS NOT DISTINCT FROM i.city_raw
         AND ad.state_raw IS NOT DISTINCT FROM i.state_raw
         AND ad.zip_raw IS NOT DISTINCT FROM i.zip_raw;
    """)
    name_keys(con, "SELECT std FROM _names", "std", "_name_keys")
    # Counted within each system: one family's home is one CW case but may be three cases
    # across systems, while a shelter is many cases in the same system.
    flag_shared_addresses(
        con, "_shared_addresses", "address_key", "m.group_type || ':' || m.group_id",
        SHARED_ADDRESS_MIN_GROUPS,
        source="_record_addresses JOIN staged.memberships m USING (record_id, system) "
               "WHERE street IS NOT NULL")
    con.execute("""
        CREATE OR REPLACE TABLE staged.person_records AS
        SELECT i.record_id, i.system, i.source, i.source_id, i.source_file, i.source_line,
               i.first_name_raw, i.middle_name_raw, i.last_name_raw, i.suffix_raw,
               fn.std AS first_name, mn.std AS middle_name, ln.std AS last_name,
               coalesce(_std_suffix_token(std_name(i.suffix_raw)), ln.suffix, fn.suffix)
                   AS suffix,
               fk.canonical_given AS first_name_canonical,
               fk.nysiis AS first_name_nysiis, fk.metaphone AS first_name_metaphone,
               sn.parts AS last_name_parts, sn.squashed AS last_name_squashed,
               lk.nysiis AS last_name_nysiis, lk.metaphone AS last_name_metaphone,
               i.dob_raw, dd.d.dob AS dob, dd.d.y AS dob_year, dd.d.m AS dob_month,
               dd.d.d AS dob_day, dd.d.flag AS dob_flag,
               i.ssn_raw, s.ssn AS ssn, s.last4 AS ssn_last4, s.flag AS ssn_flag, i.sex,
               ra.street AS address_street, ra.unit AS address_unit, ra.city, ra.state,
               ra.zip5, coalesce(sh.address_key IS NOT NULL, false) AS address_shared,
               nullif(regexp_replace(i.phone_raw, '[^0-9]', '', 'g'), '') AS phone,
               i.name_quality, i.ssn_quality, i.dob_quality,
               least(i.seen, dates.first_date) AS first_seen,
               greatest(i.seen, dates.last_date) AS last_seen
        FROM (SELECT *, std_ssn(ssn_raw, ssn_quality) AS s FROM _person_input) i
        LEFT JOIN _names fn ON fn.raw = i.first_name_raw
        LEFT JOIN _names mn ON mn.raw = i.middle_name_raw
        LEFT JOIN _names ln ON ln.raw = i.last_name_raw
        LEFT JOIN _name_keys fk ON fk.name = fn.std
        LEFT JOIN _name_keys lk ON lk.name = ln.std
        LEFT JOIN _surnames sn ON sn.std = ln.std
        LEFT JOIN _dobs dd ON dd.dob_raw IS NOT DISTINCT FROM i.dob_raw
                          AND dd.dob_quality IS NOT DISTINCT FROM i.dob_quality
        LEFT JOIN _record_addresses ra USING (record_id)
        LEFT JOIN _shared_addresses sh ON sh.address_key = ra.address_key
        LEFT JOIN (
            SELECT record_id, min(start_date) AS first_date,
                   max(coalesce(end_date, start_date)) AS last_date
            FROM (SELECT record_id, start_date, end_date FROM staged.memberships
                  UNION ALL SELECT record_id, start_date, end_date FROM staged.events)
            GROUP BY record_id) dates USING (record_id)""")
    for table in ("_names", "_surnames", "_dobs", "_addresses", "_record_addresses",
                  "_name_keys", "_shared_addresses", "_person_input"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
