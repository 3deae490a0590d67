"""`famlink ingest`: every configured source into raw and staged, with a balance for each file.

For every file, rows read = rows staged + rows rejected, and no row is both; `account` checks it
in DuckDB and refuses to finish a run in which a row went missing.

An agency often sends one system's extract alone (an HMIS export, no CW, CS or TANF), so the
sources whose folders exist are loaded and the others are named in the result: a source the
run did not ask for (`only`) or that may be absent (`optional: true`) is expected to be missing.

What keeps a run from being published is an error, raised (`IngestFailed`, with the summary)
once everything readable is in, so that nothing links a partial warehouse: a source the run
expected that is missing; a file refused as a whole or whose every row is rejected (a CSV
written with another delimiter); a mapped column missing from a file, unless the source's YAML
lists it in `optional_columns`. Errors name the source, file, line, field and reason, never a
record's values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from linkage.ingest import staging
from linkage.ingest.hmis import ingest_hmis
from linkage.ingest.loaded import IngestError, LoadedFile
from linkage.ingest.mapped import ingest_mapped
from linkage.ingest.reading import error_kind
from linkage.ingest.settings import load_ingest_settings
from linkage.ingest.standardizing import mark_shared_addresses, standardize_persons
from linkage.ingest.tanf import ingest_tanf
from linkage.sources import SOURCES_DIR, SourceConfig, load_sources
from linkage.warehouse import bulk_load, literal
from linkage.warehouse import cursor as warehouse_cursor

STAGED_WITH_LINES = ("person_records", "memberships", "groups", "events")
# how a reject begins when a newer delivery of the same data replaced the row (TANF)
SUPERSEDED = "superseded by "


class AccountingError(RuntimeError):
    """Rows were read that are neither staged nor rejected."""


@dataclass
class FileSummary:
    source: str
    file: str
    read: int
    staged: int
    rejected: int
    top_reasons: list[tuple[str, int]]
    warnings: list[str]
    # why the file cannot be published (a mapped column missing, every row rejected): each
    # fails the ingest once every file is in
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedSource:
    """A configured source that this run did not load, and why."""

    name: str
    folder: Path
    reason: str
    # the run expected it (not excluded by `only`, not `optional: true`): its absence is an error
    expected: bool


class IngestSummary(list[FileSummary]):
    """The files loaded (a list of FileSummary, as callers iterate it) and the configured
    sources that were not loaded."""

    def __init__(self, files: list[FileSummary], skipped: list[SkippedSource]) -> None:
        super().__init__(files)
        self.skipped = skipped

    @property
    def missing(self) -> list[SkippedSource]:
        """Sources the run expected but whose folder is not there: the run is incomplete."""
        return [s for s in self.skipped if s.expected]

    def missing_message(self) -> str:
        """Why the run counts as failed although the other sources loaded, and the two ways
        to say that a source may be absent."""
        return ("configured source(s) missing: "
                + "; ".join(f"{s.name} ({s.reason})" for s in self.missing)
                + ". To load the others alone, name them with --only, or set `optional: true` "
                  "in the missing source's YAML.")

    @property
    def errors(self) -> list[str]:
        """Why the run cannot be published: the files' errors, then the missing sources."""
        return [e for f in self for e in f.errors] + (
            [self.missing_message()] if self.missing else [])


class IngestFailed(IngestError):
    """The ingest loaded what it could, but a file or a source keeps the run from being
    published; `summary` holds what was loaded, for the caller to show before the error."""

    def __init__(self, summary: IngestSummary) -> None:
        super().__init__("the ingest cannot be published:\n" + "\n".join(
            f"- {error}" for error in summary.errors))
        self.summary = summary


READERS: dict[str, Callable] = {"csv": ingest_mapped, "parquet": ingest_mapped,
                                "hmis_csv": ingest_hmis, "tanf_section1": ingest_tanf}


def extracts_folder(data: Path) -> Path:
    """`famlink synth --out DIR` puts the extracts in DIR/extracts; accept DIR or that folder."""
    return data / "extracts" if (data / "extracts").is_dir() else data


def account(con: duckdb.DuckDBPyConnection, source: str, loaded: list[LoadedFile],
            source_yaml: Path | None = None) -> list[FileSummary]:
    """Balance every file of a source, line by line: each line read is staged or rejected,
    never both; and name what keeps a file from being published (`_file_errors`;
    `source_yaml`: where a column is marked optional, None when the format itself defines
    the columns)."""
    if not loaded:
        return []
    of_source = f"WHERE source = {literal(source)}"
    raw_lines = " UNION ALL ".join(
        f"SELECT {literal(item.label)} AS file, _line AS line, 1 AS kind FROM {item.raw} "
        f"{item.records}" for item in loaded)
    staged_lines = " UNION ALL ".join(
        f"SELECT source_file, source_line, 2 FROM staged.{t} {of_source}"
        for t in STAGED_WITH_LINES)
    lines = (f"{raw_lines} UNION ALL {staged_lines} UNION ALL SELECT file, line, 3 "
             f"FROM staged.rejects {of_source} AND line IS NOT NULL")
    labels = ", ".join(literal(item.label) for item in loaded)
    first, last, strays, twice = con.execute(f"""
        SELECT least(min(line), 1), coalesce(max(line), 1),
               count(*) FILTER (kind = 2 AND (line IS NULL OR file NOT IN ({labels}))),
               (SELECT count(*) - count(DISTINCT record_id) FROM staged.person_records
                {of_source})
        FROM ({lines})""").fetchall()[0]
    if strays or twice:
        raise AccountingError(f"source {source}: {strays} staged rows come from no line of its "
                              f"files, {twice} person records are staged twice")
    # One bitmap of lines per file and kind (read into raw, staged, rejected): set algebra on
    # bits instead of grouping millions of (file, line) pairs. A line DuckDB could not parse
    # is rejected without reaching raw: read = raw | rejected.
    none = f"bitstring('0', {last - first + 1})"
    rows = con.execute(f"""
        WITH bits AS (
            SELECT file,
                   coalesce(bitstring_agg(line, {first}, {last}) FILTER (kind = 1), {none}) AS w,
                   coalesce(bitstring_agg(line, {first}, {last}) FILTER (kind = 2), {none}) AS s,
                   coalesce(bitstring_agg(line, {first}, {last}) FILTER (kind = 3), {none}) AS r
            FROM ({lines}) GROUP BY file)
        SELECT file, bit_count(w | r), bit_count(s), bit_count(r), bit_count(s & r),
               bit_count(w & ~(s | r)), bit_count(s & ~w)
        FROM bits""").fetchall()
    counts = {row[0]: row[1:] for row in rows}
    reasons: dict[str, list[tuple[str, int]]] = {}
    for file, reason, n in con.execute(f"""
            SELECT file, reason, n FROM (SELECT file, reason, count(*) AS n FROM staged.rejects
                                         {of_source} GROUP BY ALL)
            QUALIFY row_number() OVER (PARTITION BY file ORDER BY n DESC, reason) <= 3
            ORDER BY file, n DESC, reason""").fetchall():
        reasons.setdefault(file, []).append((reason, n))
    file_rejects = dict(con.execute(f"SELECT file, count(*) FROM staged.rejects {of_source} "
                                    f"AND line IS NULL GROUP BY file").fetchall())
    summaries = []
    for item in loaded:
        read, staged, rejected, overlap, lost, stray = counts.get(item.label, (0,) * 6)
        if overlap or lost or stray or read != staged + rejected:
            raise AccountingError(
                f"{item.label}: {read} rows read but {staged} staged + {rejected} rejected "
                f"({lost} in neither, {overlap} in both, {stray} staged from no line read)")
        warnings = list(item.warnings)
        errors = _file_errors(con, item, read, staged, reasons.get(item.label, []),
                              source_yaml)
        if file_rejects.get(item.label):
            warnings.append(f"{item.label}: {file_rejects[item.label]} problem(s) with the file "
                            f"as a whole")
        con.execute("INSERT INTO staged.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
                    [item.source, item.system, item.label, item.info.sha256, item.format,
                     item.version, read, staged, rejected, warnings])
        summaries.append(FileSummary(item.source, item.label, read, staged, rejected,
                                     reasons.get(item.label, []), warnings, errors))
    return summaries


def _file_errors(con: duckdb.DuckDBPyConnection, item: LoadedFile, read: int, staged: int,
                 reasons: list[tuple[str, int]], source_yaml: Path | None) -> list[str]:
    """Why a file keeps the run from being published, worded for the analyst: no row of it
    could be staged (refused as a whole, or every row rejected: `reasons`, the commonest
    reasons first), or a mapped column is not in it. Rows a newer delivery replaced (TANF)
    are not a failure of the file."""
    refused = con.execute("SELECT reason FROM staged.rejects WHERE file = ? AND line IS NULL "
                          "ORDER BY reason LIMIT 1", [item.label]).fetchall()
    if refused:
        return [f"{item.label}: refused as a whole: {refused[0][0]}"]
    failed = read - staged - con.execute(
        f"SELECT count(*) FROM staged.rejects WHERE file = ? AND line IS NOT NULL "
        f"AND starts_with(reason, {literal(SUPERSEDED)})", [item.label]).fetchall()[0][0]
    if read and not staged and failed:
        why = item.problem or f"{item.label}: every row rejected, the most for: {reasons[0][0]}"
        return [f"{why} ({failed:,} of {read:,} rows rejected; see staged.rejects)"]
    columns = staging.columns_of(con, item.valid) if item.expected_columns else set()
    lacking = [c for c in item.expected_columns if c not in columns]
    if not lacking:
        return []
    them = "it" if len(lacking) == 1 else "them"
    fix = (f"If the extract may come without {them}, list {them} in `optional_columns` under "
           f"`tables.{item.table}` in {source_yaml}" if source_yaml else
           "The format's layout defines the columns: the export is incomplete")
    return [f"source {item.source}: {item.label} has no column {', '.join(lacking)}, which "
            f"the mapping reads: each would be staged empty. {fix}."]


def source_folder(root: Path, source: SourceConfig) -> Path:
    """A source's `path` is relative to the extracts folder unless it is absolute."""
    return Path(source.path) if Path(source.path).is_absolute() else root / source.path


def _size(root: Path, source: SourceConfig) -> int:
    """Bytes of a source's files: the biggest sources start first, so that the last one to
    finish is a small one."""
    folder = source_folder(root, source)
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def select_sources(sources: dict[str, SourceConfig], root: Path,
                   only: Collection[str] | None = None,
                   ) -> tuple[dict[str, SourceConfig], list[SkippedSource]]:
    """The sources to read (selected by `only`, default all, and with a folder) and those
    skipped, each with its reason. A name in `only` that no config has is an error, so that a
    typo does not load nothing quietly."""
    if only is not None:
        unknown = sorted(set(only) - set(sources))
        if unknown:
            raise IngestError(f"--only {','.join(unknown)}: no such source (configured: "
                              f"{', '.join(sorted(sources))})")
    chosen: dict[str, SourceConfig] = {}
    skipped: list[SkippedSource] = []
    for name, source in sources.items():
        folder = source_folder(root, source)
        if only is not None and name not in only:
            skipped.append(SkippedSource(name, folder, "not in --only", expected=False))
        elif folder.is_dir():
            chosen[name] = source
        elif source.optional:
            skipped.append(SkippedSource(name, folder, f"no folder {folder} (optional)",
                                         expected=False))
        else:
            skipped.append(SkippedSource(name, folder, f"no folder {folder}", expected=True))
    return chosen, skipped


def ingest(con: duckdb.DuckDBPyConnection, data: Path, config_dir: Path | None = None,
           progress: Callable[[str], None] | None = None,
           settings_path: Path | None = None,
           only: Collection[str] | None = None) -> IngestSummary:
    """Load the sources under `data` (its extracts folder) whose folders exist into raw and
    staged; the others are listed in the result's `skipped` (and `missing`, if expected).

    `config_dir`: the source configs (default configs/sources/); `settings_path`: the rules
    for all sources (default configs/ingest.yaml). Both are validated before anything is read.
    `only`: the names of the sources to load (default: every configured source).
    """
    sources: dict[str, SourceConfig] = load_sources(config_dir)
    settings = load_ingest_settings(settings_path)
    root = extracts_folder(data)
    if not root.is_dir():
        raise IngestError(f"{data}: no such folder")
    chosen, skipped = select_sources(sources, root, only)
    if progress:
        for skip in skipped:
            progress(f"{skip.name}: not loaded, {skip.reason}")
    with bulk_load(con):
        staging.reset(con)
        summaries = _read_sources(con, chosen, root, config_dir or SOURCES_DIR, progress)
        if progress:
            progress("flagging addresses shared by many cases (shelters, offices)")
        mark_shared_addresses(con, settings.shared_address.min_groups)
    summary = IngestSummary(summaries, skipped)
    if summary.errors:
        raise IngestFailed(summary)
    return summary


def _read_sources(con: duckdb.DuckDBPyConnection, sources: dict[str, SourceConfig], root: Path,
                  config_dir: Path, progress: Callable[[str], None] | None,
                  ) -> list[FileSummary]:
    """Read, stage, standardize and balance every source, side by side (`config_dir`: where
    their YAML files are, for the errors to name)."""
    # Each source on its own cursor: its own temp tables and views; DuckDB runs them side by side.
    cursors = {name: warehouse_cursor(con) for name in sources}

    def read(name: str, source: SourceConfig) -> list[FileSummary]:
        """One source, start to end. A DuckDB error becomes an IngestError naming the source
        and the step, without DuckDB's text (it may quote a line of the file: the message
        travels to terminals, logs and Prefect's database) nor the error it came from."""
        cursor = cursors[name]
        step = "reading its files"
        try:
            staging.map_no_persons(cursor)  # the reader replaces them when it stages anyone
            loaded = READERS[source.format](cursor, name, source, source_folder(root, source),
                                            progress)
            step = "standardizing names, SSNs, DOBs and addresses"
            if progress:
                progress(f"{name}: {step}")
            standardize_persons(cursor)
            step = "checking that every file balances"
            if progress:
                progress(f"{name}: {step}")
            mapped = source.format in ("csv", "parquet")  # else the format defines the columns
            summaries = account(cursor, name, loaded,
                                Path(config_dir) / f"{name}.yaml" if mapped else None)
        except duckdb.Error as exc:
            raise IngestError(f"source {name}: failed while {step}: {error_kind(exc)}"
                              ) from None
        if progress:
            progress(f"{name}: done, {sum(s.read for s in summaries):,} rows read")
        return summaries

    # A reader works on one file at a time and DuckDB parses a CSV file mostly on one core, so
    # sources are read side by side, as many at once as DuckDB has threads, largest first.
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(
            max(1, min(threads, len(sources)))) as pool:
        for cursor in cursors.values():
            stack.callback(cursor.close)
        futures = {name: pool.submit(read, name, sources[name])
                   for name in sorted(sources, key=lambda n: -_size(root, sources[n]))}
        try:
            for future in as_completed(futures.values()):
                future.result()
        except BaseException:  # a source failed, or Ctrl-C: stop the others now, not later
            for future in futures.values():
                future.cancel()
            for cursor in cursors.values():
                with contextlib.suppress(duckdb.Error):
                    cursor.interrupt()
            raise
    return [summary for name in sources for summary in futures[name].result()]
