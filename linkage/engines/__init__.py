"""The engines the link step's pair work can run on (configs/linkage.yaml, `engine`).

The link step writes its SQL once, in DuckDB's dialect, through functions that return it
(`linkage.link.blocking`, `.vectors`, `.scoring`, `.household`, `.clustering`), and runs it on
a connection. For DuckDB that connection is DuckDB's own; for Spark it is
`linkage.engines.spark.SparkConnection`, which takes the same calls, translates each statement
to Spark SQL (sqlglot) and keeps the tables it makes as Spark DataFrames. One runner per
engine, as Splink has one per backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from linkage.link.settings import LinkageConfig

# What the pair work reads (prepared in DuckDB) and what it hands back to the warehouse.
TO_ENGINE = ("linked.records", "linked.memberships", "linked.tf_agreement", "_decided")
FROM_ENGINE = ("linked.candidates", "linked.vectors", "linked.sample_vectors", "linked.pairs",
               "linked.clusters")


@contextlib.contextmanager
def pair_engine(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The connection the link step's pair work runs on: the warehouse's own for DuckDB; for
    Spark, a session holding the prepared records, whose results are written back into the
    warehouse when the work is done (and nothing when it fails)."""
    if config.engine.name == "duckdb":
        yield con
        return
    from linkage.engines.spark import SparkConnection

    settings = config.engine.spark
    work = Path(settings.work_directory) if settings.work_directory else \
        Path(db).absolute().parent
    spark = SparkConnection(settings, work)
    try:
        spark.copy_to_spark(con, *TO_ENGINE)
        yield spark  # type: ignore[misc]  # it answers the calls the pair work makes
        spark.copy_to_duckdb(con, *[t for t in FROM_ENGINE if spark.has_table(t)])
    finally:
        spark.close()
