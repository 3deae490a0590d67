"""The link step's pair work on Apache Spark (`engine.name: spark` in configs/linkage.yaml).

`SparkConnection` takes the calls the link step makes on a DuckDB connection (`execute`,
`fetchall`, `fetchnumpy`, `register`, `unregister`) and runs them on Spark:
- each statement, written in DuckDB's dialect by famlink's SQL functions, is parsed and
  translated with sqlglot (`to_spark`), with the few rewrites sqlglot leaves to the caller;
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

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from linkage.config import ConfigError
from linkage.link.settings import SparkSettings
from linkage.warehouse import literal

_MISSING = ("The Spark engine needs pyspark 4 and Java 17: pip install 'famlink[spark]' "
            "(configs/linkage.yaml, engine.name: spark)")


def _view(name: str) -> str:
    """The Spark view holding table `name` ('linked.pairs' -> 'linked__pairs')."""
    return name.replace(".", "__").lower()


def to_spark(statement: Any) -> str:
    """Spark SQL for one parsed DuckDB statement (sqlglot expression). Tables are renamed to
    their views; DuckDB's `&&` list overlap becomes ARRAYS_OVERLAP, and a CTE's MATERIALIZED
    hint is dropped (Spark plans CTEs itself)."""
    from sqlglot import exp

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
        return node

    return statement.transform(rewrite).sql(dialect="spark")


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


class SparkConnection:
    """A Spark session that answers the link step's calls as a DuckDB connection would.

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
                self._run(statement)
        return self

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        return {name: np.array([row[i] for row in self._rows])
                for i, name in enumerate(self._columns)}

    @property
    def description(self) -> list[tuple[str]]:
        return [(name,) for name in self._columns]

    def register(self, name: str, columns: dict[str, np.ndarray]) -> None:
        """Python columns as a table (the model's pattern weights, the links to drop)."""
        import pyarrow as pa

        table = pa.table({k: pa.array(np.asarray(v)) for k, v in columns.items()})
        self._store(name, self.spark.createDataFrame(table.to_pandas()
                                                     if table.num_rows else [],
                                                     schema=self._schema(table)))

    def unregister(self, name: str) -> None:
        self._drop(name)

    def has_table(self, name: str) -> bool:
        return _view(name) in self.tables

    def close(self) -> None:
        """Stop the session and delete the work folder (it holds copies of the records)."""
        try:
            self.spark.stop()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- moving tables between the engines -----------------------------------------------
    def copy_to_spark(self, con: duckdb.DuckDBPyConnection, *tables: str) -> None:
        """DuckDB tables into Spark, through Parquet."""
        for table in tables:
            path = self.work / f"in-{_view(table)}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO {literal(str(path))} "
                        f"(FORMAT parquet)")
            self._store(table, self.spark.read.parquet(str(path)))

    def copy_to_duckdb(self, con: duckdb.DuckDBPyConnection, *tables: str) -> None:
        """Spark tables into DuckDB (replacing them there), through Parquet."""
        for table in tables:
            path = self.work / f"out-{_view(table)}"
            self.tables[_view(table)].write.mode("overwrite").parquet(str(path))
            con.execute(f"CREATE OR REPLACE TABLE {table} AS "
                        f"SELECT * FROM read_parquet({literal(str(path / '*.parquet'))})")

    # -- statements ----------------------------------------------------------------------
    def _schema(self, table: Any) -> Any:
        from pyspark.sql import types as t

        kinds = {"int8": t.ByteType(), "int16": t.ShortType(), "int32": t.IntegerType(),
                 "int64": t.LongType(), "double": t.DoubleType(), "float": t.FloatType(),
                 "string": t.StringType(), "large_string": t.StringType(),
                 "bool": t.BooleanType()}
        return t.StructType([t.StructField(f.name, kinds[str(f.type)]) for f in table.schema])

    def _store(self, name: str, frame: Any) -> None:
        frame = frame.localCheckpoint(eager=True)
        self.tables[_view(name)] = frame
        frame.createOrReplaceTempView(_view(name))

    def _drop(self, name: str) -> None:
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
            self._rows = [(f.name, f.dataType.simpleString()) for f in frame.schema]
        else:
            frame = self._query(statement)
            self._columns = frame.columns
            self._rows = [tuple(row) for row in frame.collect()]
