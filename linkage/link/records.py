"""`linked.records`: the columns the model compares, one row per staged person record.

Each record gets a small integer `rid`, because every later join runs on pairs of them: its
rank by record_id, so the same extracts give the same numbers (the row order of
staged.person_records differs from one ingest to the next, as sources land side by side, and
random pairs are drawn by number). It also gets its cases and households as `groups` (group
numbers, `gid` in linked.memberships), `birthday_shared` (another member of one of its cases
or households, present at the same time, was born the same day: a twin, as far as any agency
can tell) and, for each column with a term-frequency adjustment, the share of records holding
its value.
"""

from __future__ import annotations

from functools import cache

import duckdb

from linkage.link.settings import LinkageConfig
from linkage.nicknames import nicknames_of
from linkage.warehouse import literal, quote


@cache
def _nickname_roots() -> tuple[list[str], list[list[str]]]:
    """Each name and its roots, built once per process (a run registers them twice: to check
    the config's SQL, then to build the records)."""
    roots: dict[str, set[str]] = {}
    for name, nicks in nicknames_of().items():
        roots.setdefault(name, {name})
        for nick in nicks:
            roots.setdefault(nick, {nick}).add(name)
    names = sorted(roots)
    return names, [sorted(roots[n]) for n in names]


def register_nickname_roots(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table nickname_roots(name, roots): the given names a name may stand for (itself
    and every name it is a nickname of). Nicknames are many-to-many (AL: Albert, Alfred,
    Alexander), so two names are the same given name when their roots overlap; a single
    canonical form would miss half of those. Made once per connection, from two list
    parameters (an Arrow table would import pandas: half a second of every run)."""
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                   "AND table_name = 'nickname_roots'").fetchall()[0][0]:
        return
    names, roots = _nickname_roots()
    con.execute("CREATE OR REPLACE TEMP TABLE nickname_roots AS "
                "SELECT unnest($1::VARCHAR[]) AS name, unnest($2::VARCHAR[][]) AS roots",
                [names, roots])


def tf_columns(config: LinkageConfig) -> list[str]:
    return list(dict.fromkeys(level.tf_column for comp in config.comparisons
                              for level in comp.levels if level.tf_column))


def co_present(a: str, b: str) -> str:
    """SQL: memberships `a` and `b` (of one group) overlap in time. A membership with no end
    is taken as a moment at its start; one with no dates at all overlaps everything."""
    return (f"coalesce({a}.start_date <= coalesce({b}.end_date, {b}.start_date), true) "
            f"AND coalesce({b}.start_date <= coalesce({a}.end_date, {a}.start_date), true)")


# Numbered in a narrow query and joined back: a window over the wide rows sorts every column
# along (0.3 s more at 1M records).
RECORD_NUMBERS = ("SELECT record_id, (row_number() OVER (ORDER BY record_id))::INTEGER AS rid "
                  "FROM staged.person_records")


def _birthday_shared_sql(max_group_size: int) -> str:
    """Records with a co-member born the same day. Groups larger than a family (a shelter
    recorded as one household) say nothing about twins."""
    return f"""
        WITH m AS (
            SELECT m.rid, m.gid, m.start_date, m.end_date, p.dob
            FROM linked.memberships m
            JOIN _records r USING (rid)
            JOIN staged.person_records p USING (record_id)
            WHERE p.dob IS NOT NULL AND m.gid IN (
                SELECT gid FROM linked.memberships GROUP BY gid
                HAVING count(DISTINCT rid) <= {max_group_size}))
        SELECT DISTINCT a.rid FROM m a JOIN m b
          ON a.gid = b.gid AND a.dob = b.dob AND a.rid <> b.rid
        WHERE {co_present("a", "b")}"""


def build_records(con: duckdb.DuckDBPyConnection, config: LinkageConfig) -> int:
    """Write linked.records and linked.memberships (rid -> group, with dates; `gid` numbers
    the groups, since every later join on them runs on pairs); return the number of
    records."""
    con.execute("CREATE SCHEMA IF NOT EXISTS linked")
    register_nickname_roots(con)
    select = ", ".join(f"{expr} AS {quote(name)}" for name, expr in config.records.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        SELECT n.rid, {select} FROM staged.person_records p
        JOIN ({RECORD_NUMBERS}) n USING (record_id);
        CREATE OR REPLACE TABLE linked.memberships AS
        SELECT r.rid, g.gid, g.group_key, m.role, m.start_date, m.end_date
        FROM staged.memberships m
        JOIN _records r USING (record_id)
        JOIN (SELECT group_key, (row_number() OVER (ORDER BY group_key))::INTEGER AS gid
              FROM (SELECT DISTINCT group_type || ':' || group_id AS group_key
                    FROM staged.memberships)) g
          ON g.group_key = m.group_type || ':' || m.group_id;
    """)
    shares = []
    for column in tf_columns(config):
        col = quote(column)
        shares.append(f"""LEFT JOIN (
            SELECT {col} AS v, count(*) / (SELECT count({col}) FROM _records) AS share
            FROM _records WHERE {col} IS NOT NULL GROUP BY ALL) {quote('tf_' + column)}
            ON {quote('tf_' + column)}.v = r.{col}""")
    tf_select = "".join(f", {quote('tf_' + c)}.share AS {quote('tf_' + c)}"
                        for c in tf_columns(config))
    con.execute(f"""
        CREATE OR REPLACE TABLE linked.records AS
        SELECT r.*, coalesce(g.groups, []::INTEGER[]) AS groups,
               t.rid IS NOT NULL AS birthday_shared{tf_select}
        FROM _records r
        LEFT JOIN (SELECT rid, list(DISTINCT gid ORDER BY gid) AS groups
                   FROM linked.memberships GROUP BY rid) g USING (rid)
        LEFT JOIN ({_birthday_shared_sql(config.household.max_group_size)}) t USING (rid)
        {' '.join(shares)};
        DROP TABLE _records;
    """)
    # The chance that two random records agree on each term-frequency column (sum of squared
    # shares): the u of exact agreement its adjustment is relative to. Kept, so that scoring
    # and explanations use the very same figure.
    agreements = [f"""SELECT {literal(column)} AS tf_column,
                             coalesce(sum(share * share), 0)::DOUBLE AS agreement
                      FROM (SELECT DISTINCT {quote(column)}, {quote('tf_' + column)} AS share
                            FROM linked.records WHERE {quote('tf_' + column)} IS NOT NULL)"""
                  for column in tf_columns(config)]
    con.execute("CREATE OR REPLACE TABLE linked.tf_agreement AS " + (
        " UNION ALL ".join(agreements) or
        "SELECT NULL::VARCHAR AS tf_column, NULL::DOUBLE AS agreement WHERE false"))
    return con.execute("SELECT count(*) FROM linked.records").fetchall()[0][0]
