"""Reading extract files into `raw.*` tables exactly as they are, with their provenance.

One Python pass over each file's bytes computes its SHA-256 and decides its encoding (UTF-8 with
or without BOM, UTF-16 with its BOM, else Latin-1; a file mixing UTF-8 and Latin-1 stays UTF-8
and DuckDB rejects the lines that are not); DuckDB then does the parsing. A CSV line DuckDB
cannot parse is kept as a reject with its line number, so rows read = rows in raw + rows
rejected, always.

When DuckDB cannot read a CSV file at all (not text, line endings that change half-way, a quote
that never closes, a line over its 16 MB limit), `linkage.ingest.salvage` makes a clean copy,
setting the unreadable lines aside as rejects, and DuckDB reads that; a file with nothing to
read is rejected as a whole, with the reason. That path is taken only after the fast read
failed, so clean files cost what they did.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from linkage.ingest import salvage
from linkage.warehouse import literal, quote

_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# the columns every raw table has besides the file's own; all but _line are virtual (`raw_table`)
PROVENANCE = ("_file", "_sha256", "_line", "_loaded_at")
_VIRTUAL = set(PROVENANCE) - {"_line"}
_CHUNK = 1 << 23
# a quoted part of a DuckDB message: a value, a line or a path, never repeated (`error_kind`)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass
class FileInfo:
    path: Path
    sha256: str
    encoding: str  # "utf-8", "latin-1" or "utf-16"
    size: int
    warnings: list[str] = field(default_factory=list)
    # NUL bytes somewhere in the file: its values need them removed (`without_nul`)
    has_nul: bool = False
    # the last byte ends a line (or the file is empty): a file that does not was cut short,
    # perhaps inside its last value. Read here, while the file (perhaps a copy decompressed
    # for the reading) is still there.
    ends_with_line_break: bool = True


@dataclass
class Reject:
    """A line that could not be staged, with a reason a person can act on."""

    file: str
    line: int | None
    field: str | None
    reason: str
    text: str | None = None


def inspect(path: Path, encoding: str = "auto", text: bool = True,
            label: str | None = None) -> FileInfo:
    """Hash the file and settle its encoding in one streaming pass.

    `text=False` (Parquet): only the hash; its bytes say nothing of the strings inside, so its
    values are treated as possibly holding NUL characters. `label`: how warnings name the file
    (the delivered name of a file read from a decompressed copy).
    """
    label = label or str(path)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, multibyte, nul, size, utf16 = True, False, False, 0, False
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not size:  # Excel's "Unicode text": its NUL bytes are half of every character
                utf16 = text and encoding == "auto" and chunk.startswith(salvage.UTF16_BOMS)
            size += len(chunk)
            last = chunk[-1:]
            digest.update(chunk)
            if not text or utf16:
                continue
            nul = nul or b"\x00" in chunk
            # ASCII is UTF-8, and checking for it costs a tenth of decoding; unless the last
            # chunk ended inside a multibyte character
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if not utf8:  # only then does it matter whether any UTF-8 is in there at all
                multibyte = multibyte or bool(_MULTIBYTE.search(chunk))
    if text and not utf8 and not multibyte:  # the bad chunk may come after the UTF-8 text
        with open(path, "rb") as fh:
            while not multibyte and (chunk := fh.read(_CHUNK)):
                multibyte = bool(_MULTIBYTE.search(chunk))
    info = FileInfo(path, digest.hexdigest(), "utf-8", size, has_nul=nul or not text,
                    ends_with_line_break=last in (b"\n", b"\r"))
    if not text:
        return info
    if encoding != "auto":
        info.encoding = encoding
    elif utf16:
        info.encoding = "utf-16"
        info.warnings.append(f"{label}: UTF-16 text; read as such")
    elif not utf8 and not multibyte:
        info.encoding = "latin-1"
        info.warnings.append(f"{label}: not UTF-8; read as Latin-1")
    elif not utf8:
        info.warnings.append(f"{label}: mixes UTF-8 and other bytes; lines that are not UTF-8 "
                             f"are rejected")
    if nul:
        info.warnings.append(f"{label}: contains NUL bytes; they are removed from values")
    return info


def load_csv(con: duckdb.DuckDBPyConnection, info: FileInfo, table: str,
             delimiter: str = ",", label: str | None = None,
             plain: Collection[str] = ()) -> list[Reject]:
    """Create `raw.<table>` from a CSV file: every column as text, plus provenance columns
    `_file`, `_sha256`, `_line` (the record's line, the header being line 1) and `_loaded_at`
    (see `create_raw`, and there for `plain`).

    Returns the lines that could not be read (too many or too few fields, bad quoting, bytes
    that are not UTF-8, longer than the reader's limit) as rejects, or one reject without a
    line for a file that holds nothing to read; those lines are not in the raw table.
    """
    label = label or str(info.path)
    target = f"raw.{quote(table)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    if info.size == 0 or not _has_header(info.path):
        return refuse_file(con, target, info, label, "the file is empty: no header line")
    errors = f"_rejects_{table}"
    options = _options(delimiter, info.encoding, errors, table)
    try:
        # Read straight into raw: DuckDB numbers records in file order (a quoted newline does
        # not start a record), so with no rejects the k-th record sits on line k + 1.
        create_raw(con, target, info, label, f"SELECT row_number() OVER () + 1 AS _line, * "
                   f"FROM read_csv({literal(str(info.path))}, {options})", plain)
        bad = _duckdb_rejects(con, errors, table)
    except duckdb.Error:
        bad = None
    # A quote that never closes makes DuckDB take the rest of the file as one value: those
    # lines would be neither read nor rejected.
    if bad is None or any(kind == "UNQUOTED VALUE" and "unterminated" in message
                          for _, _, kind, message, _ in bad):
        _drop(con, target, table)
        return _load_salvaged(con, info, target, table, delimiter, label, plain)
    if bad:  # the k-th good record sits on the k-th line that no reject took
        con.execute("CREATE OR REPLACE TEMP TABLE _bad_lines (line BIGINT)")
        con.executemany("INSERT INTO _bad_lines VALUES (?)", [(row[0],) for row in bad])
        con.execute(f"""
            UPDATE {target} t SET _line = slots.line
            FROM (SELECT line, row_number() OVER (ORDER BY line) + 1 AS k
                  FROM range(2, (SELECT count(*) FROM {target})
                                + (SELECT count(*) FROM _bad_lines) + 2) r(line)
                  WHERE line NOT IN (SELECT line FROM _bad_lines)) slots
            WHERE slots.k = t._line""")
        con.execute("DROP TABLE _bad_lines")
    return [Reject(label, int(line), column, _reason(kind), text)
            for line, column, kind, _, text in bad]


def _options(delimiter: str, encoding: str, errors: str, table: str,
             detect: str = "sample_size=-1") -> str:
    """DuckDB's read_csv options for an extract: every column as text, RFC 4180 quoting, lines
    DuckDB cannot parse stored in the temporary table `errors` instead of stopping the read;
    `detect`: how much of the file DuckDB's sniffer reads (all of it), or `auto_detect=false`
    with the columns given."""
    return (f"all_varchar=true, delim={literal(delimiter)}, quote='\"', escape='\"', "
            f"encoding={literal(encoding)}, store_rejects=true, rejects_table={literal(errors)}, "
            f"rejects_scan={literal(f'_scans_{table}')}, max_line_size={salvage.MAX_RECORD_BYTES}, "
            f"null_padding=false, header=true, {detect}")


def _duckdb_rejects(con: duckdb.DuckDBPyConnection, errors: str,
                    table: str) -> list[tuple[int, str | None, str, str, str | None]]:
    """The lines DuckDB stored as rejects (line, column, error type, message, line text), in
    line order; its temporary reject tables are dropped."""
    try:
        return con.execute(f"SELECT line, column_name, error_type, error_message, csv_line "
                           f"FROM {errors} ORDER BY line").fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {errors}; DROP TABLE IF EXISTS _scans_{table}")


def _drop(con: duckdb.DuckDBPyConnection, target: str, table: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS {target}; DROP TABLE IF EXISTS _rejects_{table}; "
                f"DROP TABLE IF EXISTS _scans_{table}")


def _load_salvaged(con: duckdb.DuckDBPyConnection, info: FileInfo, target: str, table: str,
                   delimiter: str, label: str, plain: Collection[str]) -> list[Reject]:
    """`load_csv` for a file DuckDB could not read as it is: its clean copy (`salvage.repair`)
    read instead, each row and reject keeping its line in the file. A file with nothing to
    read gets an empty raw table and one reject, for the file."""
    with tempfile.TemporaryDirectory(prefix="famlink-salvage-") as tmp:
        repaired = salvage.repair(info.path, info.encoding, delimiter, Path(tmp))
        if repaired.refused is None and repaired.path is not None:
            info.warnings += [f"{label}: {w}" for w in repaired.warnings]
            errors = f"_rejects_{table}"
            clean = literal(str(repaired.path))
            header = literal(str(repaired.header))
            try:
                # the column names as DuckDB gives them (duplicates numbered, blanks named),
                # from the header alone: the records are what may be broken
                names = con.execute(f"DESCRIBE SELECT * FROM read_csv({header}, " + _options(
                    delimiter, repaired.encoding, errors, table, "sample_size=1") + ")"
                                    ).fetchall()
                columns = "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name, *_ in names) \
                    + "}"
                options = _options(delimiter, repaired.encoding, errors, table,
                                   f"auto_detect=false, columns={columns}")
                line = quote(salvage.LINE_COLUMN)
                create_raw(con, target, info, label, f"""
                    SELECT {line}::BIGINT AS _line, * EXCLUDE ({line})
                    FROM read_csv({clean}, {options})""", plain)
                bad = _duckdb_rejects(con, errors, table)
            except duckdb.Error as exc:
                _drop(con, target, table)
                repaired.refused = f"DuckDB cannot read it as CSV ({error_kind(exc)})"
    if repaired.refused is not None:
        info.warnings.clear()  # what its bytes looked like says nothing once it is refused
        return refuse_file(con, target, info, label, repaired.refused)
    rejects = [Reject(label, line, None, reason) for line, reason in repaired.rejects]
    # each record of the copy starts with its line in the file (`salvage.LINE_COLUMN`)
    prefix = re.compile(r"^([0-9]+)" + re.escape(delimiter))
    for _, column, kind, _, text in bad:
        number = prefix.match(text or "")
        if number is None:  # DuckDB kept no text to read the line from: only the copy knows
            raise RuntimeError(f"{label}: DuckDB rejected a record of the clean copy without "
                               f"its text ({kind})")
        rejects.append(Reject(label, int(number.group(1)), column, _reason(kind),
                              text[number.end():]))
    return sorted(rejects, key=lambda r: r.line or 0)


def refuse_file(con: duckdb.DuckDBPyConnection, target: str, info: FileInfo, label: str,
                why: str) -> list[Reject]:
    """Refuse a file as a whole: an empty raw table `target` (so that `staged.files` lists
    it, with its hash, 0 rows read) and one reject, without a line, saying `why`."""
    con.execute(f"DROP TABLE IF EXISTS {target}")
    raw_table(con, target, info, label, [("_line", "BIGINT")])
    return [Reject(label, None, None, why)]


def error_kind(exc: Exception) -> str:
    """The first line of DuckDB's message, its quoted parts blanked: the kind of failure.
    The lines after it may quote the record ("Original Line: ..."), and the first may quote a
    value ("Could not convert string '...' to DATE"), which no message may repeat."""
    first = str(exc).splitlines()[0].split("Original Line")[0].strip() if str(exc) else ""
    return _QUOTED.sub("'...'", first) or type(exc).__name__


def create_raw(con: duckdb.DuckDBPyConnection, target: str, info: FileInfo, label: str,
               rows: str, plain: Collection[str] = ()) -> None:
    """Create the raw table `target` and fill it from `rows`: a SELECT of `_line` and then the
    file's own columns. The `plain` ones (ids and SSNs: a value a row, which no dictionary
    shrinks) are stored uncompressed: DuckDB's default encoding of them (FSST) cost more than
    storing them. With the provenance of `raw_table`, reading the CSV extracts of 1M persons
    into raw took 2.8 CPU-seconds instead of 3.2."""
    described = [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {rows}").fetchall()]
    names = [name for name, _ in described]
    if {name.lower() for name in names} & _VIRTUAL:
        # a file column named like a provenance one: DuckDB's own renaming, as when raw was
        # created with the provenance as ordinary columns in front
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_names AS SELECT NULL AS _file, "
                    f"NULL AS _sha256, NULL AS _loaded_at, * FROM ({rows}) LIMIT 0")
        names = [row[0] for row in con.execute("DESCRIBE _raw_names").fetchall()][3:]
        con.execute("DROP TABLE _raw_names")
    columns = [(unique, kind + (" USING COMPRESSION uncompressed" if name in plain else ""))
               for unique, (name, kind) in zip(names, described, strict=True)]
    raw_table(con, target, info, label, columns)
    con.execute(f"INSERT INTO {target} ({', '.join(quote(n) for n, _ in columns)}) {rows}")


def raw_table(con: duckdb.DuckDBPyConnection, target: str, info: FileInfo, label: str,
              columns: list[tuple[str, str]]) -> None:
    """Create the empty raw table `target` with `columns` (name, type): `_line` and the
    file's own columns.

    `_file`, `_sha256` and `_loaded_at` hold one value for the whole file, so they are virtual
    columns, kept once in the table's definition instead of on every row.
    """
    loaded = datetime.now().isoformat(sep=" ", timespec="seconds")
    definitions = [f"{quote(name)} {kind}" for name, kind in columns]
    definitions[1:1] = [
        f"_loaded_at TIMESTAMP GENERATED ALWAYS AS (TIMESTAMP {literal(loaded)}) VIRTUAL"]
    definitions[:0] = [f"_file VARCHAR GENERATED ALWAYS AS ({literal(label)}) VIRTUAL",
                       f"_sha256 VARCHAR GENERATED ALWAYS AS ({literal(info.sha256)}) VIRTUAL"]
    con.execute(f"CREATE TABLE {target} ({', '.join(definitions)})")


def without_nul(con: duckdb.DuckDBPyConnection, info: FileInfo, raw: str, name: str,
                columns: set[str]) -> str:
    """The relation of a raw table's rows to check and stage: the table itself, or, when the
    file may hold NUL bytes (it has some, or it is Parquet), a view with them removed from
    every value of its `columns`. Removing them once here lets every later step skip the
    search (it cost as much as the trimming)."""
    data = sorted(columns - set(PROVENANCE))
    if not info.has_nul or not data:
        return raw
    replaced = ", ".join(f"replace({quote(c)}, chr(0), '') AS {quote(c)}" for c in data)
    view = f"nul_free_{name}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote(view)} AS "
                f"SELECT * REPLACE ({replaced}) FROM {raw}")
    return quote(view)


def _has_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        return bool(fh.read(4096).strip(b"\xef\xbb\xbf \t\r\n"))


def _reason(kind: str) -> str:
    reasons = {
        "TOO MANY COLUMNS": "more fields than the header has (a stray delimiter or quote?)",
        "MISSING COLUMNS": "fewer fields than the header has (a truncated line?)",
        "INVALID ENCODING": "bytes that are not UTF-8 (a line saved in another encoding)",
        "UNQUOTED VALUE": "a quote inside an unquoted value",
        "LINE SIZE OVER MAXIMUM": "the line is longer than 16 MB",
    }
    # DuckDB's own message may quote the value: only the kind of error is kept
    return reasons.get(kind, f"{kind.lower()} (DuckDB could not read the line)")


def load_lines(con: duckdb.DuckDBPyConnection, info: FileInfo, table: str,
               label: str | None = None) -> int:
    """Create `raw.<table>` with one row per physical line of a fixed-width file
    (`_line` counts from 1); returns the number of lines."""
    label = label or str(info.path)
    text = info.path.read_bytes().decode(info.encoding, errors="replace")
    empty = not text  # a file of one line break holds one (blank) line
    text = text.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n")
    target = f"raw.{quote(table)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    # zstd: fixed-width lines repeat their blanks and codes; 12% faster to write than DuckDB's
    # default and a third smaller
    raw_table(con, target, info, label,
              [("_line", "BIGINT"), ("text", "VARCHAR USING COMPRESSION zstd")])
    if empty:
        return 0
    # the text as one parameter, split and numbered in DuckDB: a list of Python strings took
    # longer to hand over than the whole file
    con.execute(f"INSERT INTO {target} (_line, text) SELECT generate_subscripts(lines, 1), "
                f"replace(unnest(lines), chr(0), '') FROM (SELECT string_split(?, chr(10)) "
                f"AS lines)", [text])
    return text.count("\n") + 1
