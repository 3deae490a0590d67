"""The engines the link and families steps can run on (configs/linkage.yaml, `engine`).

Each step writes its SQL once, in DuckDB's dialect, through functions that return it
(`linkage.link.blocking`, `.vectors`, `.scoring`, `.household`, `.clustering`; the families
and the lists in `linkage.families`, `linkage.marts`), and runs it on a connection. For DuckDB
that connection is DuckDB's own; for Spark it is `linkage.engines.spark.SparkConnection`,
which takes the same calls, translates each statement to Spark SQL (sqlglot) and keeps the
tables it makes as Spark DataFrames. One runner per engine, as Splink has one per backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb

from linkage.families.settings import MartsConfig
from linkage.link.settings import LinkageConfig
from linkage.warehouse import table_exists, tables_in

# What the link step's pair work reads (prepared in DuckDB) and what it hands back.
TO_ENGINE = ("linked.records", "linked.memberships", "linked.tf_agreement", "_decided")
FROM_ENGINE = ("linked.candidates", "linked.vectors", "linked.sample_vectors", "linked.pairs",
               "linked.clusters")
# What the families step reads, besides the last run's families and lists (its ids and the
# lists' history carry on from them) and the raw tables its rules name; it hands back every
# table it makes in these schemas.
FAMILIES_READ = ("linked.records", "linked.memberships", "linked.persons", "linked.pairs",
                 "staged.events", "staged.memberships", "staged.person_records",
                 "staged.groups", "staged.files")
FAMILIES_WRITE = ("families", "marts")


@contextlib.contextmanager
def _on_engine(con: duckdb.DuckDBPyConnection, config: LinkageConfig, db: Path,
               inputs: Iterable[str], outputs: Callable[[object], list[str]]
               ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The connection a step's work runs on: the warehouse's own for DuckDB; for Spark, a
    session holding `inputs`, whose `outputs` (named by the session when the work is done)
    are written back into the warehouse, and nothing when the work fails."""
    if config.engine.name == "duckdb":
        yield con
        return
    from linkage.engines.spark import SparkConnection

    settings = config.engine.spark
    work = Path(settings.work_directory) if settings.work_directory else \
        Path(db).absolute().parent
    spark = SparkConnection(settings, work)
    try:
        spark.copy_to_spark(con, *inputs)
        yield spark  # type: ignore[misc]  # it answers the calls the steps make
        spark.copy_to_duckdb(con, *outputs(spark))
    finally:
        spark.close()


def pair_engine(con: duckdb.DuckDBPyConnection, config: LinkageConfig,
                db: Path) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The connection the link step's pair work runs on."""
    return _on_engine(con, config, db, TO_ENGINE,
                      lambda spark: [t for t in FROM_ENGINE if spark.has_table(t)])


def families_engine(con: duckdb.DuckDBPyConnection, config: LinkageConfig, db: Path,
                    marts: MartsConfig
                    ) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The connection the families step (families and lists) runs on."""
    before = [f"{schema}.{table}" for schema in FAMILIES_WRITE
              for table in sorted(tables_in(con, schema))]
    rules = marts.absent_parent_leads.alleged_fathers
    raw = sorted(t for t in (con.get_table_names(rules, qualified=True) if rules else ())
                 if t.startswith("raw.") and table_exists(con, t))
    return _on_engine(con, config, db, [*FAMILIES_READ, *before, *raw],
                      lambda spark: spark.written(*FAMILIES_WRITE))
