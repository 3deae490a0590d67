"""`famlink ingest`: every configured source into raw and staged, with a balance for each file.

For every file, rows read = rows staged + rows rejected, and no row is both; `account` checks it
in DuckDB and refuses to finish a run in which a row went missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from linkage.ingest import staging
from linkage.ingest.loaded import IngestError, LoadedFile
from linkage.ingest.mapped import ingest_mapped
from linkage.ingest.standardizing import build_person_records
from linkage.sources import SourceConfig, load_sources
from linkage.warehouse import literal

STAGED_WITH_LINES = ("person_records", "memberships", "groups", "events")


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


def _readers() -> dict[str, Callable]:
    from linkage.ingest.hmis import ingest_hmis
    from linkage.ingest.tanf import ingest_tanf

    return {"csv": ingest_mapped, "parquet": ingest_mapped, "hmis_csv": ingest_hmis,
            "tanf_section1": ingest_tanf}


def extracts_folder(data: Path) -> Path:
    """`famlink synth --out DIR` puts the extracts in DIR/extracts; accept DIR or that folder."""
    return data / "extracts" if (data / "extracts").is_dir() else data


def account(con: duckdb.DuckDBPyConnection, loaded: LoadedFile) -> FileSummary:
    """Balance one file: rows read, staged and rejected, checked line by line."""
    label = literal(loaded.label)
    staged_lines = " UNION ".join(
        f"SELECT source_line AS line FROM staged.{t} WHERE source_file = {label}"
        for t in STAGED_WITH_LINES)
    # A line DuckDB could not parse is rejected without reaching raw: read = raw + those.
    read, staged, rejected_lines, file_rejects, overlap, lost = con.execute(f"""
        WITH staged_lines AS ({staged_lines}),
        rejected AS (SELECT DISTINCT line FROM staged.rejects
                     WHERE file = {label} AND line IS NOT NULL),
        raw_lines AS (SELECT _line AS line FROM {loaded.raw} {loaded_filter(loaded)})
        SELECT (SELECT count(*) FROM (SELECT line FROM raw_lines UNION SELECT line FROM rejected)),
               (SELECT count(*) FROM staged_lines),
               (SELECT count(*) FROM rejected),
               (SELECT count(*) FROM staged.rejects WHERE file = {label} AND line IS NULL),
               (SELECT count(*) FROM staged_lines JOIN rejected USING (line)),
               (SELECT count(*) FROM raw_lines WHERE line NOT IN (SELECT line FROM staged_lines)
                  AND line NOT IN (SELECT line FROM rejected))
    """).fetchall()[0]
    if overlap or lost or read != staged + rejected_lines:
        raise AccountingError(
            f"{loaded.label}: {read} rows read but {staged} staged + {rejected_lines} rejected "
            f"({lost} in neither, {overlap} in both)")
    reasons = con.execute(f"""
        SELECT reason, count(*) FROM staged.rejects WHERE file = {label}
        GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 3""").fetchall()
    warnings = list(loaded.warnings)
    if file_rejects:
        warnings.append(f"{loaded.label}: {file_rejects} problem(s) with the file as a whole")
    con.execute("INSERT INTO staged.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
                [loaded.source, loaded.system, loaded.label, loaded.info.sha256, loaded.format,
                 loaded.version, read, staged, rejected_lines, warnings])
    return FileSummary(loaded.source, loaded.label, read, staged, rejected_lines,
                       [(r, n) for r, n in reasons], warnings)


def loaded_filter(loaded: LoadedFile) -> str:
    """Fixed-width files keep their header and trailer in raw; they are not data rows."""
    if loaded.format == "tanf_section1":
        return "WHERE NOT (text LIKE 'HEADER%' OR text LIKE 'TRAILER%')"
    return ""


def ingest(con: duckdb.DuckDBPyConnection, data: Path, config_dir: Path | None = None,
           progress: Callable[[str], None] | None = None) -> list[FileSummary]:
    """Load every source under `data` (its extracts folder) into raw and staged."""
    sources: dict[str, SourceConfig] = load_sources(config_dir)
    root = extracts_folder(data)
    if not root.is_dir():
        raise IngestError(f"{data}: no such folder")
    staging.reset(con)
    readers = _readers()
    loaded: list[LoadedFile] = []
    for name, source in sources.items():
        folder = Path(source.path) if Path(source.path).is_absolute() else root / source.path
        loaded += readers[source.format](con, name, source, folder, progress)
    if progress:
        progress("standardizing person records (names, SSNs, DOBs, addresses)")
    build_person_records(con)
    if progress:
        progress("checking that every file balances")
    return [account(con, item) for item in loaded]
