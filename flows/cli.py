"""The `famlink` entry point: the library's commands plus those that run Prefect flows."""

from __future__ import annotations

import os

import click

import flows  # noqa: F401  (sets Prefect's offline defaults before Prefect is imported)
from linkage.cli import cli


@cli.command()
@click.option("--workdir", default="data/nightly", show_default=True,
              help="Folder the run writes into.")
@click.option("--extracts", default=None,
              help="Folder of real extracts; when absent, synthetic ones are generated.")
@click.option("--persons", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Size of the synthetic population (when no extracts are given).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--hmis-version", type=click.Choice(["2024", "2026"]), default=None)
def nightly(workdir: str, extracts: str | None, persons: int, seed: int,
            hmis_version: str | None) -> None:
    """Run the nightly flow now, end to end (Prefect, with logs)."""
    from flows.nightly import nightly as nightly_flow

    result = nightly_flow(workdir=workdir, extracts=extracts, persons=persons, seed=seed,
                          hmis_version=hmis_version)
    from linkage.cli import print_evaluation, print_families_summary, print_link_summary
    from linkage.link.run import LinkSummary

    print_link_summary(LinkSummary(**result["link"]))
    print_families_summary(result["lists"]["families"], result["lists"]["marts"])
    if result["accuracy"]:
        print_evaluation(result["accuracy"])
    click.echo(f"nightly finished: extracts in {result['extracts']}; warehouse {result['db']} "
               f"({result['read']:,} rows read, {result['rejected']:,} rejected)")


@cli.command()
@click.option("--cron", default="0 2 * * *", show_default=True, help="When to run (cron).")
@click.option("--workdir", default="data/nightly", show_default=True)
@click.option("--extracts", default=None)
def schedule(cron: str, workdir: str, extracts: str | None) -> None:
    """Serve the nightly flow on a cron (needs `prefect server`)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise click.ClickException(
            "scheduling needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (the ephemeral API schedules nothing)")
    from flows.nightly import nightly as nightly_flow

    nightly_flow.serve(name="nightly", cron=cron,
                       parameters={"workdir": workdir, "extracts": extracts})


def main() -> None:
    cli()
