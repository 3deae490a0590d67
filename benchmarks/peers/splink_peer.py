"""The Splink peer: Splink 5 on DuckDB set up as its documentation recommends, given the same
standardized records and blocking rules as famlink.

NameComparison on first and last name, DateOfBirthComparison, exact-or-fuzzy SSN, exact sex,
ZIP and address; the match prior from deterministic rules, u by random sampling, m by EM on
two blocking rules; predictions on the shared blocking rules; connected components at 0.95.

    python benchmarks/peers/splink_peer.py --records R.parquet --blocking B.json --out C.parquet
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

CLUSTER_THRESHOLD = 0.95
U_SAMPLE_PAIRS = 1e7  # the documentation's suggestion for a large data set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--blocking", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"{time.perf_counter() - started:7.1f} s  {message}", file=sys.stderr)

    rules = json.loads(args.blocking.read_text())
    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT record_id AS unique_id, * EXCLUDE (record_id) "
                f"FROM read_parquet('{args.records}')")
    db = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("ssn", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("zip5"),
            cl.ExactMatch("address"),
        ],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in rules],
    )
    linker = Linker(db.register("records"), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("ssn", "dob"), block_on("first_name", "last_name", "dob")], recall=0.7)
    say("prior estimated")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=1)
    say("u estimated")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    say("m estimated (EM on two blocking rules)")
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    say("predicted")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, CLUSTER_THRESHOLD)
    con.execute(f"COPY (SELECT unique_id AS record_id, cluster_id::VARCHAR AS cluster_id "
                f"FROM {clusters.physical_name}) TO '{args.out}' (FORMAT parquet)")
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    say("clustered")
    print(json.dumps({"pairs_above_0.5": pairs}))


if __name__ == "__main__":
    main()
