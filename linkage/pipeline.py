"""The pipeline layer: each step of a run as one call, with a typed summary back.

The CLI's commands and the Prefect flow's tasks are thin layers over these functions: a step
opens its warehouse, does its work, closes it and says what it did; whatever calls it only
shows the summary (a table in the terminal, a log line and an artifact in Prefect).

A whole run (`famlink nightly`) is built inside `building`: its own warehouse version (a copy
of the current one), published by `finish` only when every gate of configs/publish.yaml
passes (linkage.publish).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from linkage.config import ConfigError
from linkage.engines import families_engine
from linkage.evaluate import evaluate, evaluate_families, write_report
from linkage.families.build import build_families
from linkage.families.settings import MARTS_CONFIG, load_marts_config
from linkage.ingest.loaded import IngestError
from linkage.ingest.run import AccountingError, IngestSummary, ingest
from linkage.link.run import LinkSummary, link
from linkage.link.settings import LINKAGE_CONFIG, load_linkage_config
from linkage.marts.build import build_marts
from linkage.publish.gates import Gate, check, measure
from linkage.publish.indexes import index_for_readers
from linkage.publish.settings import PublishConfig
from linkage.publish.workdir import Workdir
from linkage.review.decisions import decisions_path, latest_seq
from linkage.warehouse import (
    OutOfMemory,
    WarehouseBusy,
    connect,
    out_of_memory_as,
    table_exists,
    use_resources,
)

Progress = Callable[[str], None]


class NotReady(RuntimeError):
    """A step asked of a warehouse whose earlier steps have not run."""


# Errors famlink words itself: file, line, field and reason, never a record's values. Any other
# exception is recorded by its type alone (a library's message may quote a row).
WORDED = (ConfigError, IngestError, AccountingError, WarehouseBusy, NotReady, OutOfMemory)


def error_text(exc: BaseException) -> str:
    """What a failed run's record keeps of its error."""
    if isinstance(exc, WORDED):
        return str(exc)
    return f"{type(exc).__name__} (details in the run's log)"


@contextlib.contextmanager
def _step(name: str, db: Path, linkage_config: Path | None = None
          ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse open for one step, with the memory and spill folder of
    configs/linkage.yaml's `resources`; running out of memory says which step and what to
    change (OutOfMemory) instead of DuckDB's traceback."""
    resources = load_linkage_config(linkage_config).resources
    con = connect(db)
    try:
        use_resources(con, db, resources.memory_limit, resources.temp_directory)
        with out_of_memory_as(name, con):
            yield con
    finally:
        con.close()


def ingest_step(db: Path, extracts: Path, config_dir: Path | None = None,
                settings_path: Path | None = None, only: list[str] | None = None,
                progress: Progress | None = None,
                linkage_config: Path | None = None) -> IngestSummary:
    """Load the extracts into `db`. Raises IngestFailed (with the summary), after loading what
    it could, when a source the run expected is missing or a file cannot be published.
    `linkage_config`: whose `resources` apply (default: configs/linkage.yaml)."""
    with _step("ingest", db, linkage_config) as con:
        return ingest(con, extracts, config_dir, progress=progress,
                      settings_path=settings_path, only=only)


def link_step(db: Path, config_path: Path | None = None, retrain: bool = False,
              decisions: Path | None = None, decisions_as_of: int | None = None,
              reports: Path | None = None, progress: Progress | None = None) -> LinkSummary:
    """Link `db`'s records into persons (linkage.link.run.link)."""
    config = load_linkage_config(config_path)
    with _step("link", db, config_path) as con:
        return link(con, db, config, config_path or LINKAGE_CONFIG, retrain, progress=progress,
                    decisions=decisions, decisions_as_of=decisions_as_of, reports=reports)


@dataclass
class FamiliesSummary:
    families: dict[str, int]
    marts: dict[str, int]


def families_step(db: Path, config_path: Path | None = None,
                  progress: Progress | None = None,
                  linkage_config: Path | None = None) -> FamiliesSummary:
    """Group `db`'s persons into families, then build the lists staff act on.
    `linkage_config`: whose `resources` and `engine` apply (default: configs/linkage.yaml)."""
    config = load_marts_config(config_path)
    engine_config = load_linkage_config(linkage_config)
    try:
        with _step("families", db, linkage_config) as con:
            if not table_exists(con, "linked.persons"):
                raise NotReady(f"{db} has no linked persons yet: run `famlink link` first")
            if progress and engine_config.engine.name != "duckdb":
                progress(f"copying the linked persons to {engine_config.engine.name}")
            with families_engine(con, engine_config, db, config) as engine:
                if progress:
                    progress("grouping persons into families")
                families = build_families(engine, config)
                if progress:
                    progress("building the lists")
                marts = build_marts(engine, config)
    except ConfigError as exc:  # a rule's SQL that does not compile, with its key
        raise ConfigError(f"{config_path or MARTS_CONFIG}: {exc}") from None
    return FamiliesSummary(families, marts)


def evaluate_step(db: Path, truth: Path, out: Path) -> dict:
    """Accuracy against a generator's truth (synthetic runs only), written to `out`."""
    con = connect(db, read_only=True)
    try:
        result = evaluate(con, truth)
        result["families"] = evaluate_families(con, truth)
    finally:
        con.close()
    write_report(result, out)
    return result


@dataclass
class Run:
    """A run being built in its own warehouse version."""

    workdir: Workdir
    run_id: str
    db: Path
    decisions: Path  # the work folder's decision store
    decisions_as_of: int  # its mark when the run started: later decisions wait for the next
    reports: Path = field(init=False)

    def __post_init__(self) -> None:
        self.reports = self.workdir.root / "reports"


@contextlib.contextmanager
def building(root: Path, progress: Progress | None = None) -> Iterator[Run]:
    """Hold the work folder for one run and start it from a copy of the current version. If
    anything raises inside, the run is recorded as failed and its partial version deleted;
    if the process is killed, the next run finds it `building` and does the same."""
    workdir = Workdir(root)
    with workdir.exclusive():
        workdir.reconcile()
        run_id, db = workdir.begin(progress)
        decisions = decisions_path(workdir.current_path, load_linkage_config().review
                                   .decisions_file)
        run = Run(workdir, run_id, db, decisions, latest_seq(decisions))
        try:
            yield run
        except BaseException as exc:
            workdir.fail(run_id, error_text(exc))
            raise


@dataclass
class Verdict:
    run_id: str
    published: bool
    gates: list[Gate]
    metrics: dict
    previous: dict | None  # the last published run's metrics
    removed: list[str]  # versions deleted to keep configs/publish.yaml's keep_versions

    @property
    def failed(self) -> list[Gate]:
        return [gate for gate in self.gates if not gate.passed]


def _previous_metrics(workdir: Workdir) -> dict | None:
    current = workdir.current_run()
    if current is None:
        return None
    recorded = workdir.registry.get(current)
    if recorded is not None and recorded.metrics is not None:
        return recorded.metrics
    con = connect(workdir.version_path(current), read_only=True)  # adopted: never measured
    try:
        return measure(con)
    finally:
        con.close()


def finish(run: Run, config: PublishConfig, progress: Progress | None = None) -> Verdict:
    """Index the built version for its readers, measure it, check the gates against the
    current one, and publish it (one rename) if every gate passed; else hold it for an
    analyst (`famlink publish`)."""
    if progress:
        progress("indexing for readers")
    con = connect(run.db)
    try:
        index_for_readers(con)
    finally:
        con.close()
    if progress:
        progress("checking the gates")
    con = connect(run.db, read_only=True)
    try:
        metrics = measure(con)
    finally:
        con.close()
    previous = _previous_metrics(run.workdir)
    gates = check(metrics, previous, config.gates)
    run.workdir.registry.update(run.run_id, metrics=metrics,
                                gates=[gate.to_dict() for gate in gates])
    verdict = Verdict(run.run_id, all(gate.passed for gate in gates), gates, metrics, previous,
                      [])
    if verdict.published:
        verdict.removed = run.workdir.publish(run.run_id, config.keep_versions,
                                              progress=progress)
    else:
        run.workdir.hold(run.run_id)
    return verdict
