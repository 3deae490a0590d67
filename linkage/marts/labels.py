"""Codes in words: the lists show a HUD project type or a TANF funding stream by its label
(linkage/reference/*.csv, each with its source named in that folder's README), since staff
read "Emergency Shelter - Entry Exit", not "0"."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from linkage.warehouse import literal

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
TABLES = ("hud_project_type", "hud_living_situation", "tanf_funding_stream")


@cache
def labels(table: str) -> dict[str, str]:
    """code -> label of reference table `table`."""
    with (REFERENCE / f"{table}.csv").open(newline="") as f:
        return {row["code"]: row["label"] for row in csv.DictReader(f)}


def label_sql(table: str, expr: str) -> str:
    """SQL: the label of the code `expr` (NULL stays NULL: a code the table lacks is named as
    such rather than passed off as a label)."""
    whens = " ".join(f"WHEN {literal(code)} THEN {literal(label)}"
                     for code, label in labels(table).items())
    return (f"CASE ({expr})::VARCHAR {whens} "
            f"ELSE 'code ' || ({expr}) || ' (not in the reference list)' END")
