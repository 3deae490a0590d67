"""The nightly flow: extracts -> ingest -> link -> families and marts -> evaluate (on
synthetic data).

When no extracts are given it first generates the synthetic population and its four extracts,
so the whole flow can run anywhere with nothing but this repository.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from linkage.evaluate import evaluate, evaluate_families, write_report
from linkage.families.build import build_families
from linkage.families.settings import load_marts_config
from linkage.ingest.loaded import IngestError
from linkage.ingest.run import ingest
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.marts.build import build_marts
from linkage.warehouse import connect
from synthetic_data.generate import Summary, synthesize


@task(name="generate synthetic extracts")
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


@task(name="ingest extracts")
def ingest_extracts(extracts: Path, db: Path, config_dir: Path | None = None,
                    settings_path: Path | None = None, only: list[str] | None = None) -> dict:
    """Load the sources whose folders exist; fail, once they are in, if one the run expected
    is missing (the flow then stops before linking an incomplete warehouse)."""
    logger = get_run_logger()
    con = connect(db)
    try:
        summaries = ingest(con, extracts, config_dir, progress=logger.info,
                           settings_path=settings_path, only=only)
    finally:
        con.close()
    for s in summaries:
        logger.info("%s: read %s, staged %s, rejected %s", s.file, f"{s.read:,}",
                    f"{s.staged:,}", f"{s.rejected:,}")
        for warning in s.warnings:
            logger.warning(warning)
    for skip in summaries.skipped:
        (logger.error if skip.expected else logger.info)("%s: not loaded, %s", skip.name,
                                                         skip.reason)
    if summaries.missing:
        raise IngestError(summaries.missing_message())
    return {"files": len(summaries), "read": sum(s.read for s in summaries),
            "rejected": sum(s.rejected for s in summaries),
            "not_loaded": [skip.name for skip in summaries.skipped]}


@task(name="link persons")
def link_persons(db: Path) -> dict:
    """Train or reuse the model, score, cluster into persons, queue uncertain pairs."""
    logger = get_run_logger()
    con = connect(db)
    try:
        summary = link(con, db, load_linkage_config(), progress=logger.info)
    finally:
        con.close()
    logger.info("%s records -> %s persons; %s pairs queued for review; charts in %s",
                f"{summary.records:,}", f"{summary.persons['persons']:,}",
                f"{summary.queued:,}", summary.charts)
    return summary.__dict__


@task(name="families and marts")
def families_and_marts(db: Path) -> dict:
    """Group persons into families, then build the lists program staff act on."""
    logger = get_run_logger()
    config = load_marts_config()
    con = connect(db)
    try:
        families = build_families(con, config)
        marts = build_marts(con, config)
    finally:
        con.close()
    logger.info("%s families (%s joint, %s oversized); marts: %s", f"{families['families']:,}",
                f"{families['joint']:,}", f"{families['oversized']:,}", marts)
    return {"families": families, "marts": marts}


@task(name="evaluate against the truth")
def evaluate_links(truth: Path, db: Path) -> dict:
    """Only for synthetic runs, where the generator's truth exists."""
    logger = get_run_logger()
    con = connect(db)
    try:
        result = evaluate(con, truth)
        result["families"] = evaluate_families(con, truth)
    finally:
        con.close()
    write_report(result, db.parent / "evaluation.json")
    logger.info("cluster F1 %.4f, pairwise F1 %.4f (report in %s)", result["cluster"]["f1"],
                result["pairwise"]["f1"], db.parent / "evaluation.json")
    return result


@flow(name="nightly")
def nightly(workdir: str = "data/nightly", extracts: str | None = None, persons: int = 10_000,
            seed: int = 1, hmis_version: str | None = None, config: str | None = None,
            settings: str | None = None, only: list[str] | None = None) -> dict:
    """Run the nightly pipeline; with no `extracts` folder given, on synthetic data.

    `config`, `settings` and `only` are `famlink ingest`'s `--config` (folder of source
    configs), `--settings` (configs/ingest.yaml's rules) and `--only` (the sources to load):
    a site that sends one system alone, or maps its own layout, schedules the flow with them.
    Plain strings, since Prefect stores a scheduled run's parameters as JSON.
    """
    logger = get_run_logger()
    root = Path(workdir)
    if extracts is None:
        summary = generate_extracts(persons, seed, root / "synthetic", hmis_version)
        extracts_dir = summary.out / "extracts"
    else:
        extracts_dir = Path(extracts)
        if not extracts_dir.is_dir():
            raise FileNotFoundError(f"extracts folder {extracts_dir} does not exist")
    logger.info("extracts ready in %s", extracts_dir)
    db = root / "famlink.duckdb"
    counts = ingest_extracts(extracts_dir, db, Path(config) if config else None,
                             Path(settings) if settings else None, only)
    linked = link_persons(db)
    lists = families_and_marts(db)
    accuracy = None
    if extracts is None:
        accuracy = evaluate_links(summary.out / "truth", db)
    return {"extracts": str(extracts_dir), "db": str(db), **counts, "link": linked,
            "lists": lists, "accuracy": accuracy}
