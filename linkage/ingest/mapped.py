"""CSV and Parquet sources read through a mapping (`configs/sources/*.yaml`): CW, CS and any
other person list.

Row checks run in DuckDB: a required field left empty, a key seen before, a membership or event
that names a person the person file does not have. A failing row goes to `staged.rejects` with
its line and the field at fault; the rest is staged.

A table's file may come compressed (`persons.csv.gz`) or inside a ZIP archive of the folder
(`linkage.ingest.unpacking`); a file that cannot hold the table (random bytes, a workbook, a
corrupt archive) is rejected as a whole with the reason, and the source's other files load.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.ingest import staging, unpacking
from linkage.ingest.loaded import IngestError, LoadedFile, Progress, without_rejects
from linkage.ingest.reading import (
    PROVENANCE,
    FileInfo,
    Reject,
    create_raw,
    error_kind,
    inspect,
    load_csv,
    refuse_file,
    without_nul,
)
from linkage.sources import SourceConfig, TableSpec, mapped_columns
from linkage.warehouse import literal, quote

# the delimiters a CSV file is written with, besides a source's own: a header of one column
# holding one of them was written with it
_DELIMITERS = (";", "\t", "|", ",")


def raw_name(source: str, table: str) -> str:
    return f"{source}__{table}".lower()


def find_file(folder: Path, pattern: str, source: str) -> Path:
    """The one file of `folder` matching `pattern`; failing that, its compressed copy or the
    ZIP archive that holds it (read by `load_table`)."""
    matches = sorted(folder.glob(pattern))
    notes: list[str] = []
    if not matches and folder.is_dir():
        matches, notes = unpacking.find(folder, pattern)
    if not matches:
        why = f" ({'; '.join(notes)})" if notes else ""
        raise IngestError(f"source {source}: no file {pattern!r} in {folder}{why}")
    if len(matches) > 1:
        raise IngestError(f"source {source}: {len(matches)} files match {pattern!r} in {folder}; "
                          f"name one file per table")
    return matches[0]


def load_table(con: duckdb.DuckDBPyConnection, source_name: str, source: SourceConfig,
               table: str, spec: TableSpec, path: Path, fmt: str,
               known_ids: str | None = None, record_column: str | None = None) -> LoadedFile:
    """Read one file into raw, check its rows and register its valid rows as a view.

    `known_ids`/`record_column`: rows whose `record_column` is not among the person ids in the
    relation `known_ids` are rejected (a participant with no person record).
    """
    name = raw_name(source_name, table)
    info, label, rejects, warnings = _read(con, spec, path, fmt, name,
                                           _id_columns(source, table, spec))
    loaded = LoadedFile(source_name, source.system, table, info, f"raw.{quote(name)}",
                        f"valid_{name}", label, fmt, warnings=warnings)
    staging.insert_rejects(con, source_name, source.system, rejects)
    columns = staging.columns_of(con, loaded.raw)
    rows = without_nul(con, info, loaded.raw, name, columns)
    missing = [c for c in dict.fromkeys(spec.required + spec.key) if c not in columns]
    checks: list[str] = []
    if missing:
        loaded.problem = _no_required_column(missing, columns, spec, label)
        reason = f"the file has no column {', '.join(missing)}"
        checks.append(f"SELECT _line, {literal(missing[0])}, {literal(reason)} FROM {rows}")
    else:
        # one scan names the first empty required field of each row (in column-name order)
        empty = " ".join(f"WHEN {staging.clean(c, columns)} IS NULL THEN {literal(c)}"
                         for c in sorted(set(spec.required + spec.key)))
        if empty:
            checks.append(f"""
                SELECT _line, field, 'required field ' || field || ' is empty'
                FROM (SELECT _line, CASE {empty} END AS field FROM {rows})
                WHERE field IS NOT NULL""")
        if spec.key:
            keys = ", ".join(f"{staging.clean(k, columns)} AS k{i}" for i, k in enumerate(spec.key))
            names = ", ".join(f"k{i}" for i in range(len(spec.key)))
            # a hash aggregate finds the repeated keys; only their rows are looked at again
            checks.append(f"""
                SELECT * FROM (WITH keyed AS (SELECT _line, {keys} FROM {rows}),
                repeated AS (SELECT {names}, min(_line) AS first FROM keyed
                             GROUP BY ALL HAVING count(*) > 1)
                SELECT _line, {literal(spec.key[-1])}, 'duplicate key ' || {literal(
                    '+'.join(spec.key))} || ': first seen at line ' || first::VARCHAR
                FROM keyed JOIN repeated USING ({names})
                WHERE _line <> first)""")
        if known_ids and record_column and record_column in columns:
            value = staging.clean(record_column, columns)
            reason = f"{record_column} names a person the person file does not have"
            checks.append(f"""
                SELECT _line, {literal(record_column)}, {literal(reason)}
                FROM {rows} WHERE {value} IS NOT NULL
                  AND {value} NOT IN (SELECT id FROM {known_ids})""")
    if not missing and not any(r.line is None for r in rejects):  # a file with columns
        _expect_columns(loaded, mapped_columns(source, table), spec, columns)
    if checks:
        con.execute(f"""
            INSERT INTO staged.rejects
            SELECT {literal(source_name)}, {literal(source.system)}, {literal(label)}, line,
                   field, reason, NULL
            FROM ({' UNION ALL '.join(checks)}) r(line, field, reason)
            QUALIFY row_number() OVER (PARTITION BY line ORDER BY field, reason) = 1
        """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {loaded.valid} AS SELECT * FROM {rows} "
                f"{without_rejects(con, label)}")
    return loaded


def _read(con: duckdb.DuckDBPyConnection, spec: TableSpec, path: Path, fmt: str, name: str,
          plain: set[str]) -> tuple[FileInfo, str, list[Reject], list[str]]:
    """Read the file `path` delivered for a table into `raw.<name>`: (its info, its label,
    the lines or the file rejected, warnings). A compressed file or a ZIP archive is read
    through its decompressed content (`unpacking.unpacked`)."""
    text = fmt != "parquet"
    with unpacking.unpacked(path, spec.file, text) as delivered:
        label = delivered.label
        if delivered.path is None:  # nothing in it can be the table
            info = inspect(path, text=False)
            info.has_nul = False
            return info, label, refuse_file(con, f"raw.{quote(name)}", info, label,
                                            str(delivered.refused)), []
        info = inspect(delivered.path, spec.encoding, text=text, label=label)
        if delivered.sha256:
            info.sha256 = delivered.sha256
        if fmt == "parquet":
            rejects = _load_parquet(con, info, name, label, plain)
        else:
            rejects = load_csv(con, info, name, spec.delimiter, label, plain)
    return info, label, rejects, delivered.warnings + info.warnings


def _no_required_column(missing: list[str], columns: set[str], spec: TableSpec,
                        label: str) -> str:
    """Why no row of a file can be staged when its header lacks a required column, and, when
    the header is one column holding another delimiter, what happened: the file was written
    with another delimiter than the source's YAML reads (never guessed: every row is
    rejected, and the ingest fails saying so)."""
    data = sorted(columns - set(PROVENANCE))
    why = f"{label}: its header has no column {', '.join(missing)}"
    if len(data) != 1:
        return why
    found = [d for d in _DELIMITERS if d != spec.delimiter and d in data[0]]
    looks = (f"; it looks {found[0]!r}-delimited, the config reads {spec.delimiter!r} (set "
             f"`delimiter: {found[0]!r}` under the table in the source's YAML if it is)"
             if found else "; is the delimiter right?")
    return f"{label}: its header has 1 column{looks}"


def _expect_columns(loaded: LoadedFile, mapped: list[str], spec: TableSpec,
                    columns: set[str]) -> None:
    """Note the mapped columns the file must have (checked on its valid rows once the reader
    is done, `run.account`: HMIS derives some), and warn of the optional ones it lacks."""
    loaded.expected_columns = [c for c in mapped if c not in spec.optional_columns]
    for column in spec.optional_columns:
        if column not in columns:
            loaded.warnings.append(f"{loaded.label}: optional column {column!r} is not in the "
                                   f"file; its values are left empty")


def _load_parquet(con: duckdb.DuckDBPyConnection, info: FileInfo, name: str,
                  label: str, plain: set[str]) -> list[Reject]:
    target = f"raw.{quote(name)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    try:
        create_raw(con, target, info, label, f"""
            SELECT file_row_number + 1 AS _line, COLUMNS(* EXCLUDE (file_row_number))::VARCHAR
            FROM read_parquet({literal(str(info.path))}, file_row_number=true)""", plain)
    except duckdb.Error as exc:
        return refuse_file(con, target, info, label,
                           f"not a readable Parquet file: {error_kind(exc)}")
    return []


def load_source(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                folder: Path, progress: Progress | None = None) -> dict[str, LoadedFile]:
    """Load and check every table of a source; the person table first, so that the others'
    references to people can be checked against it."""
    assert source.person is not None  # the config's validator guarantees it
    person_table = source.person.table
    order = [person_table] + [t for t in source.tables if t != person_table]
    loaded: dict[str, LoadedFile] = {}
    ids_table = f"ids_{raw_name(name, person_table)}"
    for table in order:
        spec = source.tables[table]
        path = find_file(folder, spec.file, name)
        if progress:
            progress(f"{name}: reading {path.name} ({path.stat().st_size / 2**20:,.1f} MB)")
        checked_ids = ids_table if table != person_table else None
        loaded[table] = load_table(con, name, source, table, spec, path, source.format,
                                   checked_ids, _record_column(source, table))
        if table == person_table and any(_record_column(source, t) for t in order[1:]):
            # a table, not a view: each table that names people is checked against it (text
            # even when the column is missing: DuckDB 1.4 types a bare NULL as INTEGER)
            cols = staging.columns_of(con, loaded[table].valid)
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {ids_table} AS
                SELECT DISTINCT CAST({staging.clean(source.person.source_id, cols)} AS VARCHAR)
                       AS id
                FROM {loaded[table].valid}""")
    con.execute(f"DROP TABLE IF EXISTS {ids_table}")
    return loaded


def stage_source(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                 loaded: dict[str, LoadedFile]) -> list[LoadedFile]:
    """Stage the valid rows of a loaded source through its mapping."""
    assert source.person is not None
    staging.map_persons(con, name, source, source.person, loaded[source.person.table].valid)
    for m in source.memberships:
        staging.insert_memberships(con, name, source, m, loaded[m.table].valid)
    for g in source.groups:
        staging.insert_groups(con, name, source, g, loaded[g.table].valid)
    for e in source.events:
        staging.insert_events(con, name, source, e, loaded[e.table].valid)
    return list(loaded.values())


def ingest_mapped(con: duckdb.DuckDBPyConnection, name: str, source: SourceConfig,
                  folder: Path, progress: Progress | None = None) -> list[LoadedFile]:
    """Load, check and stage every table of a CSV or Parquet source."""
    return stage_source(con, name, source, load_source(con, name, source, folder, progress))


def _id_columns(source: SourceConfig, table: str, spec: TableSpec) -> set[str]:
    """The columns of a table that hold a value a row (its key, the person id and SSN, the
    person a row names): raw stores them plain (`reading.create_raw`)."""
    ids = set(spec.key)
    if source.person and source.person.table == table:
        ids |= {source.person.source_id, source.person.ssn}
    ids.add(_record_column(source, table))
    return {column for column in ids if column}


def _record_column(source: SourceConfig, table: str) -> str | None:
    """The column through which a non-person table names a person, if any."""
    for spec in [*source.memberships, *source.events]:
        if spec.table == table and spec.record:
            return spec.record
    return None
