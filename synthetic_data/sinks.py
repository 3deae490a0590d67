"""Output files that are written chunk by chunk, so memory stays flat at any population size."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import IO


class CsvSink:
    """One CSV file: header on open, rows appended as families are generated."""

    def __init__(self, path: Path, header: Sequence[str], *, crlf: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Held open across chunks on purpose; close() ends it.
        self._fh: IO[str] = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._fh, lineterminator="\r\n" if crlf else "\n")
        self._writer.writerow(header)
        self.width = len(header)
        self.rows = 0

    def write(self, row: Sequence[object]) -> None:
        self._writer.writerow(row)
        self.rows += 1

    def write_many(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.write(row)

    def close(self) -> None:
        self._fh.close()


def iso(day: int | None) -> str:
    return "" if day is None else date.fromordinal(day).isoformat()


def us_date(day: int | None) -> str:
    """MM/DD/YYYY, as many state child-support systems export dates."""
    if day is None:
        return ""
    d = date.fromordinal(day)
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"
