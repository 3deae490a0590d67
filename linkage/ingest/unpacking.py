"""Extracts as agencies deliver them: plain, compressed (gzip, bzip2, xz) or inside a ZIP archive.

Why: a nightly extract is often a `persons.csv.gz`, or one ZIP holding every file of an HMIS
export, and sometimes a file named `.csv` that is really a gzip stream, an Excel workbook or a
PDF. A reader handed such bytes fails inside DuckDB with a message about CSV dialects. Here
each file is told by its first bytes, not its name: what holds the file the source expects is
decompressed into a temporary file and read like any other; what cannot hold it is refused
with a reason a person can act on (and the reader rejects the file as a whole).

Only the first bytes of a plain file are read here, so the common case costs one small read.
"""

from __future__ import annotations

import bz2
import contextlib
import fnmatch
import gzip
import hashlib
import lzma
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

# Compressed streams the standard library decompresses, by their first bytes, with the
# suffixes that say so.
_STREAMS: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "gzip": (b"\x1f\x8b", (".gz", ".gzip")),
    "bzip2": (b"BZh", (".bz2",)),
    "xz": (b"\xfd7zXZ\x00", (".xz",)),
}
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Files that cannot hold a CSV extract, and what to do about them.
_REFUSED: dict[bytes, str] = {
    b"\x28\xb5\x2f\xfd": "zstd-compressed, which famlink does not unpack: deliver it as .gz "
                         "or .zip, or decompress it",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive, which famlink does not unpack: deliver a .zip or "
                           ".gz, or unpack it",
    b"Rar!\x1a\x07": "a RAR archive, which famlink does not unpack: deliver a .zip or .gz, "
                     "or unpack it",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an Excel 97-2003 workbook (or another Office "
                                          "document), not CSV: save the sheet as CSV",
    b"%PDF-": "a PDF document, not an extract",
    b"SQLite format 3\x00": "an SQLite database, not an extract: export the table as CSV",
}
_PARQUET = b"PAR1"
# every suffix under which `find` looks for a packed copy of an expected file
PACKED_SUFFIXES = tuple(s for _, suffixes in _STREAMS.values() for s in suffixes) + (".zip",)
_COPY_CHUNK = 1 << 23
# each stream's decompressing reader over a file object
_OPENERS: dict[str, Callable[[Any], IO[bytes]]] = {
    "gzip": lambda fh: gzip.GzipFile(fileobj=fh), "bzip2": bz2.BZ2File, "xz": lzma.LZMAFile}


@dataclass
class Delivered:
    """The bytes a reader should read for one expected file, or why there are none.

    `label` names the file in rejects, `staged.files` and warnings: the delivered path, and
    for a member of a ZIP archive `archive.zip!member`. `sha256`, when set, is the hash of
    the delivered file that `label` names (a .gz), which the reader keeps instead of the hash
    of the decompressed bytes: anyone can check it with `sha256sum` on the delivered file.
    """

    path: Path | None
    label: str
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None
    sha256: str | None = None


def kind_of(path: Path) -> str | None:
    """What a file's first bytes say it is: a compressed stream (`gzip`, `bzip2`, `xz`),
    `zip`, `parquet`, `refused` (see `_REFUSED`), or None for anything else (text, most
    likely; the reader decides)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    for kind, (magic, _) in _STREAMS.items():
        if head.startswith(magic):
            return kind
    if head.startswith(_ZIP):
        return "zip"
    if head.startswith(_PARQUET):
        return "parquet"
    if any(head.startswith(magic) for magic in _REFUSED):
        return "refused"
    return None


def find(folder: Path, pattern: str) -> tuple[list[Path], list[str]]:
    """Packed copies of the files matching `pattern` in `folder`: `pattern` plus a compressed
    suffix (`persons.csv.gz`), and ZIP archives that hold a member matching it (an HMIS
    export delivered as one `export.zip`). Also returns notes on archives that could not be
    listed, so that "no such file" can say why."""
    found = {p for suffix in PACKED_SUFFIXES for p in folder.glob(pattern + suffix)}
    notes: list[str] = []
    for archive in sorted(p for p in folder.iterdir() if p.suffix.lower() == ".zip"):
        if archive in found or not archive.is_file():
            continue
        try:
            with zipfile.ZipFile(archive) as zf:
                if _members(zf, pattern):
                    found.add(archive)
        except (zipfile.BadZipFile, OSError):
            notes.append(f"{archive.name} is not a readable ZIP archive")
    return sorted(found), notes


@contextlib.contextmanager
def unpacked(path: Path, pattern: str, text: bool = True) -> Iterator[Delivered]:
    """The readable bytes of `path` for a table whose files match `pattern`: `path` itself,
    or its decompressed content in a temporary file that lives as long as the context.

    `text`: the source expects text (CSV); a Parquet file is then refused (the source's YAML
    says which format it delivers).
    """
    kind = kind_of(path)
    label = str(path)
    if kind is None or (kind == "parquet" and not text):
        yield Delivered(path, label)
        return
    if kind == "parquet":
        yield Delivered(None, label, refused="a Parquet file, not CSV: set `format: parquet` "
                                             "in the source's YAML")
        return
    if kind == "refused":
        with open(path, "rb") as fh:
            head = fh.read(16)
        yield Delivered(None, label, refused=next(
            why for magic, why in _REFUSED.items() if head.startswith(magic)))
        return
    with tempfile.TemporaryDirectory(prefix="famlink-unpack-") as tmp:
        if kind == "zip":
            yield _from_zip(path, pattern, Path(tmp))
        else:
            yield _from_stream(path, kind, Path(tmp))


def _members(zf: zipfile.ZipFile, pattern: str) -> list[zipfile.ZipInfo]:
    """The archive's files whose own name (without folders) matches `pattern`."""
    return [m for m in zf.infolist()
            if not m.is_dir() and fnmatch.fnmatchcase(PurePosixPath(m.filename).name, pattern)]


def _from_stream(path: Path, kind: str, tmp: Path) -> Delivered:
    """Decompress a gzip, bzip2 or xz file. A stream cut short (a transfer that stopped) is
    read as far as it goes: the reader rejects the last, incomplete line."""
    label = str(path)
    suffixes = _STREAMS[kind][1]
    warnings = [] if path.suffix.lower() in suffixes else [
        f"{label}: {kind}-compressed although its name does not say so; read decompressed"]
    target = tmp / (path.stem if path.suffix.lower() in suffixes else path.name)
    with open(path, "rb") as raw:
        hashed = _Hashing(raw)
        try:
            with _OPENERS[kind](hashed) as stream:
                _copy(stream, target)
        except EOFError:
            warnings.append(f"{label}: the {kind} data ends early (cut short in transfer?); "
                            f"read as far as it goes")
        except (OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
            return Delivered(None, label, refused=f"{kind}-compressed but corrupt, it cannot "
                                                  f"be decompressed ({type(exc).__name__})")
        hashed.finish()
    return Delivered(target, label, warnings, sha256=hashed.digest.hexdigest())


def _from_zip(path: Path, pattern: str, tmp: Path) -> Delivered:
    """The member of a ZIP archive that matches `pattern` (or its only member, when the archive
    itself is named like the expected file), extracted."""
    label = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            files = [m for m in zf.infolist() if not m.is_dir()]
            chosen = _members(zf, pattern)
            named_like = fnmatch.fnmatchcase(path.name, pattern) or any(
                fnmatch.fnmatchcase(path.name, pattern + s) for s in PACKED_SUFFIXES)
            if not chosen and named_like and len(files) == 1:
                chosen = files
            if not chosen:
                names = [m.filename for m in files]
                if any(n.startswith("xl/") for n in names):
                    why = "an Excel workbook (.xlsx), not CSV: save the sheet as CSV"
                else:
                    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                    why = (f"a ZIP archive with no file named like {pattern} (it holds "
                           f"{len(names)} file(s): {shown or 'none'})")
                return Delivered(None, label, refused=why)
            if len(chosen) > 1:
                return Delivered(None, label, refused=(
                    f"a ZIP archive with {len(chosen)} files named like {pattern} "
                    f"({', '.join(m.filename for m in chosen[:5])}): deliver one"))
            member = chosen[0]
            label = f"{path}!{member.filename}"
            target = tmp / PurePosixPath(member.filename).name
            warnings = [] if path.suffix.lower() == ".zip" else [
                f"{label}: {path.name} is a ZIP archive although its name does not say so; "
                f"read its member {member.filename}"]
            try:
                with zf.open(member) as stream:
                    _copy(stream, target)
            except EOFError:
                warnings.append(f"{label}: the ZIP member ends early (cut short in "
                                f"transfer?); read as far as it goes")
            return Delivered(target, label, warnings)
    except RuntimeError:  # zipfile's way of saying "password required"
        return Delivered(None, label, refused="a password-protected ZIP archive: deliver it "
                                              "unencrypted")
    except NotImplementedError:
        return Delivered(None, label, refused="a ZIP archive compressed with a method famlink "
                                              "cannot read (use deflate)")
    except (zipfile.BadZipFile, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        return Delivered(None, label, refused=f"a ZIP archive that is corrupt or cut short "
                                              f"({type(exc).__name__})")


def _copy(stream: Any, target: Path) -> None:
    """Stream `stream` (a decompressing reader) into `target`. `read1` hands over what one
    step decompressed, so when the data ends early everything before the cut is written."""
    with open(target, "wb") as out:
        while data := stream.read1(_COPY_CHUNK):
            out.write(data)


class _Hashing:
    """A read-only file wrapper that hashes the bytes read through it: the delivered file's
    SHA-256 without reading it twice."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data

    def finish(self) -> None:
        """Hash what the decompressor left unread (trailing bytes, a cut stream)."""
        while data := self.raw.read(_COPY_CHUNK):
            self.digest.update(data)
