"""The DuckDB warehouse: one file, one schema per layer (raw, staged, ...), one writer.

DuckDB lets one process write a file at a time; a second writer fails at once with "Could not
set lock", which `connect` turns into a message that says what to do.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb

LAYERS = ("raw", "staged")


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file open for writing."""


class OutOfMemory(RuntimeError):
    """A step needed more memory than its engine was allowed: one line naming the step and
    the setting to change, instead of the engine's traceback after minutes of work."""

    def __init__(self, step: str, limit: str, setting: str = "resources.memory_limit") -> None:
        if setting == "resources.memory_limit":
            told = (f"DuckDB's limit: {limit}). Raise {setting} in configs/linkage.yaml "
                    f"(`auto` is 80% of this machine's memory), or free memory on the machine,")
        else:
            told = (f"{setting}: {limit}). Raise {setting} in configs/linkage.yaml, or give "
                    f"the engine more machines,")
        super().__init__(f"{step} ran out of memory ({told} and run again; nothing was "
                         f"published")


class EngineOutOfMemory(RuntimeError):
    """An engine other than DuckDB ran out of memory (linkage.engines): the setting that
    bounds it and its value, for `out_of_memory_as` to word with the step's name."""

    def __init__(self, setting: str, limit: str) -> None:
        super().__init__(setting)
        self.setting, self.limit = setting, limit


def use_resources(con: duckdb.DuckDBPyConnection, db: Path, memory_limit: str,
                  temp_directory: str | None) -> None:
    """DuckDB's memory limit for this connection (`auto`: its own default) and where it
    spills: beside the warehouse unless configured."""
    if memory_limit != "auto":
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    spill = Path(temp_directory) if temp_directory else \
        Path(db).absolute().parent / f".{Path(db).name}.spill"
    con.execute(f"SET temp_directory = {literal(str(spill))}")


@contextlib.contextmanager
def out_of_memory_as(step: str, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Turn DuckDB's (or another engine's) out-of-memory error inside `step` into
    OutOfMemory."""
    try:
        yield
    except duckdb.OutOfMemoryException:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        raise OutOfMemory(step, limit) from None
    except EngineOutOfMemory as exc:
        raise OutOfMemory(step, exc.limit, exc.setting) from None


class PublishedVersion(WarehouseBusy):
    """A published warehouse version (read-only on disk): never written again, since readers
    rely on it staying as it was published."""


# Encryption at rest (issue 15, item 7): with a key configured, the warehouse file, its WAL and
# its spill files are encrypted (AES-GCM). DuckDB writes encrypted files only with its httpfs
# extension loaded (for OpenSSL), and no DuckDB 2.0 extension can be installed offline: the
# `encryption` extra pins DuckDB 1.4.4 with PyPI's duckdb-ext-httpfs, which ships the file.
# See README.md ("Encryption at rest") and benchmarks/duckdb_versions.md.
KEY_FILE_VARIABLE = "FAMLINK_KEY_FILE"
ATTACHED_AS = "warehouse"  # the encrypted file's name in its (in-memory) connection
MIN_KEY_LENGTH = 16
INSTALL_HINT = "pip install 'famlink[encryption]'"


class WarehouseKeyError(WarehouseBusy):
    """The configured key cannot open the warehouse (wrong, missing, not allowed), or
    encryption cannot be had: one line saying what to do, never the key itself. (A
    WarehouseBusy so that every command that words a busy warehouse words this too.)"""


def configured_key() -> str | None:
    """The key named by FAMLINK_KEY_FILE (a file only its owner may read), or None when the
    variable is not set. The key is never taken from a command line or a checked-in config."""
    name = os.environ.get(KEY_FILE_VARIABLE, "").strip()
    if not name:
        return None
    key_file = Path(name).expanduser()
    try:
        mode = key_file.stat().st_mode
    except OSError:
        raise WarehouseKeyError(f"{KEY_FILE_VARIABLE} names {key_file}, which cannot be read "
                                f"(no such file?)") from None
    if not stat.S_ISREG(mode):
        raise WarehouseKeyError(f"{KEY_FILE_VARIABLE} names {key_file}, which is not a file")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise WarehouseKeyError(
            f"the key file {key_file} ({KEY_FILE_VARIABLE}) may be read or written by others "
            f"(mode {stat.S_IMODE(mode):04o}): run `chmod 600 {key_file}`")
    try:
        key = key_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise WarehouseKeyError(f"the key file {key_file} ({KEY_FILE_VARIABLE}) cannot be "
                                f"read as text") from None
    if len(key) < MIN_KEY_LENGTH:
        raise WarehouseKeyError(
            f"the key in {key_file} ({KEY_FILE_VARIABLE}) is empty or shorter than "
            f"{MIN_KEY_LENGTH} characters: write a long random one, e.g. "
            f"`openssl rand -base64 32 > {key_file}`")
    return key


def extension_directory() -> Path | None:
    """The DuckDB extension folder the duckdb-ext-* packages install (the namespace package
    `duckdb_ext`), or None when they are not installed."""
    try:
        spec = importlib.util.find_spec("duckdb_ext")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "extensions").is_dir():
            return Path(folder) / "extensions"
    return None


def encryption_available() -> bool:
    """Whether this DuckDB can write an encrypted warehouse (its httpfs extension loads from
    the duckdb-ext-httpfs package)."""
    try:
        _encrypting_connection().close()
    except WarehouseKeyError:
        return False
    return True


def _encrypting_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory connection with httpfs loaded from the duckdb_ext package, nothing
    downloaded; WarehouseKeyError when it cannot be loaded (fail closed: never plain)."""
    folder = extension_directory()
    if folder is None:
        raise WarehouseKeyError(
            f"a key is configured ({KEY_FILE_VARIABLE}) but encryption is not installed: "
            f"run `{INSTALL_HINT}` (DuckDB {duckdb.__version__} has no httpfs extension here)")
    con = duckdb.connect(":memory:", config={
        "extension_directory": str(folder), "autoinstall_known_extensions": False})
    try:
        con.execute("LOAD httpfs")
    except duckdb.Error:
        con.close()
        raise WarehouseKeyError(
            f"a key is configured ({KEY_FILE_VARIABLE}) but DuckDB {duckdb.__version__} cannot "
            f"load httpfs from {folder}, which writing an encrypted warehouse needs: run "
            f"`{INSTALL_HINT}` (it pins the DuckDB the extension was built for)") from None
    return con


def scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory connection to `attach` warehouse files to: with a key configured, one
    that can read them and whose spill files are encrypted too."""
    if configured_key() is None:
        return duckdb.connect()
    con = _encrypting_connection()
    con.execute("SET temp_file_encryption = true")
    return con


def _attach_options(read_only: bool) -> str:
    return "ENCRYPTION_KEY getvariable('famlink_key')" + (", READ_ONLY" if read_only else "")


def attach(con: duckdb.DuckDBPyConnection, path: str | Path, name: str,
           read_only: bool = True) -> None:
    """ATTACH the warehouse file `path` to `con` as `name`, with the configured key if there is
    one (the key travels as a variable, never in the SQL text, and is unset right after)."""
    key = configured_key()
    if key is None:
        con.execute(f"ATTACH {literal(str(path))} AS {quote(name)}"
                    + (" (READ_ONLY)" if read_only else ""))
        return
    con.execute("SET VARIABLE famlink_key = ?", [key])
    try:
        con.execute(f"ATTACH {literal(str(path))} AS {quote(name)} ({_attach_options(read_only)})")
    except duckdb.Error as exc:
        raise _key_error(path, exc) from None
    finally:
        con.execute("RESET VARIABLE famlink_key")


def _busy(path: Path | str) -> WarehouseBusy:
    return WarehouseBusy(f"{path} is open in another process (DuckDB allows one writer): close "
                         f"that process or use another --db path")


def _other_version(path: Path | str) -> WarehouseKeyError:
    return WarehouseKeyError(
        f"{path} was written by a newer DuckDB than this one ({duckdb.__version__}): a "
        f"warehouse built on DuckDB 2.0 must be rebuilt under 1.4.4 (`famlink nightly`)")


def _key_error(path: Path | str, exc: duckdb.Error) -> WarehouseBusy:
    """DuckDB's error on attaching an encrypted file, worded (DuckDB's own text is not
    passed on: the key must never reach a log)."""
    text = str(exc).lower()
    if "lock" in text:
        return _busy(path)
    if "does not exist" in text:
        return WarehouseKeyError(f"{path}: no such warehouse")
    if "wrong encryption key" in text:
        return WarehouseKeyError(f"{path}: the key in {KEY_FILE_VARIABLE} does not open it "
                                 f"(a wrong key, or a file encrypted with another)")
    if "not encrypted" in text:
        return WarehouseKeyError(
            f"{path} is not encrypted, but a key is configured ({KEY_FILE_VARIABLE}): rebuild "
            f"it with the key set (`famlink nightly`), or unset {KEY_FILE_VARIABLE}")
    if "version number" in text:
        return _other_version(path)
    # the key is a variable, never in the statement, so DuckDB's first line cannot quote it
    return WarehouseKeyError(f"{path} cannot be opened with the configured key: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse at `path` with every layer's schema; or, with
    `read_only`, open an existing one to read: any number of readers share a file, and
    temporary tables still work (a reader's explanations build some).

    With a key configured (FAMLINK_KEY_FILE), the file is opened encrypted: an in-memory
    connection with the file attached (as ATTACHED_AS) and in use; its cursors must go
    through `cursor` to land in it."""
    path = Path(path)
    key = configured_key()
    if not read_only:
        if path.exists() and not path.resolve().stat().st_mode & stat.S_IWUSR:
            raise PublishedVersion(
                f"{path} is a published version (read-only): it is never written again. "
                f"Build a new version with `famlink nightly --workdir {path.parent}`, or "
                f"work on a copy")
        path.parent.mkdir(parents=True, exist_ok=True)
    if key is not None:
        con = _connect_encrypted(path, key, read_only)
    else:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=_PLAIN_CONFIG)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise _busy(path) from None
            if "version number" in str(exc).lower():
                raise _other_version(path) from None
            raise
        except duckdb.CatalogException as exc:
            if "encrypted" in str(exc).lower():
                raise WarehouseKeyError(
                    f"{path} is encrypted: set {KEY_FILE_VARIABLE} to the file that holds its "
                    f"key (see README.md, \"Encryption at rest\")") from None
            raise
    # DuckDB's own progress bar would write into the CLI's output; famlink reports progress.
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        for layer in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    return con


# DuckDB 1.x writes new files in its v1.0 storage format unless told otherwise, and that format
# ignores `USING COMPRESSION zstd`; 1.4's format is what 2.0 writes and reads too.
_PLAIN_CONFIG = {"storage_compatibility_version": "v1.4.0"} \
    if duckdb.__version__.startswith("1.") else {}


def _connect_encrypted(path: Path, key: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = _encrypting_connection()
    try:
        # in memory, DuckDB would spill to ./.tmp; beside the file, as it does for a file
        # (use_resources moves it where the steps are configured to spill), and encrypted
        con.execute(f"SET temp_directory = {literal(str(path.absolute()) + '.tmp')}")
        con.execute("SET temp_file_encryption = true")
        con.execute("SET VARIABLE famlink_key = ?", [key])
        try:
            con.execute(f"ATTACH {literal(str(path))} AS {ATTACHED_AS} "
                        f"({_attach_options(read_only)})")
        except duckdb.Error as exc:
            raise _key_error(path, exc) from None
        finally:
            con.execute("RESET VARIABLE famlink_key")
        con.execute(f"USE {ATTACHED_AS}")
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` (for a thread or a request of its own) in the warehouse. `USE` holds
    for one connection only: an encrypted warehouse's cursor would start in the in-memory
    database, so every cursor famlink takes goes through here."""
    cur = con.cursor()
    in_memory, attached = cur.execute(
        "SELECT current_database() = 'memory', "
        "EXISTS (SELECT 1 FROM duckdb_databases() WHERE database_name = ?)",
        [ATTACHED_AS]).fetchall()[0]
    if in_memory and attached:
        cur.execute(f"USE {ATTACHED_AS}")
    return cur


@contextlib.contextmanager
def bulk_load(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Write large tables without DuckDB's checkpoint vacuum, then checkpoint once.

    At every checkpoint DuckDB merges the part-full row groups that each INSERT leaves behind,
    decompressing and compressing them again. A load that deletes no rows (the ingest drops
    whole tables and writes them anew) gains nothing from it and paid for it twice: at the
    automatic checkpoints along the way and at the final one (at 1M persons, ingest took 11.9 s
    with it and 9.9 s without; see benchmarks/README.md). The setting is DuckDB's, for the
    whole database: famlink has one writer per warehouse, so one bulk load at a time.
    """
    before = con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()[0][0]
    con.execute("SET max_vacuum_tasks = 0")
    try:
        yield
        # Everything is committed; a checkpoint refused (another transaction open) comes later.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("CHECKPOINT")
    finally:
        con.execute(f"SET max_vacuum_tasks = {int(before)}")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` ('schema.name', or a schema alone) is in the warehouse: the steps
    run in order, and a later one says which to run first instead of failing in SQL. On the
    Spark engine's connection (linkage.engines.spark), whether it holds the table."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return con.has_table(table)
    schema, _, name = table.partition(".")
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND (? = '' OR "
        "table_name = ?)", [schema, name, name]).fetchall()[0][0])


def tables_in(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The names of the tables in `schema`, on either engine's connection."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return con.tables_in(schema)
    return {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [schema]).fetchall()}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """`table`'s columns and their types, on either engine's connection (DESCRIBE)."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {table}").fetchall()}


def quote(name: str) -> str:
    """A SQL identifier, safely quoted (source column names come from files and configs)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A SQL string literal, safely quoted."""
    return "'" + value.replace("'", "''") + "'"
