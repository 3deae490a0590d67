"""The `famlink` entry point: the library's commands plus those that run Prefect flows."""

from __future__ import annotations

import os
from pathlib import Path

import click

import flows  # noqa: F401  (sets Prefect's offline defaults before Prefect is imported)
from linkage.cli import ONLY_OPTION, SETTINGS_OPTION, SOURCES_OPTION, cli
from linkage.config import ConfigError


@cli.command()
@click.option("--workdir", default="data/nightly", show_default=True,
              help="Folder the run writes into.")
@click.option("--extracts", default=None,
              help="Folder of real extracts; when absent, synthetic ones are generated.")
@click.option("--persons", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Size of the synthetic population (when no extracts are given).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--hmis-version", type=click.Choice(["2024", "2026"]), default=None)
@SOURCES_OPTION
@SETTINGS_OPTION
@ONLY_OPTION
def nightly(workdir: str, extracts: str | None, persons: int, seed: int,
            hmis_version: str | None, config_dir: Path | None, settings_path: Path | None,
            only: list[str] | None) -> None:
    """Run the nightly flow now, end to end (Prefect, with logs)."""
    from flows.nightly import nightly as nightly_flow
    from linkage.ingest.loaded import IngestError

    try:
        result = nightly_flow(workdir=workdir, extracts=extracts, persons=persons, seed=seed,
                              hmis_version=hmis_version, **_ingest_parameters(
                                  config_dir, settings_path, only))
    except (ConfigError, IngestError) as exc:  # the flow's log has the details
        raise click.ClickException(str(exc)) from None
    from linkage.cli import print_evaluation, print_families_summary, print_link_summary
    from linkage.link.run import LinkSummary

    print_link_summary(LinkSummary(**result["link"]))
    print_families_summary(result["lists"]["families"], result["lists"]["marts"])
    if result["accuracy"]:
        print_evaluation(result["accuracy"])
    not_loaded = (f"; not loaded (as the run said): {', '.join(result['not_loaded'])}"
                  if result["not_loaded"] else "")
    click.echo(f"nightly finished: extracts in {result['extracts']}; warehouse {result['db']} "
               f"({result['read']:,} rows read, {result['rejected']:,} rejected){not_loaded}")


@cli.command()
@click.option("--cron", default="0 2 * * *", show_default=True, help="When to run (cron).")
@click.option("--workdir", default="data/nightly", show_default=True)
@click.option("--extracts", default=None)
@SOURCES_OPTION
@SETTINGS_OPTION
@ONLY_OPTION
def schedule(cron: str, workdir: str, extracts: str | None, config_dir: Path | None,
             settings_path: Path | None, only: list[str] | None) -> None:
    """Serve the nightly flow on a cron (needs `prefect server`)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise click.ClickException(
            "scheduling needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (the ephemeral API schedules nothing)")
    from flows.nightly import nightly as nightly_flow

    nightly_flow.serve(name="nightly", cron=cron,
                       parameters={"workdir": workdir, "extracts": extracts,
                                   **_ingest_parameters(config_dir, settings_path, only)})


def _ingest_parameters(config_dir: Path | None, settings_path: Path | None,
                       only: list[str] | None) -> dict:
    """The flow's ingest parameters from the command line. Paths made absolute: a scheduled
    run starts later, in the server's working folder, not the one the command was typed in."""
    return {"config": str(config_dir.resolve()) if config_dir else None,
            "settings": str(settings_path.resolve()) if settings_path else None,
            "only": only}


def main() -> None:
    cli()
