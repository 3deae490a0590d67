"""famlink at growing sizes on one machine: time and peak memory per step, and their slopes.

    python benchmarks/scale.py --records 1000000 3000000 [10000000]

For each size: a person list from the independent generator (benchmarks/datasets/
independent.py, written without reading famlink; three Parquet lists through their source
YAMLs), then ingest, link and families and lists, each in a fresh process timed and measured
for peak memory, with the shipped configs (memory: `resources.memory_limit: auto`). Accuracy
(pairwise and cluster F1 against the list's truth) shows whether a larger list links as well.
Writes benchmarks/results/scale.json: the sizes, each step's seconds and peak MB, and the
growth of time and memory from one size to the next against the growth of the data.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# benchmarks/linkage.py bears the name of the package: import from the project root instead
# of from beside this file, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(HERE.parent)

from benchmarks.datasets import TRUTH_FILE, truth_accuracy  # noqa: E402
from benchmarks.measure import INGEST, child, write_result  # noqa: E402

_STEP = """
import sys
from pathlib import Path
from linkage.pipeline import families_step, link_step
db = Path(sys.argv[1])
if sys.argv[2] == "link":
    link_step(db, reports=db.parent / "reports")
else:
    families_step(db)
"""


def measure(records: int, work: Path) -> dict:
    from benchmarks.datasets import independent

    data = work / "data"
    independent.write(data, records, seed=1)
    db = work / "famlink.duckdb"
    steps = {}
    for name, code, args in (("ingest", INGEST, [str(data), str(data / "sources")]),
                             ("link", _STEP, ["link"]), ("families", _STEP, ["families"])):
        seconds, peak, _ = child(code, str(db), *args)
        steps[name] = {"seconds": round(seconds, 1), "peak_mb": peak}
        print(f"{records:,} records: {name} {seconds:.1f} s, {peak:,} MB", file=sys.stderr)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    accuracy = truth_accuracy(con, "linked.persons", data / TRUTH_FILE)
    con.close()
    return {"records": records, "steps": steps,
            "seconds": round(sum(s["seconds"] for s in steps.values()), 1),
            "peak_mb": max(s["peak_mb"] for s in steps.values()),
            "f1": accuracy["f1"], "pairwise_f1": accuracy["pairwise_f1"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000, 3_000_000])
    args = parser.parse_args()
    sizes = []
    for records in sorted(args.records):
        with tempfile.TemporaryDirectory(prefix="famlink-scale-") as tmp:
            sizes.append(measure(records, Path(tmp)))
    growth = [{"from": a["records"], "to": b["records"],
               "data_x": round(b["records"] / a["records"], 2),
               "time_x": round(b["seconds"] / a["seconds"], 2),
               "memory_x": round(b["peak_mb"] / a["peak_mb"], 2)}
              for a, b in zip(sizes, sizes[1:], strict=False)]
    write_result("scale", {"benchmark": "scale", "measured": date.today().isoformat(),
                           "engine": "duckdb", "sizes": sizes, "growth": growth})


if __name__ == "__main__":
    main()
