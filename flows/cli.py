"""The `famlink` entry point: the library's commands plus those that run Prefect flows."""

from __future__ import annotations

import os
from pathlib import Path

import click

import flows  # noqa: F401  (sets Prefect's offline defaults before Prefect is imported)
import webapp.cli  # noqa: F401  (adds `famlink serve`)
from linkage.cli import ONLY_OPTION, SETTINGS_OPTION, SOURCES_OPTION, cli, console
from linkage.config import ConfigError

WORKDIR_OPTION = click.option("--workdir", default="data/nightly", show_default=True,
                              help="Work folder: the run's versions, the current one "
                                   "(WORKDIR/famlink.duckdb), reports.")
EXTRACTS_OPTION = click.option("--extracts", default=None,
                               help="Folder of the agencies' extracts (one folder per source).")
DEMO_OPTION = click.option("--demo", is_flag=True,
                           help="Generate a synthetic population and its extracts instead.")
PUBLISH_OPTION = click.option(
    "--publish-config", "publish_config", type=click.Path(dir_okay=False, path_type=Path),
    default=None, help="Gates and versions kept (default: configs/publish.yaml).")


def _source(extracts: str | None, demo: bool) -> None:
    if demo == (extracts is not None):
        raise click.UsageError("give --extracts DIR (the agencies' files) or --demo (a "
                               "synthetic population), one of them")


@cli.command()
@WORKDIR_OPTION
@EXTRACTS_OPTION
@DEMO_OPTION
@click.option("--persons", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Size of the synthetic population (with --demo).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--hmis-version", type=click.Choice(["2024", "2026"]), default=None)
@SOURCES_OPTION
@SETTINGS_OPTION
@ONLY_OPTION
@PUBLISH_OPTION
def nightly(workdir: str, extracts: str | None, demo: bool, persons: int, seed: int,
            hmis_version: str | None, config_dir: Path | None, settings_path: Path | None,
            only: list[str] | None, publish_config: Path | None) -> None:
    """Run the nightly flow now, end to end (Prefect, with logs): build a new version of the
    work folder and publish it if it passes the gates."""
    from flows.nightly import RunHeld
    from flows.nightly import nightly as nightly_flow
    from linkage.ingest.loaded import IngestError
    from linkage.publish.workdir import RunInProgress
    from linkage.warehouse import OutOfMemory

    _source(extracts, demo)
    try:
        result = nightly_flow(workdir=workdir, extracts=extracts, demo=demo, persons=persons,
                              seed=seed, hmis_version=hmis_version,
                              publish_config=str(publish_config) if publish_config else None,
                              **_ingest_parameters(config_dir, settings_path, only))
    except RunHeld as held:
        _print_result(held.result)
        raise click.ClickException(str(held)) from None
    # the flow's log has the details
    except (ConfigError, IngestError, RunInProgress, OutOfMemory) as exc:
        raise click.ClickException(f"{exc}\nnothing was published") from None
    _print_result(result)


def _print_result(result: dict) -> None:
    from linkage.cli import print_evaluation, print_families_summary, print_link_summary
    from linkage.link.run import LinkSummary

    print_link_summary(LinkSummary(**result["link"]))
    print_families_summary(result["lists"]["families"], result["lists"]["marts"])
    if result["accuracy"]:
        print_evaluation(result["accuracy"])
    for gate in result["failed_gates"]:
        console.print(f"[red]gate failed:[/] {gate['name']}: {gate['detail']}",
                      soft_wrap=True, markup=True, highlight=False)
    not_loaded = (f"; not loaded (as the run said): {', '.join(result['not_loaded'])}"
                  if result["not_loaded"] else "")
    state = "published: current" if result["published"] else "held (not published)"
    click.echo(f"run {result['run_id']} {state}; {result['current']} opens the current "
               f"version; report {result['report']} ({result['read']:,} rows read, "
               f"{result['rejected']:,} rejected){not_loaded}")


@cli.command()
@click.option("--cron", default="0 2 * * *", show_default=True,
              help="When to run (cron, in --timezone).")
@click.option("--timezone", default=None,
              help="IANA time zone of --cron, e.g. America/Chicago (default: this machine's).")
@WORKDIR_OPTION
@EXTRACTS_OPTION
@DEMO_OPTION
@SOURCES_OPTION
@SETTINGS_OPTION
@ONLY_OPTION
@PUBLISH_OPTION
def schedule(cron: str, timezone: str | None, workdir: str, extracts: str | None, demo: bool,
             config_dir: Path | None, settings_path: Path | None, only: list[str] | None,
             publish_config: Path | None) -> None:
    """Serve the nightly flow on a cron (needs `prefect server`), one run at a time."""
    _source(extracts, demo)
    if not os.environ.get("PREFECT_API_URL"):
        raise click.ClickException(
            "scheduling needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (the ephemeral API schedules nothing)")
    from prefect.schedules import Cron

    from flows.nightly import nightly as nightly_flow

    zone = timezone or local_timezone()
    nightly_flow.serve(
        name="nightly", schedule=Cron(cron, timezone=zone), limit=1,
        parameters=schedule_parameters(workdir, extracts, demo, publish_config,
                                       config_dir, settings_path, only))


def local_timezone() -> str:
    """This machine's IANA time zone (what an analyst means by "2 am"), else UTC."""
    zone = os.environ.get("TZ")
    if zone:
        return zone.lstrip(":")
    link = Path("/etc/localtime")
    if link.is_symlink() and "zoneinfo/" in os.readlink(link):
        return os.readlink(link).split("zoneinfo/", 1)[1]
    timezone = Path("/etc/timezone")
    if timezone.is_file() and timezone.read_text().strip():
        return timezone.read_text().strip()
    return "UTC"


def schedule_parameters(workdir: str, extracts: str | None, demo: bool,
                        publish_config: Path | None, config_dir: Path | None,
                        settings_path: Path | None, only: list[str] | None) -> dict:
    """A scheduled run's parameters. Paths made absolute: it starts later, in the server's
    working folder, not the one the command was typed in."""
    return {"workdir": str(Path(workdir).resolve()),
            "extracts": str(Path(extracts).resolve()) if extracts else None, "demo": demo,
            "publish_config": str(publish_config.resolve()) if publish_config else None,
            **_ingest_parameters(config_dir, settings_path, only)}


def _ingest_parameters(config_dir: Path | None, settings_path: Path | None,
                       only: list[str] | None) -> dict:
    return {"config": str(config_dir.resolve()) if config_dir else None,
            "settings": str(settings_path.resolve()) if settings_path else None,
            "only": only}


# Everything famlink writes holds or derives from child-welfare records: private to the user
# who runs it (files 0600, folders 0700), whatever their shell's umask. An agency that wants a
# group to read the reports grants it on purpose.
PRIVATE = 0o077


def main() -> None:
    os.umask(PRIVATE)
    cli()
