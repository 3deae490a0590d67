"""The translation of famlink's DuckDB SQL for the Spark engine (linkage.engines.spark.to_spark),
where sqlglot leaves DuckDB's meaning behind. Each case is one DuckDB construct the families
and lists use; tests/test_spark_engine.py runs them all on Spark against DuckDB's results."""

from __future__ import annotations

import pytest

sqlglot = pytest.importorskip("sqlglot", reason="the Spark engine's extra (famlink[spark])")

from linkage.engines.spark import to_spark  # noqa: E402


def _spark(sql: str) -> str:
    return to_spark(sqlglot.parse_one(sql, read="duckdb"))


def test_tables_are_named_as_the_sessions_views() -> None:
    assert _spark("SELECT * FROM linked.pairs p JOIN temp._mart_people m USING (x)") == \
        "SELECT * FROM linked__pairs AS p JOIN _mart_people AS m USING (x)"


def test_an_ordered_list_is_sorted_by_its_keys_as_duckdb_orders_them() -> None:
    sql = _spark("SELECT list(name ORDER BY day DESC, name) FILTER (WHERE ok) FROM t")
    assert "COLLECT_LIST(STRUCT(day AS k0, name AS k1, name AS v)) FILTER (WHERE ok)" in sql
    # descending first key: the left one first when it is greater; NULLs last either way
    assert "WHEN _l.k0 < _r.k0 THEN 1 WHEN _l.k0 > _r.k0 THEN -1" in sql
    assert "WHEN _l.k1 < _r.k1 THEN -1 WHEN _l.k1 > _r.k1 THEN 1" in sql
    assert "WHEN _l.k0 IS NULL THEN 1 WHEN _r.k0 IS NULL THEN -1" in sql
    # a list of no rows is NULL in DuckDB, empty in Spark
    assert sql.startswith("SELECT IF(SIZE(COLLECT_LIST(")


def test_distinct_and_first_keep_their_meaning() -> None:
    assert "ARRAY_DISTINCT(TRANSFORM(ARRAY_SORT(" in _spark(
        "SELECT list(DISTINCT x ORDER BY x) FROM t")
    first = _spark("SELECT first(name ORDER BY n DESC) FROM t")
    assert first.startswith("SELECT TRY_ELEMENT_AT(ARRAY_SORT(COLLECT_LIST(STRUCT(n AS k0, "
                            "name AS v))") and first.endswith(", 1).v FROM t")


def test_format_placeholders_and_dates_read_as_in_duckdb() -> None:
    assert _spark("SELECT format('on {} ' 'for {}: 5%', day, n) FROM t") == \
        "SELECT IF(day IS NULL OR n IS NULL, NULL, FORMAT_STRING('on %s for %s: 5%%', " \
        "CAST(day AS STRING), CAST(n AS STRING))) FROM t"


def test_list_elements_count_from_one_and_are_null_past_the_end() -> None:
    assert _spark("SELECT ['a', 'b'][priority], x[2], d['key'] FROM t") == \
        "SELECT TRY_ELEMENT_AT(ARRAY('a', 'b'), priority), TRY_ELEMENT_AT(x, 2), d['key'] " \
        "FROM t"


def test_duckdbs_tuple_in_and_unordered_row_numbers() -> None:
    assert _spark("SELECT (a, b) IN (SELECT (a, b) FROM u) FROM t") == \
        "SELECT (a, b) IN (SELECT a, b FROM u) FROM t"
    assert _spark("SELECT *, row_number() OVER () AS n FROM t") == \
        "SELECT *, MONOTONICALLY_INCREASING_ID() AS n FROM t"


def test_sizes_and_ranks_are_bigint_as_in_duckdb() -> None:
    sql = _spark("SELECT array_length(x), row_number() OVER (PARTITION BY a ORDER BY "
                 "d->>'k') FROM linked.t")
    assert sql == ("SELECT CAST(SIZE(x) AS BIGINT), CAST(ROW_NUMBER() OVER (PARTITION BY a "
                   "ORDER BY GET_JSON_OBJECT(d, '$.k') NULLS LAST) AS BIGINT) FROM linked__t")


def test_what_a_rewrite_holds_is_rewritten_too() -> None:
    sql = _spark("SELECT format('{}', (SELECT list(x ORDER BY x) FROM linked.a)[1]) FROM t")
    assert "FROM linked__a" in sql and "linked.a" not in sql and "ARRAY_SORT" in sql
    assert "TRY_ELEMENT_AT(IF(SIZE(COLLECT_LIST(" in _spark("SELECT list(x)[1] FROM t")


def test_arg_max_skips_nulls_and_orders_a_tuple_key_as_duckdb() -> None:
    sql = _spark("SELECT arg_max(v, (d, v)) FILTER (WHERE ok), arg_min(x, y) FROM t")
    # a NULL field of a tuple key sorts last in DuckDB, first in Spark: a flag before it
    assert "MAX_BY(v, STRUCT((d) IS NULL, d, (v) IS NULL, v)) FILTER (WHERE (ok) AND " \
           "(v) IS NOT NULL" in sql
    assert "MIN_BY(x, y) FILTER (WHERE (x) IS NOT NULL AND (y) IS NOT NULL)" in sql


def test_format_with_a_null_is_null_as_in_duckdb() -> None:
    assert _spark("SELECT format('{}', x) FROM t") == \
        "SELECT IF(x IS NULL, NULL, FORMAT_STRING('%s', CAST(x AS STRING))) FROM t"


def test_nulls_first_and_struct_keys_in_an_ordered_list() -> None:
    sql = _spark("SELECT list(s ORDER BY struct_pack(a := x, b := y) NULLS FIRST) FROM t")
    assert "STRUCT(STRUCT((x) IS NULL, x, (y) IS NULL, y) AS k0, s AS v)" in sql
    assert "WHEN _l.k0 IS NULL THEN -1 WHEN _r.k0 IS NULL THEN 1" in sql and "--" not in sql
