"""The link step's pair work and the families step on Apache Spark (`engine.name: spark` in
configs/linkage.yaml).

`SparkConnection` takes the calls those steps make on a DuckDB connection (`execute`,
`fetchall`, `fetchnumpy`, `register`, `unregister`, DESCRIBE, and the warehouse helpers'
`has_table`, `tables_in`, `get_table_names`) and runs them on Spark:
- each statement, written in DuckDB's dialect by famlink's SQL functions, is parsed and
  translated with sqlglot (`to_spark`), with the few rewrites sqlglot leaves to the caller;
- a statement Spark refuses is a `SparkSqlError` (a duckdb.Error), whose message never
  quotes a value;
- CREATE TABLE ... AS, INSERT, DELETE and DROP act on Spark DataFrames kept as views, each
  checkpointed when made so that no plan grows with the steps before it (`linked.vectors` is
  the view `linked__vectors`);
- DuckDB's string functions that Spark lacks (Jaro-Winkler, Hamming, Damerau-Levenshtein)
  are Arrow UDFs over jellyfish, which gives the same values as DuckDB (checked on 197,200
  name pairs: no difference).
Tables cross between DuckDB and Spark as Parquet files in a work folder (`copy_to_spark`,
`copy_to_duckdb`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from linkage.config import ConfigError
from linkage.link.settings import SparkSettings
from linkage.warehouse import EngineOutOfMemory, literal

SPARK_OUT_OF_MEMORY = 52  # the exit code of a Spark JVM ended by OutOfMemoryError
_MISSING = ("The Spark engine needs pyspark 4 and Java 17: pip install 'famlink[spark]' "
            "(configs/linkage.yaml, engine.name: spark)")


def _view(name: str) -> str:
    """The Spark view holding table `name` ('linked.pairs' -> 'linked__pairs'; a temporary
    table's 'temp.' is dropped: every view of the session is temporary)."""
    for prefix in ("temp.main.", "temp.", "main."):
        name = name.removeprefix(prefix)
    return name.replace(".", "__").lower()


def to_spark(statement: Any) -> str:
    """Spark SQL for one parsed DuckDB statement (sqlglot expression). Tables are renamed to
    their views, and what sqlglot leaves to the caller is rewritten (a node replaced is not
    visited within, so each replacement rewrites its own parts):
    - DuckDB's `&&` list overlap becomes ARRAYS_OVERLAP;
    - a CTE's MATERIALIZED hint is dropped (Spark plans CTEs itself);
    - an ordered aggregate (`list(x ORDER BY k)`, `first(x ORDER BY k)`), which Spark lacks,
      sorts the collected (k, x) pairs, and a list of no rows is NULL (`_collected`);
    - `format('{}', x)` is FORMAT_STRING('%s', CAST(x AS STRING)), NULL when x is;
    - `arg_max` / `arg_min` skip NULLs and order tuple keys as DuckDB does (`_by`);
    - list sizes, string lengths and row numbers are BIGINT, as DuckDB's (Spark's are INT);
    - `(a, b) IN (SELECT (a, b) ...)` (DuckDB's spelling) selects the columns themselves;
    - `x NOT IN (SELECT ...)` in a WHERE becomes anti joins (`_not_in`);
    - a list's element `x[i]` is TRY_ELEMENT_AT (counting from 1, NULL past the end, as
      DuckDB's; sqlglot shifts only a literal index);
    - `row_number() OVER ()`, the rows numbered in their stored order (Spark wants an order),
      becomes MONOTONICALLY_INCREASING_ID: the same order, other numbers (only the order is
      used)."""
    from sqlglot import exp

    widened: set[int] = set()

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name:
            name = f"{node.db}.{node.name}" if node.db else node.name
            renamed = exp.to_table(_view(name))
            if node.alias:
                renamed.set("alias", node.args["alias"])
            return renamed
        if isinstance(node, exp.ArrayOverlaps):
            return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[node.this, node.expression])
        if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
            node.set("materialized", None)
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg | exp.First):
            return _collected(node.this, node.expression)
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArgMax | exp.ArgMin):
            return _by(node.this, node.expression.this)
        if isinstance(node, exp.ArgMax | exp.ArgMin):
            return _by(node, None)
        if isinstance(node, exp.ArrayAgg) or _ordered_aggregate(node):
            return _collected(node, None)
        if isinstance(node, exp.Format) and _text(node.this) is not None:
            text = _text(node.this).replace("%", "%%").replace("{}", "%s")
            values = [e.transform(rewrite) for e in node.expressions]
            formatted = exp.Anonymous(this="FORMAT_STRING", expressions=[
                exp.Literal.string(text),  # a date as DuckDB writes it, not as a day number
                *(exp.Cast(this=v, to=exp.DataType.build("string")) for v in values)])
            if not values:
                return formatted
            # DuckDB's is NULL when a value is; Java's would write "null" into the text
            return exp.If(this=exp.or_(*(exp.Is(this=v.copy(), expression=exp.Null())
                                         for v in values)),
                          true=exp.Null(), false=formatted)
        if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and \
                not node.args.get("partition_by") and not node.args.get("order"):
            return exp.Anonymous(this="MONOTONICALLY_INCREASING_ID", expressions=[])
        if id(node) not in widened and (isinstance(node, exp.ArraySize | exp.Length) or (
                isinstance(node, exp.Window) and
                isinstance(node.this, exp.RowNumber | exp.Rank | exp.DenseRank))):
            widened.add(id(node))  # rewritten within, then cast (a replaced node's insides
            # are not visited by transform)
            return exp.Cast(this=node.transform(rewrite, copy=False),
                            to=exp.DataType.build("bigint"))
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and \
                not (isinstance(node.expressions[0], exp.Literal) and
                     node.expressions[0].is_string):
            index = node.expressions[0]  # sqlglot has made a literal index count from 0
            if isinstance(index, exp.Literal):
                index = exp.Literal.number(int(index.this) + 1)
            return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[
                node.this.transform(rewrite), index.transform(rewrite)])
        if isinstance(node, exp.Not) and isinstance(node.this, exp.In) and \
                isinstance(node.this.args.get("query"), exp.Subquery) and \
                not isinstance(node.this.this, exp.Tuple) and \
                isinstance(node.find_ancestor(exp.Where, exp.Select), exp.Where):
            return _not_in(node.this.this.transform(rewrite),
                           node.this.args["query"].this.transform(rewrite))
        if isinstance(node, exp.In) and isinstance(node.this, exp.Tuple) and \
                isinstance(node.args.get("query"), exp.Subquery | exp.Select):
            query = node.args["query"]
            select = query.this if isinstance(query, exp.Subquery) else query
            if isinstance(select, exp.Select) and len(select.expressions) == 1 and \
                    isinstance(select.expressions[0], exp.Tuple):
                select.set("expressions", select.expressions[0].expressions)
        return node

    return statement.transform(rewrite).sql(dialect="spark")


def _text(node: Any) -> str | None:
    """The text of a string literal, or of adjacent ones ('a ' 'b'); None for anything
    else."""
    from sqlglot import exp

    parts = node.expressions if isinstance(node, exp.Concat) else [node]
    if all(isinstance(p, exp.Literal) and p.is_string for p in parts):
        return "".join(p.this for p in parts)
    return None


def _nulls_last(key: Any) -> str:
    """Spark SQL for sort key `key` (an expression), ordering as DuckDB orders it: a tuple or
    struct compares field by field with a NULL field last, where Spark puts it first, so each
    field is preceded by whether it is NULL."""
    from sqlglot import exp

    if not isinstance(key, exp.Tuple | exp.Struct):
        return to_spark(key)
    fields = [f.expression if isinstance(f, exp.PropertyEQ) else f for f in key.expressions]
    return "STRUCT(" + ", ".join(f"({to_spark(f)}) IS NULL, {to_spark(f)}" for f in fields) \
        + ")"


def _not_in(value: Any, query: Any) -> Any:
    """`value NOT IN (query)` in a WHERE, as anti joins Spark can run at any size: its own
    plan for NOT IN broadcasts the whole subquery to every task (a null-aware anti join),
    which ran a 4 GB driver out of memory on a million persons' lists. DuckDB's meaning is
    kept: true when the query has no rows; else false when it holds a NULL, NULL when the
    value is NULL, true when no row equals the value."""
    from sqlglot import exp

    rows = f"(SELECT * FROM ({query.sql(dialect='spark')}) AS _q(_v))"
    found = exp.maybe_parse(
        f"NOT EXISTS (SELECT 1 FROM {rows} AS _s WHERE _s._v = {value.sql(dialect='spark')})"
        f" AND ({value.sql(dialect='spark')} IS NOT NULL OR NOT EXISTS (SELECT 1 FROM {rows}"
        f" AS _s)) AND NOT EXISTS (SELECT 1 FROM {rows} AS _s WHERE _s._v IS NULL)",
        dialect="spark")
    return exp.Paren(this=found)


def _by(node: Any, where: Any) -> Any:
    """Spark SQL for `arg_max(v, k)` / `arg_min(v, k)` (FILTERed by `where`, if any): MAX_BY /
    MIN_BY over the rows where neither v nor k is NULL (DuckDB skips those; Spark would
    return a NULL v), a tuple key ordered as DuckDB orders it (`_nulls_last`)."""
    from sqlglot import exp

    value, key = to_spark(node.this), node.expression
    kept = f"({value}) IS NOT NULL AND ({to_spark(key)}) IS NOT NULL"
    if where is not None:
        kept = f"({to_spark(where)}) AND {kept}"
    function = "MAX_BY" if isinstance(node, exp.ArgMax) else "MIN_BY"
    return exp.Var(this=f"{function}({value}, {_nulls_last(key)}) FILTER (WHERE {kept})")


def _ordered_aggregate(node: Any) -> bool:
    """Whether `node` is `list(... ORDER BY ...)` or `first(... ORDER BY ...)`."""
    from sqlglot import exp

    return isinstance(node, exp.ArrayAgg | exp.First) and isinstance(node.this, exp.Order)


def _collected(node: Any, where: Any) -> Any:
    """Spark SQL for `list(...)` or `first(... ORDER BY ...)` (FILTERed by `where`, if any).
    Spark's aggregates take no order: the values are collected with their sort keys, sorted
    by a comparator that keeps DuckDB's order (each key ascending or descending, NULLs last
    unless told), then the values taken (all, distinct, or the first). A list of no rows is
    NULL, as DuckDB's (Spark's is empty)."""
    from sqlglot import exp

    order = node.this if isinstance(node.this, exp.Order) else None
    value, distinct = (order.this if order else node.this), False
    if isinstance(value, exp.Distinct):
        value, distinct = value.expressions[0], True
    keys = order.expressions if order else []
    fields = ", ".join([f"{_nulls_last(k.this)} AS k{i}" for i, k in enumerate(keys)]
                       + [f"{to_spark(value)} AS v"])
    collected = f"COLLECT_LIST(STRUCT({fields}))"
    if where is not None:
        collected += f" FILTER (WHERE {to_spark(where.this)})"
    steps = []
    for i, key in enumerate(keys):
        before, after = ("1", "-1") if key.args.get("desc") else ("-1", "1")
        nulls = -1 if key.args.get("nulls_first") else 1
        left, right = f"_l.k{i}", f"_r.k{i}"
        steps.append(f"NULLIF(CASE WHEN {left} IS NULL AND {right} IS NULL THEN 0 "
                     f"WHEN {left} IS NULL THEN {nulls} WHEN {right} IS NULL THEN {-nulls} "
                     f"WHEN {left} < {right} THEN {before} WHEN {left} > {right} THEN {after} "
                     f"ELSE 0 END, 0)")
    ordered = f"ARRAY_SORT({collected}, (_l, _r) -> COALESCE({', '.join(steps)}, 0))" \
        if steps else collected
    if isinstance(node, exp.First):
        return exp.Var(this=f"TRY_ELEMENT_AT({ordered}, 1).v")
    values = f"TRANSFORM({ordered}, _e -> _e.v)"
    if distinct:
        values = f"ARRAY_DISTINCT({values})"
    return exp.Var(this=f"IF(SIZE({collected}) = 0, NULL, {values})")


def _pairwise(name: str, dtype: str) -> Any:
    """A scalar pandas UDF: jellyfish's `name` over two string columns, NULL where either
    value is (pandas hands a NULL over as NaN)."""

    def udf(a: Any, b: Any) -> Any:
        import jellyfish
        import pandas as pd

        fn = getattr(jellyfish, name)
        return pd.Series([fn(x, y) if isinstance(x, str) and isinstance(y, str) else None
                          for x, y in zip(a, b, strict=True)], dtype=dtype)

    return udf


# DuckDB's names (and sqlglot's spelling of the first) -> jellyfish's function, Spark type
UDFS = {"jarowinkler_similarity": ("jaro_winkler_similarity", "float64", "double"),
        "jaro_winkler_similarity": ("jaro_winkler_similarity", "float64", "double"),
        "hamming": ("hamming_distance", "Int64", "bigint"),
        "damerau_levenshtein": ("damerau_levenshtein_distance", "Int64", "bigint")}


def _spark_type(dtype: np.dtype) -> str:
    """Spark's type for a NumPy column's (text is held as Python objects)."""
    if dtype.kind in "OU":
        return "string"
    if dtype.kind == "b":
        return "boolean"
    if dtype.kind in "iu":
        return {1: "tinyint", 2: "smallint", 4: "int"}.get(dtype.itemsize, "bigint")
    return {4: "float"}.get(dtype.itemsize, "double")


class SparkSqlError(duckdb.Error):
    """A statement Spark refused. Raised as DuckDB's error class, so that a check that words
    a rule's bad SQL for the analyst (linkage.families.settings.check_sql) words it the same
    on either engine."""


class SparkConnection:
    """A Spark session that answers the steps' calls as a DuckDB connection would.

    `work` holds Spark's checkpoints and the Parquet files tables cross in; it is deleted on
    `close`."""

    def __init__(self, settings: SparkSettings, work: Path) -> None:
        try:
            from pyspark.sql import SparkSession, functions
        except ImportError as exc:
            raise ConfigError(_MISSING) from exc
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise ConfigError(_MISSING + ": no java on the PATH and no JAVA_HOME")
        self.work = Path(tempfile.mkdtemp(prefix="famlink-spark-", dir=work))
        self.driver_memory = settings.driver_memory
        # the UDFs' Python workers run this interpreter, which has famlink's packages
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            self.spark = self._session(settings, SparkSession)
            for name, (function, dtype, kind) in UDFS.items():
                # wrapped in a lambda: pyspark would read a pandas UDF's kind from type hints
                fn = _pairwise(function, dtype)
                self.spark.udf.register(name, functions.pandas_udf(
                    lambda a, b, fn=fn: fn(a, b), kind))  # type: ignore[misc]
        except BaseException:
            if getattr(self, "spark", None) is not None:
                self.spark.stop()
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.tables: dict[str, Any] = {}
        self.made: dict[str, str] = {}  # view -> table name, for the tables statements made
        self.warehouse_tables: set[tuple[str, str]] = set()  # (schema, table), copy_to_spark
        self._rows: list[tuple] = []
        self._columns: list[str] = []

    def _session(self, settings: SparkSettings, session: Any) -> Any:
        """A session (pyspark's SparkSession class given as `session`), its scratch space
        in the work folder."""
        spark = (session.builder.master(settings.master).appName("famlink link")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", settings.driver_memory)
                 .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
                 .config("spark.local.dir", str(self.work / "local"))
                 .config("spark.sql.warehouse.dir", str(self.work / "warehouse"))
                 # DuckDB's TIMESTAMP has no time zone: neither have Spark's, nor its clock
                 .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
                 .config("spark.sql.session.timeZone", "UTC")
                 # a row's JSON (a list row's content hash) keeps its empty fields, as DuckDB's
                 .config("spark.sql.jsonGenerator.ignoreNullFields", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir(str(self.work / "checkpoints"))
        return spark

    # -- the DuckDB connection's calls ---------------------------------------------------
    def execute(self, sql: str, parameters: list | None = None) -> SparkConnection:
        """Run one or more statements; the last one's rows are what `fetchall` returns."""
        import sqlglot

        if parameters:
            raise NotImplementedError("the Spark engine takes no query parameters")
        for statement in sqlglot.parse(sql, read="duckdb"):
            if statement is not None:
                with self._worded():
                    self._run(statement)
        return self

    @contextlib.contextmanager
    def _worded(self) -> Iterator[None]:
        """Spark's errors as famlink words them: a statement Spark refuses is a SparkSqlError
        with Spark's first line (it names columns, not values); a failure while running is
        one by its condition or Java class alone (its text can quote a value); the driver
        running out of memory is EngineOutOfMemory (the step's OutOfMemory)."""
        from py4j.protocol import Py4JError, Py4JJavaError
        from pyspark.errors import AnalysisException, ParseException
        from pyspark.errors.exceptions.captured import CapturedException

        try:
            yield
        except (AnalysisException, ParseException) as exc:
            raise SparkSqlError(str(exc).strip().splitlines()[0]) from None
        except (CapturedException, Py4JError, ConnectionError) as exc:
            if self._driver_ran_out(exc):
                raise EngineOutOfMemory("engine.spark.driver_memory",
                                        self.driver_memory) from None
            what = "its driver ending"
            with contextlib.suppress(Py4JError, ConnectionError):
                what = exc.getCondition() if isinstance(exc, CapturedException) else \
                    exc.java_exception.getClass().getName() \
                    if isinstance(exc, Py4JJavaError) else what
            raise SparkSqlError(f"Spark stopped on {what} (its log says more)") from None

    def _driver_ran_out(self, exc: BaseException) -> bool:
        """Whether Spark's driver ran out of memory: said in the Java error, or the JVM
        ended with Spark's exit code for it (52), as it does when a task's thread runs out
        in local mode and the Python side only sees the connection drop."""
        if "java.lang.OutOfMemoryError" in str(exc):
            return True
        process = getattr(self.spark.sparkContext._gateway, "proc", None)
        try:
            return process is not None and process.wait(timeout=10) == SPARK_OUT_OF_MEMORY
        except subprocess.TimeoutExpired:  # still running: another failure
            return False

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return {name: np.array([row[i] for row in self._rows])
                for i, name in enumerate(self._columns)}

    @property
    def description(self) -> list[tuple[str]]:
        return [(name,) for name in self._columns]

    def register(self, name: str, columns: dict[str, np.ndarray]) -> None:
        """Python columns as a table (the model's pattern weights, the links to drop, the
        ids a run inherits)."""
        import pandas as pd

        arrays = {k: np.asarray(v) for k, v in columns.items()}
        schema = ", ".join(f"{k} {_spark_type(v.dtype)}" for k, v in arrays.items())
        frame = pd.DataFrame(arrays)
        with self._worded():
            self._store(name, self.spark.createDataFrame(frame if len(frame) else [],
                                                         schema=schema))

    def unregister(self, name: str) -> None:
        self._drop(name)

    def has_table(self, name: str) -> bool:
        """Whether the session holds table `name`, or `name` is a schema some table is in."""
        view = _view(name)
        return view in self.tables or any(t.startswith(f"{view}__") for t in self.tables)

    def tables_in(self, schema: str) -> set[str]:
        """The tables of `schema` in the warehouse the session was filled from (whether or not
        they were copied), and any it made."""
        return {name for s, name in self.warehouse_tables if s == schema} | \
            {view.split("__", 1)[1] for view in self.tables if view.startswith(f"{schema}__")}

    def get_table_names(self, sql: str, qualified: bool = False) -> set[str]:
        """The tables `sql` reads, as DuckDB's connection names them."""
        import sqlglot
        from sqlglot import exp

        return {f"{t.db}.{t.name}" if qualified and t.db else t.name
                for t in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)}

    def close(self) -> None:
        """Stop the session and delete the work folder (it holds copies of the records)."""
        try:
            self.spark.stop()
        except Exception:  # noqa: BLE001 - its JVM has ended (out of memory): nothing to stop
            pass
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- moving tables between the engines -----------------------------------------------
    def copy_to_spark(self, con: duckdb.DuckDBPyConnection, *tables: str) -> None:
        """DuckDB tables into Spark, through Parquet."""
        self.warehouse_tables |= set(con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall())
        for table in tables:
            path = self.work / f"in-{_view(table)}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO {literal(str(path))} "
                        f"(FORMAT parquet)")
            with self._worded():
                self._store(table, self.spark.read.parquet(str(path)))
            self.made.pop(_view(table))

    def copy_to_duckdb(self, con: duckdb.DuckDBPyConnection, *tables: str) -> None:
        """Spark tables into DuckDB (replacing them there), through Parquet."""
        for table in tables:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            path = self.work / f"out-{_view(table)}"
            with self._worded():
                self.tables[_view(table)].write.mode("overwrite").parquet(str(path))
            con.execute(f"CREATE OR REPLACE TABLE {table} AS "
                        f"SELECT * FROM read_parquet({literal(str(path / '*.parquet'))})")

    # -- statements ----------------------------------------------------------------------
    def written(self, *schemas: str) -> list[str]:
        """The tables of `schemas` that statements made or changed (not temporary ones)."""
        return sorted(name for name in self.made.values() if name.split(".")[0] in schemas
                      and "." in name)

    def _store(self, name: str, frame: Any) -> None:
        frame = frame.localCheckpoint(eager=True)
        self.made[_view(name)] = name
        self.tables[_view(name)] = frame
        frame.createOrReplaceTempView(_view(name))

    def _drop(self, name: str) -> None:
        self.made.pop(_view(name), None)
        if self.tables.pop(_view(name), None) is not None:
            self.spark.catalog.dropTempView(_view(name))

    def _query(self, statement: Any) -> Any:
        return self.spark.sql(to_spark(statement))

    def _run(self, statement: Any) -> None:
        from sqlglot import exp

        self._rows, self._columns = [], []
        if isinstance(statement, exp.Create):
            kind = str(statement.args.get("kind", "")).upper()
            if kind == "SCHEMA":
                return
            target = statement.this
            name = target.this.sql() if isinstance(target, exp.Schema) else target.sql()
            name = name.replace('"', "")
            if statement.args.get("exists") and self.has_table(name):
                return
            if statement.expression is None:  # a table defined by its columns: empty
                ddl = ", ".join(f"{c.name} {c.args['kind'].sql(dialect='spark')}"
                                for c in target.expressions)
                self._store(name, self.spark.createDataFrame([], schema=ddl))
            else:
                self._store(name, self._query(statement.expression))
        elif isinstance(statement, exp.Insert):
            name = statement.this.sql().replace('"', "")
            old = self.tables[_view(name)]
            new = self._query(statement.expression).toDF(*old.columns)
            new = new.select(*[new[c].cast(old.schema[c].dataType) for c in old.columns])
            self._store(name, old.unionAll(new))
        elif isinstance(statement, exp.Drop):
            for table in statement.args.get("tables") or [statement.this]:
                self._drop(table.sql().replace('"', ""))
        elif isinstance(statement, exp.Delete):
            name = statement.this.sql().replace('"', "")
            where = statement.args["where"].this
            kept = exp.select("*").from_(name).where(
                exp.func("coalesce", exp.Not(this=exp.Paren(this=where)), exp.true()))
            self._store(name, self._query(kept))
        elif isinstance(statement, exp.Describe):
            frame = self.tables[_view(statement.this.sql().replace('"', ""))]
            self._columns = ["column_name", "column_type"]
            # in DuckDB's spelling: a caller writes it into the next statement
            self._rows = [(f.name, exp.DataType.build(f.dataType.simpleString(),
                                                      dialect="spark").sql("duckdb"))
                          for f in frame.schema]
        else:
            frame = self._query(statement)
            self._columns = frame.columns
            self._rows = [tuple(row) for row in frame.collect()]
