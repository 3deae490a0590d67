"""The careful way through a CSV file that DuckDB's fast reader refused: split it into records
in Python, set aside the lines no CSV reader can take, and hand DuckDB a clean copy.

Why: DuckDB stops at the whole file when its dialect sniffer or its parser meets something
it cannot place: line endings that change from CRLF to LF half-way (as HMIS vendors' exports
do), a quote opened on line 100 that never closes (everything after it would be one value),
a line longer than its 16 MB limit, bytes that are not text at all. The agency needs the other
lines read and those few named. This pass costs a Python loop over the file's lines, so the
ingest takes it only after the fast read failed (`reading.load_csv`).

What it does:

* a file whose first 64 KB are mostly control bytes is refused as not text (random bytes, an
  image, an encrypted file);
* UTF-16 text (with its byte-order mark) is turned into UTF-8;
* every record ends in LF in the copy, whatever ended it in the file (CRLF, LF or CR); line
  breaks inside a quoted value stay as they were;
* a line longer than `MAX_RECORD_BYTES` is rejected, with its length;
* a quote that opens a value and is not closed within `MAX_QUOTED_LINES` lines or
  `MAX_RECORD_BYTES` (or before the end of the file) is a stray: its line is rejected and the
  lines after it are read again as records of their own.

Each record of the copy starts with its line number in the file (`LINE_COLUMN`), numbered as
DuckDB numbers them (the header is line 1, a blank line counts, a record whose quoted value
spans lines counts once), so rows and DuckDB's rejects keep the lines of the original.
No value of any record appears in a reason.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# DuckDB's reader limit (its `max_line_size`, which famlink keeps)
MAX_RECORD_BYTES = 16 * 2**20
# a quoted value longer than this many lines is a stray quote, not a value (a case note of a
# thousand lines is not in a person or case extract)
MAX_QUOTED_LINES = 1000
# the column that carries each record's line number through DuckDB
LINE_COLUMN = "_famlink_line"

_SAMPLE = 1 << 16
_CHUNK = 1 << 22
_CONTROL = bytes([*range(1, 9), 11, *range(14, 32), 127])
_BREAK = re.compile(rb"\r\n|\n|\r")
_UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text" starts with one
_QUOTE = b'"'


@dataclass
class Repaired:
    """The clean copy (`path`, UTF-8 when the file was UTF-16, else the file's own encoding),
    the lines rejected on the way (line, reason) and what a person should know; or, when
    nothing in the file can be read as CSV, why (`refused`)."""

    path: Path | None
    encoding: str
    # the copy's header line alone (DuckDB names the columns from it)
    header: Path | None = None
    rejects: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None


def not_text(path: Path) -> str | None:
    """Why the file is not text, judged on its first 64 KB, or None. Text has next to no
    control bytes besides tab and line breaks; random or compressed bytes have one in ten.
    NUL bytes alone do not decide it (some exports pad with them) unless they are most of it."""
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE)
    if not sample or sample.startswith(UTF16_BOMS):
        return None
    control = len(sample) - len(sample.translate(None, _CONTROL))
    nul = sample.count(b"\x00")
    if control > len(sample) // 100 or nul > len(sample) * 3 // 10:
        share = round(100 * (control + nul) / len(sample))
        return (f"not a text file: {share}% of its first {len(sample) // 1024} KB are control "
                f"bytes (an image, a database or an encrypted or corrupt file?)")
    return None


def repair(path: Path, encoding: str, delimiter: str, workdir: Path) -> Repaired:
    """Write the clean copy of the CSV file `path` into `workdir` (see the module's notes)."""
    why = not_text(path)
    if why:
        return Repaired(None, encoding, refused=why)
    source = path
    with open(path, "rb") as fh:
        utf16 = fh.read(2) in UTF16_BOMS
    if utf16 or encoding == "utf-16":
        source = workdir / "utf8.csv"
        _to_utf8(path, source)
        encoding = "utf-8"
    out = workdir / "clean.csv"
    result = Repaired(out, encoding)
    endings: set[bytes] = set()
    delim = delimiter.encode()
    header = True
    with open(out, "wb") as sink:
        for number, record in _records(_physical_lines(source, endings), delim,
                                       result.rejects):
            if header:
                if result.rejects:  # the header itself is broken: no column has a name
                    line, reason = result.rejects[0]
                    return Repaired(None, encoding, refused=f"the header (line {line}) cannot "
                                                            f"be read: {reason}")
                names = LINE_COLUMN.encode() + delim + record.removeprefix(_UTF8_BOM) + b"\n"
                sink.write(names)
                result.header = workdir / "header.csv"
                result.header.write_bytes(names)
                header = False
                continue
            copied = str(number).encode() + delim + record + b"\n"
            if len(copied) > MAX_RECORD_BYTES:  # its line number pushes it past DuckDB's limit
                result.rejects.append((number, _too_long(len(record))))
                continue
            sink.write(copied)
    if header:
        return Repaired(None, encoding, refused="no header line: no line of the file can be "
                                                "read as CSV")
    if len(endings) > 1:
        names = {b"\r\n": "CRLF", b"\n": "LF", b"\r": "CR"}
        result.warnings.append(f"lines end in {' and '.join(sorted(names[e] for e in endings))}"
                               f" mixed; each is read as the end of a line")
    return result


def _too_long(size: int) -> str:
    """Why a line of `size` bytes is rejected: its length, never its content."""
    return (f"the line is {size / 2**20:,.1f} MB long, longer than the reader's limit of "
            f"{MAX_RECORD_BYTES // 2**20} MB")


def _to_utf8(path: Path, target: Path) -> None:
    """UTF-16 (with its byte-order mark) to UTF-8, streaming; bytes that are not UTF-16 become
    U+FFFD, so the line stays and says where it was damaged."""
    reader = codecs.getincrementaldecoder("utf-16")(errors="replace")
    with open(path, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            dst.write(reader.decode(chunk).encode())
        dst.write(reader.decode(b"", final=True).encode())


def _physical_lines(path: Path, endings: set[bytes]) -> Iterator[tuple[bytes | int, bytes]]:
    """Each line of the file with what ended it (CRLF, LF, CR; empty for a last line without
    one). A line longer than `MAX_RECORD_BYTES` is not held whole: it comes as its length."""
    carry = b""
    skipped = 0  # bytes of an over-long line read so far
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            data = carry + chunk
            start = 0
            for match in _BREAK.finditer(data):
                if match.group() == b"\r" and match.end() == len(data):
                    break  # a CR at the end of the chunk may be the start of a CRLF
                length = skipped + match.start() - start
                yield (length if skipped or length > MAX_RECORD_BYTES
                       else data[start:match.start()]), match.group()
                skipped = 0
                endings.add(match.group())
                start = match.end()
            carry = data[start:]
            if len(carry) > MAX_RECORD_BYTES:  # keep counting the line, not holding it
                skipped += len(carry)
                carry = b""
    if skipped or len(carry) > MAX_RECORD_BYTES:
        yield skipped + len(carry), b""
    elif carry:
        ending = b"\r" if carry.endswith(b"\r") else b""
        endings.update({ending} - {b""})
        yield carry.removesuffix(b"\r"), ending


def _records(lines: Iterator[tuple[bytes | int, bytes]], delim: bytes,
             rejects: list[tuple[int, str]]) -> Iterator[tuple[int, bytes]]:
    """(line number, record) for every record, numbered DuckDB's way; the lines no reader can
    take go to `rejects`. A record is the lines up to the one that closes its last quoted
    value; a quote that does not close within the limits is a stray, and the lines after its
    own are read again from the start of a record."""
    pending: deque[tuple[bytes | int, bytes]] = deque()

    def take() -> tuple[bytes | int, bytes] | None:
        return pending.popleft() if pending else next(lines, None)

    number = 0  # DuckDB's line number of the record being read
    while (first := take()) is not None:
        number += 1
        text = first[0]
        if isinstance(text, int):
            rejects.append((number, _too_long(text)))
            continue
        if not text:
            continue  # a blank line: counted, not a record
        if not _still_quoted(text, False, delim):
            yield number, text
            continue
        taken = [first]
        size, quoted = len(text), True
        while quoted and len(taken) <= MAX_QUOTED_LINES and size <= MAX_RECORD_BYTES:
            following = take()
            if following is None:
                break
            taken.append(following)
            if isinstance(following[0], int):
                break
            size += len(following[0]) + len(following[1])
            quoted = _still_quoted(following[0], True, delim)
        if quoted:
            rejects.append((number, "a quote opens a value on this line and never closes (a "
                                    "stray or unterminated quote); the lines after it are "
                                    "read on their own"))
            pending.extendleft(reversed(taken[1:]))
            continue
        if size > MAX_RECORD_BYTES:  # a quoted value that closes, but past the limit
            rejects.append((number, f"the record ({len(taken)} lines) is longer than the "
                                    f"reader's limit of {MAX_RECORD_BYTES // 2**20} MB"))
            continue
        yield number, b"".join(bytes(t) + e for t, e in taken[:-1]) + bytes(taken[-1][0])


def _still_quoted(line: bytes, quoted: bool, delim: bytes) -> bool:
    """Whether a quoted value is still open at the end of `line`, reading it from a field's
    start (`quoted` False) or from inside a quoted value. A quote opens a value only as the
    first character of a field; inside, a doubled quote is a quote, a single one closes it.
    (A quote in the middle of an unquoted value is DuckDB's to reject.)"""
    if not quoted and _QUOTE not in line:
        return False
    pos = 0
    while True:
        if quoted:
            close = line.find(_QUOTE, pos)
            if close < 0:
                return True
            if line[close + 1:close + 2] == _QUOTE:
                pos = close + 2
                continue
            quoted = False
            pos = close + 1
        elif line[pos:pos + 1] == _QUOTE:
            quoted = True
            pos += 1
            continue
        next_field = line.find(delim, pos)
        if next_field < 0:
            return False
        pos = next_field + 1
