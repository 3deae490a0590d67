"""The nightly flow: a whole run, built in its own warehouse version and published whole.

extracts -> ingest -> link -> families and lists -> (evaluate, on synthetic data) -> gates ->
publish or hold. Each task is a thin wrapper over one step of linkage.pipeline; the run's
version, its lock and the atomic publish are linkage.publish's. With `demo` it first generates
a synthetic population and its four extracts, so the flow runs anywhere with nothing but this
repository; without `demo` it needs `extracts` and never makes data up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from linkage.ingest.run import IngestFailed, IngestSummary
from linkage.pipeline import (
    Run,
    Verdict,
    building,
    evaluate_step,
    families_step,
    finish,
    ingest_step,
    link_step,
)
from linkage.publish.report import list_changes, run_report, write_run_report
from linkage.publish.settings import load_publish_config
from linkage.warehouse import WarehouseBusy, WarehouseKeyError
from synthetic_data.generate import Summary, synthesize


class RunHeld(RuntimeError):
    """The run was built but a gate failed: it is held, unpublished. Raised at the end of the
    flow so that the flow run shows as failed in Prefect's UI, with the gates in its report;
    `result` is what the flow would have returned."""

    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


def transient(_task: object, _task_run: object, state: object) -> bool:
    """Retry what may pass on its own: a file share that hiccuped, a warehouse briefly held.
    Never a bad extract or config: those fail the same way every time."""
    try:
        state.result()  # type: ignore[attr-defined]
    except WarehouseKeyError:  # a wrong or missing key stays wrong
        return False
    except (WarehouseBusy, TimeoutError, ConnectionError, InterruptedError):
        return True
    except OSError as exc:
        return not isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError |
                              NotADirectoryError)
    except Exception:  # noqa: BLE001 - any other failure is not worth repeating
        return False
    return False


@task(name="generate synthetic extracts", cache_policy=NO_CACHE)
def generate_extracts(persons: int, seed: int, out: Path, hmis_version: str | None) -> Summary:
    logger = get_run_logger()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        logger.info("generated %s of %s persons", f"{done:,}", f"{persons:,}")

    summary = synthesize(persons, seed, out, hmis_version, progress=progress)
    logger.info("wrote %s persons in %s families to %s in %.1f s", f"{summary.persons:,}",
                f"{summary.families:,}", summary.out, summary.seconds)
    return summary


@task(name="ingest extracts", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30,
      retry_condition_fn=transient)
def ingest_extracts(db: Path, extracts: Path, config_dir: Path | None = None,
                    settings_path: Path | None = None, only: list[str] | None = None) -> dict:
    """Load the sources whose folders exist; fail, once they are in, if one the run expected
    is missing (the run then publishes nothing). Safe to retry: it rebuilds its tables."""
    logger = get_run_logger()
    try:
        summaries = ingest_step(db, extracts, config_dir, settings_path, only,
                                progress=logger.info)
    except IngestFailed as failed:  # what was loaded, then why it cannot be published
        _log_files(logger, failed.summary)
        for error in failed.summary.errors:
            logger.error(error)
        raise
    _log_files(logger, summaries)
    return {"files": len(summaries), "read": sum(s.read for s in summaries),
            "rejected": sum(s.rejected for s in summaries),
            "not_loaded": [skip.name for skip in summaries.skipped]}


def _log_files(logger: logging.Logger | logging.LoggerAdapter, summaries: IngestSummary) -> None:
    for s in summaries:
        logger.info("%s: read %s, staged %s, rejected %s", s.file, f"{s.read:,}",
                    f"{s.staged:,}", f"{s.rejected:,}")
        for warning in s.warnings:
            logger.warning(warning)
    for skip in summaries.skipped:
        logger.info("%s: not loaded, %s", skip.name, skip.reason)


@task(name="link persons", cache_policy=NO_CACHE)
def link_persons(run: Run) -> dict:
    """Train or reuse the model, score, cluster into persons, queue uncertain pairs; with the
    reviewer decisions as they were when the run started."""
    logger = get_run_logger()
    summary = link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                        reports=run.reports, progress=logger.info)
    logger.info("%s records -> %s persons; %s pairs queued for review; charts in %s",
                f"{summary.records:,}", f"{summary.persons['persons']:,}",
                f"{summary.queued:,}", summary.charts)
    return summary.__dict__


@task(name="families and lists", cache_policy=NO_CACHE)
def families_and_marts(db: Path) -> dict:
    """Group persons into families, then build the lists program staff act on."""
    logger = get_run_logger()
    summary = families_step(db, progress=logger.info)
    logger.info("%s families (%s joint, %s oversized); lists: %s",
                f"{summary.families['families']:,}", f"{summary.families['joint']:,}",
                f"{summary.families['oversized']:,}", summary.marts)
    return {"families": summary.families, "marts": summary.marts}


@task(name="evaluate against the truth", cache_policy=NO_CACHE)
def evaluate_links(truth: Path, db: Path, out: Path) -> dict:
    """Only for synthetic runs, where the generator's truth exists."""
    result = evaluate_step(db, truth, out)
    get_run_logger().info("cluster F1 %.4f, pairwise F1 %.4f (report in %s)",
                          result["cluster"]["f1"], result["pairwise"]["f1"], out)
    return result


@task(name="gates and publish", cache_policy=NO_CACHE)
def gate_and_publish(run: Run, publish_config: str | None) -> Verdict:
    """Publish the run if every gate passes (one rename), else hold it. Never retried: a
    retry after the rename would work on a version that is already current."""
    logger = get_run_logger()
    verdict = finish(run, load_publish_config(publish_config), progress=logger.info)
    for gate in verdict.failed:
        logger.error("gate failed: %s: %s", gate.name, gate.detail)
    logger.info("run %s %s", run.run_id, "published" if verdict.published else "held")
    return verdict


def _artifacts(run: Run, verdict: Verdict, linked: dict, lists: dict) -> str:
    """The run report (Markdown, in Prefect's UI and in reports/) and each list's change (a
    table per list); returns the report's path."""
    markdown = run_report(run.run_id, verdict.published, verdict.gates, verdict.metrics,
                          verdict.previous, linked, lists["families"])
    path = write_run_report(run.reports, run.run_id, markdown)
    create_markdown_artifact(markdown, key="famlink-run-report",
                             description=f"famlink run {run.run_id}")
    for change in list_changes(verdict.metrics, verdict.previous):
        create_table_artifact([change], key="famlink-list-" + change["list"].replace("_", "-"),
                              description=f"{change['list']}: size against the last "
                                          f"published run")
    return str(path)


@flow(name="nightly")
def nightly(workdir: str = "data/nightly", extracts: str | None = None, demo: bool = False,
            persons: int = 10_000, seed: int = 1, hmis_version: str | None = None,
            config: str | None = None, settings: str | None = None,
            only: list[str] | None = None, publish_config: str | None = None) -> dict:
    """Build a run of `workdir` from `extracts` (or, with `demo`, from a synthetic population
    of `persons`) and publish it if it passes the gates of `publish_config` (default
    configs/publish.yaml); raises RunHeld if a gate failed.

    `config`, `settings` and `only` are `famlink ingest`'s `--config` (folder of source
    configs), `--settings` (configs/ingest.yaml's rules) and `--only` (the sources to load).
    Plain strings, since Prefect stores a scheduled run's parameters as JSON.
    """
    logger = get_run_logger()
    root = Path(workdir)
    if demo:
        summary = generate_extracts(persons, seed, root / "synthetic", hmis_version)
        extracts_dir = summary.out / "extracts"
    elif extracts is None:
        raise ValueError("no extracts given: pass the extracts folder, or demo=True (--demo) "
                         "for a synthetic population")
    else:
        extracts_dir = Path(extracts)
        if not extracts_dir.is_dir():
            raise FileNotFoundError(f"extracts folder {extracts_dir} does not exist")
    logger.info("extracts ready in %s", extracts_dir)
    with building(root, progress=logger.info) as run:
        logger.info("run %s builds %s", run.run_id, run.db)
        counts = ingest_extracts(run.db, extracts_dir, Path(config) if config else None,
                                 Path(settings) if settings else None, only)
        linked = link_persons(run)
        lists = families_and_marts(run.db)
        accuracy = (evaluate_links(summary.out / "truth", run.db, root / "evaluation.json")
                    if demo else None)
        verdict = gate_and_publish(run, publish_config)
    report = _artifacts(run, verdict, linked, lists)
    result = {"run_id": run.run_id, "extracts": str(extracts_dir), "db": str(run.db),
              "current": str(run.workdir.current_path), "published": verdict.published,
              "failed_gates": [g.to_dict() for g in verdict.failed], "report": report,
              **counts, "link": linked, "lists": lists, "accuracy": accuracy}
    if not verdict.published:
        raise RunHeld(f"run {run.run_id} held: {len(verdict.failed)} gate(s) failed "
                      f"({'; '.join(g.name for g in verdict.failed)}); see {report}, then "
                      f"`famlink publish {run.run_id} --workdir {root} --reason TEXT --by "
                      f"NAME` to publish it", result)
    return result
