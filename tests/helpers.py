"""Paths and small readers the tests share."""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the repository, on developer machines and in CI alike.
FIXTURES = ROOT.parent / "shared" / "fixtures"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
