"""Peer for the linkage benchmark: the Python Record Linkage Toolkit (`recordlinkage`).

Why it exists: `benchmarks/linkage.py` compares famlink with other tools on the same records and
the same candidate pairs. This script is the recordlinkage side, set up the way that library's
own documentation recommends, so the comparison measures recordlinkage as its users would run
it, not a tuned re-implementation:

1. `recordlinkage.Index()` with one `.block(...)` per blocking rule, in deduplication mode over
   a single DataFrame; the Index takes the union of the rules' pairs itself, and dedup mode keeps
   each unordered pair once (its lower triangle).
2. `recordlinkage.Compare()`: Jaro-Winkler (threshold 0.85) on first, middle and last name;
   exact agreement on dob, dob_year, ssn, sex, zip5 and address. A missing value on either side
   compares as 0 (the library's default).
3. `recordlinkage.ECMClassifier` (unsupervised EM on the comparison vectors). ECM needs binary
   features; thresholded string comparisons and exact comparisons are 0/1 already, so
   `binarize=None` ("input is presumed to already consist of binary vectors").
4. Clusters: connected components of the predicted matches (scipy, sparse, in C); a record that
   matched nothing is a cluster of its own.

With `--link-type link_only` only pairs from two different sources (the records' `system`) are
kept, as recordlinkage links two DataFrames (its FEBRL4 example); `dedupe_only` and
`link_and_dedupe` keep every pair.

Blocking follows famlink's rules for a fair comparison: a record whose key for a rule has a
null in any column is not blocked by that rule (a null key never matches), and a key value
held by more than `MAX_BLOCK_SIZE` (100) records is skipped, the same max block size famlink
uses (a placeholder SSN or a shelter address would otherwise pair strangers by the thousand).
recordlinkage's `Block` has no such cap, so before blocking, each rule's key columns are copied
with the values of oversized blocks set to null; `Block` then drops those rows as it drops any
null key. Empty strings are read as null.

It runs in its own venv (recordlinkage 0.16 pins pandas<3, the project runs pandas 3):

    python3 -m venv .venv-recordlinkage
    .venv-recordlinkage/bin/pip install -r benchmarks/peers/requirements-recordlinkage.txt
    .venv-recordlinkage/bin/python benchmarks/peers/recordlinkage_peer.py \
        --records RECORDS.parquet --blocking BLOCKING.json --out CLUSTERS.parquet

Progress goes to stderr; stdout carries one JSON line only: {"pairs": N, "matches": M}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import recordlinkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

MAX_BLOCK_SIZE = 100
JW_THRESHOLD = 0.85
STRING_FIELDS = ("first_name", "middle_name", "last_name")
EXACT_FIELDS = ("dob", "dob_year", "ssn", "sex", "zip5", "address")
RECORD_COLUMNS = (
    "record_id", "system", "first_name", "middle_name", "last_name", "first_name_metaphone",
    "last_name_metaphone", "first_name_canonical", "dob", "dob_year", "ssn", "ssn_last4",
    "sex", "zip5", "address",
)


def log(message: str, started: float) -> None:
    """One progress line on stderr (stdout is kept for the final JSON)."""
    print(f"[recordlinkage] {message} ({time.perf_counter() - started:.1f}s)", file=sys.stderr,
          flush=True)


def read_records(path: Path) -> pd.DataFrame:
    """The records with a positional index (the pairs are positions); empty strings as null."""
    records = pd.read_parquet(path)
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise SystemExit(f"{path}: missing columns {missing}")
    records = records.reset_index(drop=True)
    for column in records.columns:
        if records[column].dtype == object:
            records[column] = records[column].replace("", None)
    return records


def read_rules(path: Path, columns: pd.Index) -> list[list[str]]:
    """Blocking rules: a JSON list of lists of column names."""
    rules = json.loads(path.read_text())
    if not isinstance(rules, list) or not all(
        isinstance(rule, list) and rule and all(isinstance(c, str) for c in rule)
        for rule in rules
    ):
        raise SystemExit(f"{path}: expected a JSON list of lists of column names")
    unknown = sorted({c for rule in rules for c in rule} - set(columns))
    if unknown:
        raise SystemExit(f"{path}: unknown columns {unknown}")
    return rules


def capped_keys(records: pd.DataFrame, rule: Sequence[str], max_block_size: int) -> pd.DataFrame:
    """The rule's key columns, null where the key value is held by more than `max_block_size`
    records (only records whose key has no null count, as in famlink)."""
    keys = records[list(rule)].copy()
    complete = keys.notna().all(axis=1)
    sizes = keys[complete].groupby(list(rule), sort=False, dropna=True)[rule[0]].transform("size")
    too_big = pd.Series(False, index=keys.index)
    too_big[sizes.index] = sizes.to_numpy() > max_block_size
    keys.loc[too_big] = None
    return keys


def candidate_pairs(records: pd.DataFrame, rules: list[list[str]],
                    max_block_size: int = MAX_BLOCK_SIZE,
                    link_only: bool = False) -> pd.MultiIndex:
    """Union over rules of the pairs agreeing on every column of the rule, each unordered pair
    once (with `link_only`, only pairs from two sources). Adds the capped key copies
    (`_rule{i}_{column}`) to `records`."""
    indexer = recordlinkage.Index()
    for i, rule in enumerate(rules):
        keys = capped_keys(records, rule, max_block_size)
        names = [f"_rule{i}_{column}" for column in rule]
        for name, column in zip(names, rule, strict=True):
            records[name] = keys[column]
        indexer.block(left_on=names)
    pairs = indexer.index(records)
    if link_only:
        system = records["system"].to_numpy()
        pairs = pairs[system[pairs.get_level_values(0)] != system[pairs.get_level_values(1)]]
    return pairs


def compare(records: pd.DataFrame, pairs: pd.MultiIndex, n_jobs: int) -> pd.DataFrame:
    """Binary comparison vectors, one row per pair."""
    comparer = recordlinkage.Compare(n_jobs=n_jobs)
    for field in STRING_FIELDS:
        comparer.string(field, field, method="jarowinkler", threshold=JW_THRESHOLD, label=field)
    for field in EXACT_FIELDS:
        comparer.exact(field, field, label=field)
    return comparer.compute(pairs, records)


def classify(features: pd.DataFrame) -> pd.MultiIndex:
    """Pairs the ECM classifier calls matches."""
    if features.empty:
        return features.index[:0]
    return recordlinkage.ECMClassifier(binarize=None).fit_predict(features.astype(np.int8))


def clusters(record_ids: pd.Series, matches: pd.MultiIndex) -> pd.DataFrame:
    """record_id, cluster_id: connected components of the matches; a cluster is named by its
    smallest record_id."""
    n = len(record_ids)
    left = matches.get_level_values(0).to_numpy(dtype=np.int64)
    right = matches.get_level_values(1).to_numpy(dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    ids = record_ids.astype(str).to_numpy(dtype=object)
    by_id = np.argsort(ids, kind="stable")
    # components are numbered 0..k-1; the first of each in record_id order is its smallest
    _, first = np.unique(component[by_id], return_index=True)
    names = ids[by_id][first]
    return pd.DataFrame({"record_id": ids, "cluster_id": names[component]})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, required=True, help="RECORDS.parquet")
    parser.add_argument("--blocking", type=Path, required=True, help="BLOCKING.json")
    parser.add_argument("--out", type=Path, required=True, help="CLUSTERS.parquet to write")
    parser.add_argument("--link-type", default="dedupe_only",
                        choices=["dedupe_only", "link_only", "link_and_dedupe"])
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="recordlinkage.Compare(n_jobs=...); -1 for every core (default 1)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    records = read_records(args.records)
    if records["record_id"].isna().any() or not records["record_id"].is_unique:
        raise SystemExit(f"{args.records}: record_id must be unique and not null")
    rules = read_rules(args.blocking, records.columns)
    log(f"read {len(records)} records, {len(rules)} blocking rules", started)

    pairs = candidate_pairs(records, rules, link_only=args.link_type == "link_only")
    log(f"pairs found: {len(pairs)}", started)
    features = compare(records, pairs, args.n_jobs)
    log(f"compare done: {features.shape[0]} x {features.shape[1]} features", started)
    matches = classify(features)
    log(f"classifier done: {len(matches)} matches", started)

    result = clusters(records["record_id"], matches)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result.to_parquet(args.out, index=False)
    log(f"wrote {result['cluster_id'].nunique()} clusters to {args.out}", started)
    print(json.dumps({"pairs": len(pairs), "matches": len(matches)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
