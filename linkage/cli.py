"""`famlink`: the command line of the library. Each capability adds its own subcommand.

Commands that need Prefect (the flows) are added by `flows.cli`, so this module, like the rest
of the library, never imports Prefect.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape
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

if TYPE_CHECKING:  # the commands import the library when run, so that --help stays quick
    from linkage.ingest.run import SkippedSource

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


def split_names(_ctx: click.Context, _param: click.Parameter,
                value: str | None) -> list[str] | None:
    """`--only hmis,tanf` as a list of source names (None: every configured source)."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one source, e.g. --only hmis,tanf")
    return names


# The options `ingest`, `nightly` and `schedule` share: which sources, configured how.
SOURCES_OPTION = click.option(
    "--config", "config_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of source configs (default: configs/sources/).")
SETTINGS_OPTION = click.option(
    "--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path),
    default=None, help="Rules for all sources (default: configs/ingest.yaml).")
ONLY_OPTION = click.option(
    "--only", callback=split_names, default=None, metavar="NAME[,NAME...]",
    help="Load only these sources (names of their configs, e.g. hmis,tanf); the others are "
         "not expected.")


def print_skipped(skipped: list[SkippedSource]) -> None:
    """Name every configured source that was not loaded: red if the run expected it."""
    for skip in skipped:
        colour = "red" if skip.expected else "yellow"
        # unwrapped, markup escaped: the folder is a path to copy, and may hold brackets
        console.print(f"[{colour}]not loaded:[/] {escape(f'{skip.name}: {skip.reason}')}",
                      soft_wrap=True)


@cli.command()
@click.option("--data", type=click.Path(file_okay=False, exists=True, path_type=Path),
              required=True, help="Folder of the extracts (what `famlink synth --out` wrote).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="DuckDB warehouse file to load into (created if missing).")
@SOURCES_OPTION
@SETTINGS_OPTION
@ONLY_OPTION
def ingest(data: Path, db: Path, config_dir: Path | None, settings_path: Path | None,
           only: list[str] | None) -> None:
    """Load the extracts into DuckDB: raw, staged, rejects with reasons."""
    from linkage.ingest.loaded import IngestError
    from linkage.ingest.run import AccountingError, IngestFailed
    from linkage.pipeline import ingest_step
    from linkage.warehouse import OutOfMemory, WarehouseBusy

    try:
        with console.status("ingesting") as status:
            # sources are read side by side: one line for each, with its latest step
            steps: dict[str, str] = {}

            def show(message: str) -> None:
                source, separator, _ = message.partition(": ")
                steps[source if separator else ""] = message
                status.update("\n".join(steps.values()))

            summaries = ingest_step(db, data, config_dir, settings_path, only, progress=show)
    except IngestFailed as exc:  # what was loaded, then why it cannot be published
        _print_ingest(db, exc.summary)
        raise click.ClickException(str(exc)) from None
    except (ConfigError, IngestError, AccountingError, WarehouseBusy, OutOfMemory) as exc:
        raise click.ClickException(str(exc)) from None
    persons = _print_ingest(db, summaries)
    console.print(f"[green]{persons:,} person records staged; every file balances "
                  f"(read = staged + rejected).")


def _print_ingest(db: Path, summaries) -> int:  # noqa: ANN001 - an IngestSummary
    """The ingest's table of files, its warnings, the sources not loaded and the values lost
    in mapping: shown whether or not the run can be published. Returns the records staged."""
    from linkage.ingest.quality import quality_table
    from linkage.warehouse import connect

    table = Table(title=f"ingested into {db}")
    for column in ("source", "file", "read", "staged", "rejected", "top reject reasons"):
        table.add_column(column, justify="right" if column in ("read", "staged", "rejected")
                         else "left")
    for s in summaries:
        reasons = "; ".join(f"{n} x {r}" for r, n in s.top_reasons)
        table.add_row(s.source, Path(s.file).name, f"{s.read:,}", f"{s.staged:,}",
                      f"{s.rejected:,}", escape(reasons))
    console.print(table)
    for s in summaries:
        for warning in s.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")
    print_skipped(summaries.skipped)
    con = connect(db, read_only=True)
    try:
        if (lost := quality_table(con)) is not None:  # staged.quality's top entries
            console.print(lost)
        return con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
    finally:
        con.close()


def _warehouse(db: Path, read_only: bool = False):  # noqa: ANN202 - a DuckDB connection
    """The warehouse a command works on; commands that only read open it read-only, so that
    they neither wait for a run nor hold one up."""
    from linkage.warehouse import WarehouseBusy, connect

    _exists(db)
    try:
        con = connect(db, read_only=read_only)
    except WarehouseBusy as exc:
        raise click.ClickException(str(exc)) from None
    # closed when the command ends, however it ends: a command run in-process (a test, a
    # notebook) must not keep the file open behind it
    click.get_current_context().call_on_close(con.close)
    return con


def _exists(db: Path) -> None:
    if not db.exists():
        raise click.ClickException(f"{db}: no such warehouse (run `famlink ingest` first)")


def _reader(db: Path):  # noqa: ANN202 - a DuckDB connection
    return _warehouse(db, read_only=True)


def _linkage_config(path: Path | None):  # noqa: ANN202 - a LinkageConfig
    from linkage.link.settings import load_linkage_config

    try:
        return load_linkage_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


DB_OPTION = click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                         required=True, help="DuckDB warehouse file.")
LINK_CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Linkage config (default: configs/linkage.yaml).")


def print_link_summary(summary) -> None:  # noqa: ANN001 - a LinkSummary
    table = Table(title=f"link run {summary.run_id}")
    table.add_column("step")
    table.add_column("result", justify="right")
    table.add_row("person records", f"{summary.records:,}")
    for rule, n in summary.candidates.items():
        table.add_row(f"candidate pairs: {rule}", f"{n:,}")
    if summary.too_few_pairs is not None:
        table.add_row("model", f"not trained: {summary.too_few_pairs:,} candidate pairs, fewer "
                      f"than training.min_candidate_pairs; nothing links, every candidate "
                      f"pair is queued for review")
    else:
        table.add_row("model", "reused (saved)" if summary.model_reused else
                      f"trained (EM iterations {', '.join(map(str, summary.em_iterations))})")
    for level, closer in summary.pooled_levels.items():
        table.add_row(f"weighed out of order: {level}", f"pooled with {closer}")
    for key, n in summary.clustering.items():
        table.add_row(key.replace("_", " "), f"{n:,}")
    for key, n in summary.persons.items():
        table.add_row(f"person ids: {key.replace('_', ' ')}", f"{n:,}")
    table.add_row("reviewer decisions applied", f"{summary.decisions:,}")
    table.add_row("pairs queued for review", f"{summary.queued:,}")
    table.add_row("seconds", f"{sum(summary.seconds.values()):.1f}")
    console.print(table)
    console.print(f"charts: {summary.charts}")


@cli.command()
@DB_OPTION
@LINK_CONFIG_OPTION
@click.option("--retrain", is_flag=True, help="Train the model again even if a saved one fits.")
def link(db: Path, config_path: Path | None, retrain: bool) -> None:
    """Link person records into persons: train or reuse the model, score, cluster, queue."""
    from linkage.pipeline import link_step
    from linkage.warehouse import OutOfMemory, WarehouseBusy

    _exists(db)
    try:
        with console.status("linking") as status:
            summary = link_step(db, config_path, retrain, progress=status.update)
    except (ConfigError, WarehouseBusy, OutOfMemory) as exc:
        raise click.ClickException(str(exc)) from None
    print_link_summary(summary)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else f"{value:,}"


def print_evaluation(result: dict) -> None:
    table = Table(title="accuracy against the truth")
    for column in ("measure", "precision", "recall", "F1", "pairs"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name in ("pairwise", "cluster"):
        r = result[name]
        table.add_row(name, _fmt(r["precision"]), _fmt(r["recall"]), _fmt(r["f1"]),
                      _fmt(r.get("true_pairs", r.get("true_persons"))))
    for name, r in result["system_pairs"].items():
        table.add_row(f"systems {name}", _fmt(r["precision"]), _fmt(r["recall"]),
                      _fmt(r["f1"]), _fmt(r["true_pairs"]))
    for name, r in result["hard_cases"].items():
        merged = (f" (different people merged: {_fmt(r['merged_rate'])})"
                  if "merged_rate" in r else "")
        table.add_row(f"hard case {name}{merged}", "", _fmt(r.get("recall")), "",
                      _fmt(r.get("true_pairs")))
    for name, r in result["name_origin"].items():
        table.add_row(f"name origin {name}", "", _fmt(r["recall"]), "", _fmt(r["true_pairs"]))
    for name, r in _list_scores(result.get("families", {})):
        table.add_row(f"list {name}", _fmt(r["precision"]), _fmt(r["recall"]),
                      _fmt(r["f1"]), _fmt(r["true"]))
    console.print(table)
    console.print(f"recall gap between name-origin groups: "
                  f"{_fmt(result['name_origin_recall_gap'])}")
    if "families" in result:
        sizes = result["families"]["family_sizes"]
        console.print(f"largest family {sizes['largest_family']} persons (largest true family "
                      f"{sizes['largest_true_family']}); larger than any true family: "
                      f"{sizes['families_larger_than_any_true_one']} (of which "
                      f"{sizes['of_which_hold_a_wrongly_merged_person']} hold a wrongly "
                      f"merged person)")


def _list_scores(scores: dict, prefix: str = "") -> list[tuple[str, dict]]:
    """Each list's (or each kind's: alerts, referrals) score, flattened: ("alerts
    family_in_shelter", {...}); the family sizes and skipped kinds are not scores."""
    found = []
    for name, r in scores.items():
        if not isinstance(r, dict) or name == "family_sizes":
            continue
        if "precision" in r:
            found.append((f"{prefix}{name}", r))
        else:
            found += _list_scores(r, f"{prefix}{name} ")
    return found


def _ci(value: float | None, interval: list[float] | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" + (f" [{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "")


def print_label_evaluation(result: dict) -> None:
    """The estimate from reviewers' labels: the headline with its intervals, then each
    stratum (what was labelled there and on what the estimate rests), then the caveats."""
    labels, pair = result["labels"], result["pairwise"]
    table = Table(title="accuracy estimated from reviewers' labels (pairwise, 95% intervals)")
    for column in ("measure", "estimate [95% interval]"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row("precision", _ci(pair["precision"], pair["precision_ci"]))
    table.add_row("recall", _ci(pair["recall"], pair["recall_ci"]))
    table.add_row("F1", _ci(pair["f1"], pair["f1_ci"]))
    table.add_row("linked pairs", _fmt(pair["pairs"]))
    table.add_row("est. true matches linked", f"{pair['est_true_matches']:,.1f}")
    table.add_row("est. true matches missed", f"{pair['est_true_matches_missed']:,.1f}")
    console.print(table)
    strata = Table(title="by stratum of match probability")
    for column in ("stratum", "pairs", "labelled", "share matching [95%]", "basis",
                   "est. matches [95%]"):
        strata.add_column(column, justify="left" if column in ("stratum", "basis") else "right")
    for s in result["strata"]:
        basis = "[yellow]model-based[/]" if s["basis"] == "model" else s["basis"]
        low, high = s["est_matches_ci"] or (s["est_matches"], s["est_matches"])
        matches = f"{s['est_matches']:,.1f}" + (f" [{low:,.0f}, {high:,.0f}]" if high > low
                                                 else "")
        strata.add_row(s["name"], _fmt(s["pairs"]), _fmt(s["labelled"]),
                       _ci(s["share"], s["share_ci"]), basis, matches)
    console.print(strata)
    c = result["confusion"]
    console.print(f"labelled pairs, linked vs reviewer: TP {c['tp']:,}  FP {c['fp']:,}  "
                  f"FN {c['fn']:,}  TN {c['tn']:,}")
    by_threshold = Table(title="if pairs were linked at a threshold (scored pairs, no "
                               "clustering)")
    for column in ("threshold", "TP", "FP", "FN", "TN", "est. precision", "est. recall"):
        by_threshold.add_column(column, justify="right")
    for t in result["thresholds"]:
        lab, est = t["labelled"], t["estimated"]
        by_threshold.add_row(f"{t['threshold']:g}", _fmt(lab["tp"]), _fmt(lab["fp"]),
                             _fmt(lab["fn"]), _fmt(lab["tn"]),
                             _ci(est["precision"], est["precision_ci"]),
                             _ci(est["recall"], est["recall_ci"]))
    console.print(by_threshold)
    console.print(f"labels: {labels['labels']:,} from {labels['source']} "
                  f"({labels['match']:,} match, {labels['no_match']:,} no match); not labels: "
                  f"{labels['unsure']:,} unsure"
                  + (f", {labels['blank']:,} blank" if "blank" in labels else "")
                  + f"; naming records not in the warehouse: "
                  f"{labels['naming_records_not_in_warehouse']:,}; on pairs never proposed: "
                  f"{labels['on_pairs_never_proposed']:,} "
                  f"({labels['never_proposed_but_match']:,} of them matches)")
    for assumption in result["assumptions"]:
        console.print(f"[yellow]assumes:[/] {assumption}")
    if "widest_stratum" in pair:
        console.print(f"most of the uncertainty is in stratum {pair['widest_stratum']}: label "
                      f"more of its pairs (`famlink review sample`) to narrow the intervals")


@cli.command()
@click.option("--truth", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="The truth folder `famlink synth` wrote (DIR/truth).")
@click.option("--labels", "labels", is_flag=False, flag_value="", default=None,
              metavar="[FILE]",
              help="Estimate from reviewers' labels instead: the warehouse's decisions file "
                   "(no FILE), or a CSV of record_id_l, record_id_r, decision.")
@DB_OPTION
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON report (with --truth, default: evaluation.json beside the "
                   "warehouse).")
def evaluate(truth: Path | None, labels: str | None, db: Path, out: Path | None) -> None:
    """Measure the linked persons against the generator's truth (--truth), or estimate
    precision and recall from reviewers' decisions (--labels)."""
    from linkage.evaluate import write_report

    if (truth is None) == (labels is None):
        raise click.UsageError("give one of --truth DIR or --labels [FILE]")
    if labels is not None:
        from linkage.evaluate_labels import LabelsError, evaluate_labels

        con = _reader(db)
        try:
            result = evaluate_labels(con, _linkage_config(None), db,
                                     Path(labels) if labels else None)
        except LabelsError as exc:
            raise click.ClickException(str(exc)) from None
        print_label_evaluation(result)
        if out:
            write_report(result, out)
            console.print(f"written to {out}")
        return
    from linkage.evaluate import evaluate as run_evaluate
    from linkage.evaluate import evaluate_families
    from linkage.warehouse import table_exists

    con = _reader(db)
    try:
        result = run_evaluate(con, truth)
        if table_exists(con, "marts"):
            result["families"] = evaluate_families(con, truth)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    out = out or db.resolve().parent / "evaluation.json"
    write_report(result, out)
    print_evaluation(result)
    console.print(f"written to {out}")


@cli.group()
def review() -> None:
    """Work the review queue from the command line."""


@review.command("queue")
@DB_OPTION
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
def review_queue(db: Path, limit: int) -> None:
    """Show the next pairs to review in plain words, as the web page does: both records side
    by side (SSNs as their last four digits), what agrees and what differs, the evidence and
    the household links behind the score, and earlier decisions on each pair."""
    from linkage.link.run import load_model
    from linkage.review import wording
    from linkage.review.decisions import decisions_path, history
    from linkage.review.pairs import command_line_access, pair_view, queue_entries
    from linkage.review.queue import settled_pairs

    con = _reader(db)
    config = _linkage_config(None)
    store = decisions_path(db, config.review.decisions_file)
    access = command_line_access()
    entries, total = queue_entries(con, access, settled_pairs(store), limit)
    if not entries:
        console.print("[green]the review queue is empty")
        return
    model = load_model(con)[-1]
    earlier = history(store, [(e.record_id_l, e.record_id_r) for e in entries])
    for entry in entries:
        view = pair_view(con, config, model, access, entry)
        if view is None:
            continue
        systems = [wording.SYSTEMS.get(r["system"], r["system"]) for r in (view.left,
                                                                            view.right)]
        console.print(f"\n[bold]pair {entry.pair_id}[/]: {entry.words} "
                      f"({entry.probability:.0%}), number {entry.position} in the queue"
                      f"{', open child-welfare case' if entry.urgent else ''}\n"
                      f"  {systems[0]} {escape(entry.record_id_l)} and "
                      f"{systems[1]} {escape(entry.record_id_r)}")
        table = Table()
        table.add_column("")
        for system in systems:
            table.add_column(system)
        table.add_column("", no_wrap=True)
        for row in view.rows:
            table.add_row(row.label, escape(row.left), escape(row.right),
                          wording.VERDICTS[row.verdict])
        console.print(table)
        for evidence in view.evidence:
            console.print(f"  - {escape(evidence.sentence)}")
        for link in view.household:
            console.print(f"    household: {escape(link)}")
        for said in earlier.get((entry.record_id_l, entry.record_id_r), []):
            console.print(f"  earlier: {wording.DECISION_WORDS[said.decision]} by "
                          f"{escape(said.reviewer)} at {said.at}"
                          + (f": {escape(said.note)}" if said.note else ""))
    console.print(f"{len(entries)} of {total:,} pairs in the queue. Decide with: famlink "
                  f"review decide PAIR_ID --match|--no-match|--unsure --by NAME --db ...")


@review.command("decide")
@click.argument("pair_id")
@DB_OPTION
@click.option("--match/--no-match", "is_match", default=None,
              help="Your decision: the two records are (not) the same person.")
@click.option("--unsure", is_flag=True, help="Record that you could not decide.")
@click.option("--by", "reviewer", required=True, help="Your name, kept with the decision.")
@click.option("--note", default="", help="Why (kept with the decision).")
def review_decide(pair_id: str, db: Path, is_match: bool | None, unsure: bool, reviewer: str,
                  note: str) -> None:
    """Decide a queued pair (PAIR_ID from `famlink review queue`, or RECORD_A,RECORD_B). The
    warehouse is only read (to check that both records exist): recording never waits for a
    run, nor holds one up."""
    from linkage.review.decisions import (
        Decision,
        DecisionError,
        decisions_path,
        record,
        require_records,
    )
    from linkage.review.pairs import resolve_pair

    if unsure == (is_match is not None):
        raise click.UsageError("give exactly one of --match, --no-match, --unsure")
    config = _linkage_config(None)
    con = _reader(db)
    try:
        left, right = resolve_pair(con, pair_id)
        require_records(con, (left, right))
        kept = record(decisions_path(db, config.review.decisions_file), Decision(
            left, right, "unsure" if unsure else "match" if is_match else "no_match",
            reviewer, note))
    except (LookupError, DecisionError) as exc:
        raise click.ClickException(str(exc)) from None
    then = ("the pair stays in the queue with your note" if kept.decision == "unsure"
            else "the next `famlink link` applies it")
    console.print(f"[green]recorded:[/] {kept.record_id_l} / {kept.record_id_r}: "
                  f"{kept.decision} by {escape(kept.reviewer)}; {then}")


@review.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@DB_OPTION
def review_import(csv_file: Path, db: Path) -> None:
    """Record the decisions of a spreadsheet (columns record_id_l, record_id_r, decision,
    reviewer, note): all of them or, if a row is wrong or names a record the warehouse does
    not hold, none."""
    from linkage.review.decisions import DecisionError, decisions_path, import_csv

    config = _linkage_config(None)
    con = _reader(db)
    try:
        kept = import_csv(decisions_path(db, config.review.decisions_file), csv_file, con)
    except DecisionError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]recorded {len(kept):,} decisions from {csv_file}")


@review.command("decisions")
@DB_OPTION
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write (default: standard output).")
@click.option("--latest", is_flag=True,
              help="Only the latest decision on each pair (the one the next run applies).")
def review_decisions(db: Path, out: Path | None, latest: bool) -> None:
    """List the recorded decisions as CSV, in the order they were recorded: who, when, which
    pair, what, and why."""
    from linkage.review.decisions import DecisionError, decisions_path, write_csv

    config = _linkage_config(None)
    try:
        if out is None:
            written = write_csv(decisions_path(db, config.review.decisions_file), sys.stdout,
                                latest)
        else:
            with open(out, "w", newline="", encoding="utf-8") as fh:
                written = write_csv(decisions_path(db, config.review.decisions_file), fh,
                                    latest)
    except DecisionError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"{written:,} decisions" + (f" written to {out}" if out else ""))


@review.command("sample")
@DB_OPTION
@click.option("--per-band", type=click.IntRange(min=1), required=True,
              help="Pairs to draw from each stratum (band of match probability, linked or not).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="The same seed draws the same pairs.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV to write (default: review_sample.csv in the current folder).")
def review_sample(db: Path, per_band: int, seed: int, out: Path | None) -> None:
    """Draw a stratified random sample of scored pairs to label, so that `famlink evaluate
    --labels` rests on a random sample, not only on the queue."""
    from linkage.evaluate_labels import LabelsError, sample_for_review, write_sample

    out = out or Path("review_sample.csv")
    con = _reader(db)
    try:
        rows = sample_for_review(con, _linkage_config(None), db, per_band, seed)
    except LabelsError as exc:
        raise click.ClickException(str(exc)) from None
    write_sample(rows, out)
    strata: dict[str, int] = {}
    for row in rows:
        strata[row["stratum"]] = strata.get(row["stratum"], 0) + 1
    for name, n in strata.items():
        console.print(f"  {name}: {n:,} pairs")
    console.print(f"[green]wrote {len(rows):,} pairs to {out}[/]: fill in decision (match, "
                  f"no_match or unsure) and reviewer, then `famlink review import {out} "
                  f"--db {db}`")


@review.command("explain")
@click.argument("pair_id")
@DB_OPTION
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the waterfall chart as an HTML page.")
def review_explain(pair_id: str, db: Path, chart: Path | None) -> None:
    """Explain a pair's score: the match weight of each comparison."""
    from linkage.link.explain import explain, waterfall_spec, write_charts
    from linkage.link.run import load_model
    from linkage.review.pairs import resolve_pair

    con = _reader(db)
    try:
        left, right = resolve_pair(con, pair_id)
        result = explain(con, _linkage_config(None), load_model(con)[-1], left, right)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    for step in result.steps:
        console.print(f"{step.weight:+7.2f}  {step.comparison}: {step.level}  {step.detail}")
    console.print(f"match weight {result.match_weight:.2f}, probability "
                  f"{result.match_probability:.4f}"
                  + ("; never merged: present in one case or household at the same time"
                     if result.apart else ""))
    if chart:
        write_charts(chart, f"{left} vs {right}", [waterfall_spec(result)])
        console.print(f"chart: {chart}")


def print_families_summary(families: dict, marts: dict) -> None:
    table = Table(title="families and the lists")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in ("families", "joint", "oversized", "largest", "hubs"):
        if key in families:
            table.add_row(f"families: {key}", f"{families[key]:,}")
    for name, n in marts.items():
        table.add_row(f"marts.{name}", f"{n:,}")
    console.print(table)


@cli.command()
@DB_OPTION
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Family and mart rules (default: configs/marts.yaml).")
@click.option("--linkage-config", "linkage_config",
              type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Engine and memory (its `engine` and `resources`; default: "
                   "configs/linkage.yaml).")
def families(db: Path, config_path: Path | None, linkage_config: Path | None) -> None:
    """Group linked persons into families and build the lists staff act on."""
    from linkage.pipeline import NotReady, families_step
    from linkage.warehouse import OutOfMemory, WarehouseBusy

    _exists(db)
    try:
        with console.status("building families and marts") as status:
            summary = families_step(db, config_path, progress=status.update,
                                    linkage_config=linkage_config)
    except (ConfigError, NotReady, WarehouseBusy, OutOfMemory) as exc:
        raise click.ClickException(str(exc)) from None
    print_families_summary(summary.families, summary.marts)


@cli.command()
@click.argument("name")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "parquet", "json"]),
              default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write, ending in the format's extension (default: NAME.<format> "
                   "in the current folder).")
def report(name: str, db: Path, fmt: str, out: Path | None) -> None:
    """Export a list (joint_families, absent_parent_leads, supportive_housing_eligible,
    support_in_error, ...) with the rows this run resolved, or families / family_members /
    relationships / review_queue; `all --format xlsx` writes every list as a sheet. Files
    are readable by their owner only."""
    from linkage.marts.export import ReportError, export

    out = out or Path(f"{name}.{fmt}")
    try:
        rows = export(_reader(db), name, fmt, out)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]wrote {rows:,} rows of {name} to {out}")


RUNS_WORKDIR_OPTION = click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/nightly"),
    show_default=True, help="Work folder of the runs (what `famlink nightly --workdir` built).")


@cli.command()
@RUNS_WORKDIR_OPTION
def runs(workdir: Path) -> None:
    """List the work folder's runs, newest first: status, gates, whether kept on disk."""
    from linkage.publish.workdir import Workdir

    folder = Workdir(workdir)
    records = folder.registry.runs()
    if not records:
        raise click.ClickException(f"{workdir}: no runs yet (run `famlink nightly`)")
    current = folder.current_run()
    table = Table(title=f"runs of {workdir} (current: {current or 'none'})")
    for column in ("run", "status", "started", "finished"):
        table.add_column(column, no_wrap=True)
    for run in records:
        table.add_row(run.run_id, "current" if run.run_id == current else run.status,
                      run.started_at, run.finished_at or "")
    console.print(table)
    # what a reader needs to act on, unwrapped: each held run's failed gates, each failed
    # run's error, each hand-published run's reason
    for run in records:
        for gate in run.failed_gates if run.status == "held" else []:
            console.print(f"{run.run_id} held: {gate['name']}: {gate['detail']}",
                          soft_wrap=True, markup=False, highlight=False)
        if run.error:
            console.print(f"{run.run_id} {run.status}: {run.error}", soft_wrap=True,
                          markup=False, highlight=False)
        if run.published_by:
            console.print(f"{run.run_id} published by {run.published_by}: {run.reason}",
                          soft_wrap=True, markup=False, highlight=False)


@cli.command()
@click.argument("run_id")
@RUNS_WORKDIR_OPTION
@click.option("--reason", required=True, help="Why the held run may be published anyway.")
@click.option("--by", "by", required=True, help="Your name, kept with the run.")
@click.option("--publish-config", "publish_config",
              type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Versions kept (default: configs/publish.yaml).")
def publish(run_id: str, workdir: Path, reason: str, by: str,
            publish_config: Path | None) -> None:
    """Publish a held run (one whose gates failed) after looking at it."""
    from linkage.publish.settings import load_publish_config
    from linkage.publish.workdir import PublishError, RunInProgress, Workdir

    try:
        config = load_publish_config(publish_config)
        folder = Workdir(workdir)
        with folder.exclusive():
            removed = folder.accept(run_id, config.keep_versions, by, reason)
    except (ConfigError, PublishError, RunInProgress) as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]published {run_id}[/]: {folder.current_path} opens it now"
                  + (f"; removed old versions {', '.join(removed)}" if removed else ""))


@cli.group()
def users() -> None:
    """The web app's users (`famlink serve`)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "liaison", "program_staff", "analyst"]),
              required=True)
@click.option("--agency", "agencies", callback=split_names, required=True,
              metavar="AGENCY[,AGENCY...]", help="cw, cs, hmis, tanf (one or more).")
@DB_OPTION
@click.option("--access", "access_config", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Access rules (default: configs/access.yaml).")
def users_add(username: str, role: str, agencies: list[str], db: Path,
              access_config: Path | None) -> None:
    """Add a user (or replace one of that name). The password is read from standard input
    (typed, twice, at a terminal; the first line of a pipe), never from the command line."""
    from linkage.access.settings import load_access_config, stores
    from linkage.access.users import UserError, Users

    if sys.stdin.isatty():
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        store = Users(stores(db)[0], load_access_config(access_config))
        user = store.add(username, role, agencies, password)
    except (ConfigError, UserError) as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]user {user.username}[/]: {user.role} of "
                  f"{', '.join(user.agencies)}, in {store.path}")


@cli.command()
@DB_OPTION
@click.option("--since", default=None, metavar="DATE",
              help="Entries from this date (YYYY-MM-DD) or time on (default: all).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write (default: standard output).")
def audit(db: Path, since: str | None, out: Path | None) -> None:
    """The web app's audit trail as CSV: every view, download, decision and login."""
    from linkage.access.audit import Audit
    from linkage.access.settings import stores

    trail = Audit(stores(db)[1])
    if out is None:
        trail.write_csv(sys.stdout, since)
        return
    with open(out, "w", newline="", encoding="utf-8") as fh:
        rows = trail.write_csv(fh, since)
    out.chmod(0o600)
    console.print(f"[green]wrote {rows:,} audit entries to {out}")
