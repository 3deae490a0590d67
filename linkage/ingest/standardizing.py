"""`staged.person_records`: every source's person rows, standardized the same way, in DuckDB.

Names, SSNs, DOBs and addresses go through the SQL macros of `linkage.standardize`; nicknames
and phonetic keys are computed in Python once per distinct name and joined back. Addresses that
many unrelated groups give (shelters, agency offices) are flagged so linkage can down-weight them.
"""

from __future__ import annotations

import duckdb

from linkage.standardize import register_macros
from linkage.standardize.address import flag_shared_addresses
from linkage.standardize.names import name_keys

SHARED_ADDRESS_MIN_GROUPS = 3
_ADDRESS_KEY = "_std.system || '|' || a.street || '|' || coalesce(a.zip5, a.city)"


def build_person_records(con: duckdb.DuckDBPyConnection) -> None:
    register_macros(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _std AS
        SELECT i.*,
               strip_suffix(std_name(first_name_raw)) AS first_name,
               strip_suffix(std_name(middle_name_raw)) AS middle_name,
               strip_suffix(std_name(last_name_raw)) AS last_name,
               coalesce(name_suffix(NULL, suffix_raw),
                        name_suffix(first_name_raw, last_name_raw)) AS suffix,
               std_ssn(ssn_raw, ssn_quality) AS s,
               std_dob(dob_raw, dob_quality) AS d,
               std_address(address_line_raw, city_raw, state_raw, zip_raw) AS a
        FROM staged._person_input i""")
    name_keys(con, "SELECT first_name AS name FROM _std UNION SELECT middle_name FROM _std "
              "UNION SELECT last_name FROM _std", "name", "_name_keys")
    # Counted within each system: one family's home is one CW case but may be three cases
    # across systems, while a shelter is many cases in the same system.
    flag_shared_addresses(
        con, "_shared_addresses", _ADDRESS_KEY, "m.group_type || ':' || m.group_id",
        SHARED_ADDRESS_MIN_GROUPS, source="_std JOIN staged.memberships m USING (record_id)")
    con.execute(f"""
        CREATE OR REPLACE TABLE staged.person_records AS
        SELECT record_id, system, source, source_id, source_file, source_line,
               first_name_raw, middle_name_raw, last_name_raw, suffix_raw,
               first_name, middle_name, last_name, suffix,
               fk.canonical_given AS first_name_canonical,
               fk.nysiis AS first_name_nysiis, fk.metaphone AS first_name_metaphone,
               surname_parts(last_name) AS last_name_parts,
               surname_squashed(last_name) AS last_name_squashed,
               lk.nysiis AS last_name_nysiis, lk.metaphone AS last_name_metaphone,
               dob_raw, d.dob AS dob, d.y AS dob_year, d.m AS dob_month, d.d AS dob_day,
               d.flag AS dob_flag,
               ssn_raw, s.ssn AS ssn, s.last4 AS ssn_last4, s.flag AS ssn_flag,
               sex, a.street AS address_street, a.unit AS address_unit, a.city AS city,
               a.state AS state, a.zip5 AS zip5,
               sh.address_key IS NOT NULL AS address_shared,
               regexp_replace(phone_raw, '[^0-9]', '', 'g') AS phone,
               name_quality, ssn_quality, dob_quality,
               least(seen, dates.first_date) AS first_seen,
               greatest(seen, dates.last_date) AS last_seen
        FROM _std
        LEFT JOIN (
            SELECT record_id, min(start_date) AS first_date,
                   max(coalesce(end_date, start_date)) AS last_date
            FROM (SELECT record_id, start_date, end_date FROM staged.memberships
                  UNION ALL SELECT record_id, start_date, end_date FROM staged.events)
            GROUP BY record_id) dates USING (record_id)
        LEFT JOIN _name_keys fk ON fk.name = _std.first_name
        LEFT JOIN _name_keys lk ON lk.name = _std.last_name
        LEFT JOIN _shared_addresses sh ON sh.address_key = {_ADDRESS_KEY}
        ORDER BY record_id""")
    con.execute("DROP TABLE _std")
