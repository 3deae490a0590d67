"""famlink at growing sizes on one machine: time and peak memory per step, and their slopes.

    python benchmarks/scale.py --records 1000000 3000000 10000000 [--memory-limit 6GB]
    python benchmarks/scale.py --records 1000000 --engine spark

For each size: a person list from the independent generator (benchmarks/datasets/
independent.py, written without reading famlink; three Parquet lists through their source
YAMLs), then ingest, link, and families and lists, each in a fresh process timed and measured
for peak memory (of the process and all it starts: Spark's JVM and Python workers), with the
shipped configs but for two settings given here: `--memory-limit` (the steps'
`resources.memory_limit`; the shipped `auto` lets DuckDB take 80% of the machine) and
`--engine` (the link step's `engine.name`; Spark runs in local mode on this machine's cores).
Each size's list comes from seed 1: every run and engine gets the same list. Accuracy
(pairwise and cluster F1 against the list's truth) shows whether a larger list links as well.
Writes benchmarks/results/scale.json (or scale-<engine>.json): the settings, the sizes, each
step's seconds and peak MB, and the growth of time and memory from one size to the next
against the growth of the data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
# benchmarks/linkage.py bears the name of the package: import from the project root instead
# of from beside this file, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(HERE.parent)

from benchmarks.datasets import TRUTH_FILE, truth_accuracy  # noqa: E402
from benchmarks.measure import child, write_result  # noqa: E402
from linkage.link.settings import LINKAGE_CONFIG  # noqa: E402

# one step on the warehouse argv[1], with the linkage config argv[3] (its resources, engine)
_STEP = """
import sys
from pathlib import Path
from linkage.pipeline import families_step, ingest_step, link_step
db, step, config = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
if step == "ingest":
    data = Path(sys.argv[4])
    ingest_step(db, data, data / "sources", linkage_config=config)
elif step == "link":
    link_step(db, config, reports=db.parent / "reports")
else:
    families_step(db, linkage_config=config)
"""


def settings(memory_limit: str, engine: str, work: Path) -> Path:
    """configs/linkage.yaml with this run's memory limit and engine."""
    config = yaml.safe_load(LINKAGE_CONFIG.read_text())
    config["resources"]["memory_limit"] = memory_limit
    config["engine"]["name"] = engine
    path = work / "linkage.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def splink(db: Path, work: Path, truth: Path) -> dict:
    """Splink 5 on the same standardized records and candidate pairs (benchmarks/linkage.py's
    peer, as its documentation sets up person lists): seconds, peak MB, F1."""
    import duckdb

    from benchmarks.linkage import HERE as BENCHMARKS
    from benchmarks.linkage import export_for_peers

    records, blocking, _ = export_for_peers(db, work)
    clusters = work / "splink.parquet"
    seconds, peak, _ = child(str(BENCHMARKS / "peers" / "splink_peer.py"), "--records",
                             str(records), "--blocking", str(blocking), "--out", str(clusters),
                             "--link-type", "dedupe_only", "--profile", "population")
    con = duckdb.connect()
    accuracy = truth_accuracy(con, f"(SELECT record_id, cluster_id AS person_id "
                                   f"FROM read_parquet('{clusters}'))", truth)
    con.close()
    return {"seconds": round(seconds, 1), "peak_mb": peak, "f1": accuracy["f1"],
            "pairwise_f1": accuracy["pairwise_f1"]}


def measure(records: int, work: Path, config: Path, with_splink: bool) -> dict:
    from benchmarks.datasets import independent

    data = work / "data"
    independent.write(data, records, seed=1)
    db = work / "famlink.duckdb"
    steps = {}
    for name in ("ingest", "link", "families"):
        seconds, peak, _ = child(_STEP, str(db), name, str(config), str(data))
        steps[name] = {"seconds": round(seconds, 1), "peak_mb": peak}
        print(f"{records:,} records: {name} {seconds:.1f} s, {peak:,} MB", file=sys.stderr)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    accuracy = truth_accuracy(con, "linked.persons", data / TRUTH_FILE)
    con.close()
    result = {"records": records, "steps": steps,
              "seconds": round(sum(s["seconds"] for s in steps.values()), 1),
              "peak_mb": max(s["peak_mb"] for s in steps.values()),
              "f1": accuracy["f1"], "pairwise_f1": accuracy["pairwise_f1"]}
    if with_splink:
        result["splink"] = splink(db, work, data / TRUTH_FILE)
        print(f"{records:,} records: splink {result['splink']}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--memory-limit", default="auto",
                        help="resources.memory_limit for every step (default: auto)")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--splink", action="store_true",
                        help="also Splink 5 on each size's records, in the same run "
                             "(pip install -e '.[peers]'); writes scale-splink.json")
    args = parser.parse_args()
    sizes = []
    for records in sorted(args.records):
        with tempfile.TemporaryDirectory(prefix="famlink-scale-") as tmp:
            config = settings(args.memory_limit, args.engine, Path(tmp))
            sizes.append(measure(records, Path(tmp), config, args.splink))
    growth = [{"from": a["records"], "to": b["records"],
               "data_x": round(b["records"] / a["records"], 2),
               "time_x": round(b["seconds"] / a["seconds"], 2),
               "memory_x": round(b["peak_mb"] / a["peak_mb"], 2)}
              for a, b in zip(sizes, sizes[1:], strict=False)]
    name = "-".join(["scale"] + ([args.engine] if args.engine != "duckdb" else [])
                    + (["splink"] if args.splink else []))
    write_result(name, {"benchmark": "scale", "measured": date.today().isoformat(),
                        "engine": args.engine, "memory_limit": args.memory_limit,
                        "machine": {"cpus": os.cpu_count()}, "sizes": sizes,
                        "growth": growth})


if __name__ == "__main__":
    main()
