"""The Splink peer: Splink 5 on DuckDB set up as its documentation sets it up, given the same
standardized records and blocking rules as famlink.

Splink's documentation chooses the comparisons and the training for each data set it shows, so
the peer follows the documented example that fits the data (`--profile`):

- `population` (famlink's own population and any other person list; after Splink's
  deduplicate_50k_synthetic example): NameComparison on first and last name,
  DateOfBirthComparison, SSN within 1 or 2 edits, exact sex, ZIP and address; the match prior
  from deterministic rules, u by random sampling, m by EM blocked on the full name and on the
  birth date; connected components at 0.95.
- `febrl4`, `febrl3` (Splink's own FEBRL4 and FEBRL3 examples, on the same columns as
  famlink has standardized them): names with term-frequency adjustments, birth date, SSN by
  Damerau-Levenshtein, exact street number with term frequencies, postcode (fuzzy in the FEBRL4
  example, exact in FEBRL3); the prior from SSN or full name and birth date (and, in FEBRL3,
  swapped names); EM blocked on the birth date and on the postcode. Clusters at match
  probability 0.5: Splink's FEBRL4 example as published, run on the raw CSVs, gives pairwise
  F1 0.9991 clustered there (near its documented 0.9994) and 0.9956 at the 0.99 its page
  clusters at; the yardstick should be Splink at its best.

With `--link-type link_only` or `link_and_dedupe` each source (the records' `system`) is an
input table of its own, as Splink links several files (its FEBRL4 example: `link_only`).
The candidate pairs are famlink's blocking rules (--blocking), as famlink's; with
`--own-blocking`, the example's own rules on the same columns, for reference.

    python benchmarks/peers/splink_peer.py --records R.parquet --blocking B.json --out C.parquet \\
        [--link-type dedupe_only|link_only|link_and_dedupe] [--profile population|febrl3|febrl4]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

U_SAMPLE_PAIRS = 1e7  # the documentation's suggestion for a large data set
SWAPPED_NAMES = "l.first_name = r.last_name AND l.last_name = r.first_name"
# Splink's comparison and blocking-rule creators (its public API names no type for them)
Comparison = Any
Rule = Any


def _names(tf: bool) -> list[Comparison]:
    """First and last name by NameComparison, with term-frequency adjustments or without."""
    return [cl.NameComparison(c).configure(term_frequency_adjustments=tf)
            for c in ("first_name", "last_name")]


def _febrl(postcode: Comparison, ssn: list[int]) -> list[Comparison]:
    """The comparisons of Splink's FEBRL examples, on famlink's standardized columns."""
    return [*_names(tf=True), cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("ssn", ssn),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            postcode.configure(term_frequency_adjustments=True)]


@dataclass(frozen=True)
class Profile:
    """One documented set-up: what it compares, and how it trains and clusters."""

    comparisons: Callable[[], list[Comparison]]
    prior_rules: list[Rule]
    prior_recall: float
    em_rules: list[Rule]
    # the FEBRL examples train m without term frequencies, as their documentation says
    em_without_tf: bool = False
    cluster_threshold: float = 0.95
    # the example's own blocking rules, on the same columns (--own-blocking), where it has them
    blocking: list[Rule] | None = None


PROFILES: dict[str, Profile] = {
    "population": Profile(
        comparisons=lambda: [*_names(tf=False),
                             cl.DateOfBirthComparison("dob", input_is_string=True),
                             cl.LevenshteinAtThresholds("ssn", [1, 2]), cl.ExactMatch("sex"),
                             cl.ExactMatch("zip5"), cl.ExactMatch("address")],
        prior_rules=[block_on("ssn", "dob"), block_on("first_name", "last_name", "dob")],
        prior_recall=0.7,
        em_rules=[block_on("first_name", "last_name"), block_on("dob")]),
    "febrl4": Profile(
        comparisons=lambda: _febrl(cl.DamerauLevenshteinAtThresholds("zip5", [1, 2]), [1, 2]),
        prior_rules=[block_on("ssn"), block_on("first_name", "last_name", "dob")],
        prior_recall=0.8,
        em_rules=[block_on("dob"), block_on("zip5")], em_without_tf=True,
        cluster_threshold=0.5,
        # FEBRL's state + street and street number + street: famlink's address line (street
        # with its number, and the postcode)
        blocking=[block_on("first_name", "last_name"), SWAPPED_NAMES, block_on("dob"),
                  block_on("ssn"), block_on("address"), block_on("zip5")]),
    "febrl3": Profile(
        comparisons=lambda: _febrl(cl.ExactMatch("zip5"), [2]),
        prior_rules=[block_on("ssn"), block_on("first_name", "last_name", "dob"),
                     f"{SWAPPED_NAMES} AND l.dob = r.dob"],
        prior_recall=0.9,
        em_rules=[block_on("dob"), block_on("zip5")],
        cluster_threshold=0.5,
        blocking=[block_on("ssn"), block_on("first_name"), block_on("last_name"),
                  block_on("dob"), block_on("zip5")]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--blocking", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--link-type", default="dedupe_only",
                        choices=["dedupe_only", "link_only", "link_and_dedupe"])
    parser.add_argument("--profile", default="population", choices=sorted(PROFILES))
    parser.add_argument("--threshold", type=float, default=None,
                        help="cluster at this match probability (default: the profile's)")
    parser.add_argument("--own-blocking", action="store_true",
                        help="the example's own blocking rules instead of --blocking's")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    if args.own_blocking and profile.blocking is None:
        parser.error(f"--own-blocking: profile {args.profile} documents no blocking rules")
    threshold = profile.cluster_threshold if args.threshold is None else args.threshold
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f} s  {message}", file=sys.stderr)

    rules = json.loads(args.blocking.read_text())
    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT record_id AS unique_id, * EXCLUDE (record_id) "
                f"FROM read_parquet('{args.records}')")
    db = DuckDBAPI(connection=con)
    tables = ["records"]
    if args.link_type != "dedupe_only":
        systems = [row[0] for row in con.execute(
            "SELECT DISTINCT system FROM records ORDER BY 1").fetchall()]
        tables = [f"records_{i}" for i in range(len(systems))]
        for table, system in zip(tables, systems, strict=True):
            con.execute(f"CREATE TABLE {table} AS FROM records WHERE system = ?", [system])
    settings = SettingsCreator(
        link_type=args.link_type,
        comparisons=profile.comparisons(),
        blocking_rules_to_generate_predictions=(
            profile.blocking if args.own_blocking else [block_on(*rule) for rule in rules]),
    )
    linker = Linker([db.register(table) for table in tables], settings)
    linker.training.estimate_probability_two_random_records_match(
        profile.prior_rules, recall=profile.prior_recall)
    say("prior estimated")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=1)
    say("u estimated")
    for rule in profile.em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=profile.em_without_tf)
    say(f"m estimated (EM on {len(profile.em_rules)} blocking rules)")
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    say("predicted")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold)
    con.execute(f"COPY (SELECT unique_id AS record_id, cluster_id::VARCHAR AS cluster_id "
                f"FROM {clusters.physical_name}) TO '{args.out}' (FORMAT parquet)")
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    say("clustered")
    print(json.dumps({"pairs_above_0.5": pairs, "profile": args.profile,
                      "cluster_threshold": threshold}))


if __name__ == "__main__":
    main()
