"""Given names and their nicknames, shared by the generator (to write them) and the linker (to
see through them).

The `nicknames` package carries a hand-curated English list (Bill/William); Spanish diminutives
(Lupe/Guadalupe, Chuy/Jesus) are missing there, so a small list ships in `linkage/reference/`.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from nicknames import with_names_csv_path

_HISPANIC = Path(__file__).with_name("reference") / "nicknames_hispanic.csv"


@cache
def nicknames_of() -> dict[str, tuple[str, ...]]:
    """Upper-case given name -> its nicknames, upper-case, sorted for determinism."""
    pairs: set[tuple[str, str]] = set()
    with with_names_csv_path() as names_csv, open(names_csv, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["relationship"] == "has_nickname":
                pairs.add((row["name1"].upper(), row["name2"].upper()))
    with open(_HISPANIC, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pairs.add((row["name"].upper(), row["nickname"].upper()))
    result: dict[str, list[str]] = {}
    for name, nick in pairs:
        if name != nick:
            result.setdefault(name, []).append(nick)
    return {name: tuple(sorted(nicks)) for name, nicks in result.items()}
