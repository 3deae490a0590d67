"""`famlink`: the command line of the library. Each capability adds its own subcommand.

Commands that need Prefect (the flows) are added by `flows.cli`, so this module, like the rest
of the library, never imports Prefect.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from linkage.config import ConfigError

console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """famlink: find the families that child welfare, child support, homeless services (HMIS)
    and TANF share."""


@cli.command()
@click.option("--persons", type=click.IntRange(min=1), default=1000, show_default=True,
              help="How many people the population holds.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed: the same seed gives the same files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write extracts/<system>/ and truth/ into.")
@click.option("--hmis-version", type=click.Choice(["2024", "2026"]), default=None,
              help="HMIS CSV layout (default: configs/synthetic.yaml's output.hmis_version).")
@click.option("--tanf-encrypt/--no-tanf-encrypt", default=None,
              help="Encrypt TANF SSNs with the standard digit substitution "
                   "(default: configs/synthetic.yaml's output.tanf_encrypt_ssn).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Generator settings (default: configs/synthetic.yaml).")
def synth(persons: int, seed: int, out: Path, hmis_version: str | None,
          tanf_encrypt: bool | None, config_path: Path | None) -> None:
    """Generate synthetic people, their four extracts and the truth."""
    from synthetic_data.generate import synthesize

    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("persons", total=persons)
            summary = synthesize(persons, seed, out, hmis_version, config_path,
                                 progress=lambda done: bar.advance(task, done),
                                 tanf_encrypt=tanf_encrypt)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]Wrote {summary.persons:,} persons in {summary.families:,} families "
                  f"to {summary.out} in {summary.seconds:.1f} s "
                  f"({summary.persons / max(summary.seconds, 1e-9):,.0f} persons/s)")
    for name, rows in summary.files.items():
        console.print(f"  {name}: {rows:,} rows")


@cli.command()
@click.option("--data", type=click.Path(file_okay=False, exists=True, path_type=Path),
              required=True, help="Folder of the extracts (what `famlink synth --out` wrote).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="DuckDB warehouse file to load into (created if missing).")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder of source configs (default: configs/sources/).")
def ingest(data: Path, db: Path, config_dir: Path | None) -> None:
    """Load the extracts into DuckDB: raw, staged, rejects with reasons."""
    from linkage.ingest.loaded import IngestError
    from linkage.ingest.run import AccountingError
    from linkage.ingest.run import ingest as run_ingest
    from linkage.warehouse import WarehouseBusy, connect

    try:
        con = connect(db)
        with console.status("ingesting") as status:
            summaries = run_ingest(con, data, config_dir, progress=status.update)
    except (ConfigError, IngestError, AccountingError, WarehouseBusy) as exc:
        raise click.ClickException(str(exc)) from None
    table = Table(title=f"ingested into {db}")
    for column in ("source", "file", "read", "staged", "rejected", "top reject reasons"):
        table.add_column(column, justify="right" if column in ("read", "staged", "rejected")
                         else "left")
    for s in summaries:
        reasons = "; ".join(f"{n} x {r}" for r, n in s.top_reasons)
        table.add_row(s.source, Path(s.file).name, f"{s.read:,}", f"{s.staged:,}",
                      f"{s.rejected:,}", reasons)
    console.print(table)
    for s in summaries:
        for warning in s.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
    persons = con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
    console.print(f"[green]{persons:,} person records staged; every file balances "
                  f"(read = staged + rejected).")
