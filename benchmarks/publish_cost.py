"""What publishing whole runs costs: a nightly run's steps, and the share of them that
versioning adds (copying the current version to start from, measuring the gates, the rename).

    python benchmarks/publish_cost.py --persons 1000000 [--data DIR]

Generates a synthetic population (or reuses --data, a folder `famlink synth` wrote), then in
one fresh process runs two nightly runs of one work folder through linkage.pipeline, as the
Prefect flow orders them (the flow adds only Prefect's own start-up): the first builds the first
version, the second starts from a copy of it, as every later night does. The second run is
the one measured. Target (issue 14): versioning under 10% of the nightly run. Writes
benchmarks/results/publish-<persons>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# benchmarks/linkage.py bears the name of the package: import from the project root instead
# of from beside this file, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(HERE.parent)

from benchmarks.measure import child, population, write_result  # noqa: E402

_RUNS = """
import json, sys, time
from pathlib import Path
from linkage.pipeline import building, families_step, finish, ingest_step, link_step
from linkage.publish.settings import load_publish_config

workdir, extracts = Path(sys.argv[1]), Path(sys.argv[2])
config = load_publish_config()
results = []
for _ in range(2):
    seconds = {}
    started = clock = time.perf_counter()

    def lap(name):
        global clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    with building(workdir) as run:
        lap("start (copy of the current version)")
        ingest_step(run.db, extracts)
        lap("ingest")
        link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                  reports=run.reports)
        lap("link")
        families_step(run.db)
        lap("families and lists")
        verdict = finish(run, config)
        lap("gates and publish")
    seconds["total"] = round(time.perf_counter() - started, 2)
    results.append({"published": verdict.published, "seconds": seconds,
                    "version_mb": round(run.db.stat().st_size / 2**20)})
print(json.dumps(results))
"""

VERSIONING = ("start (copy of the current version)", "gates and publish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder `famlink synth` wrote (default: generate one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="famlink-publish-") as tmp:
        work = Path(tmp)
        data = population(args.data, args.persons, work)
        extracts = data / "extracts" if (data / "extracts").is_dir() else data
        wall, peak_mb, out = child(_RUNS, str(work / "workdir"), str(extracts))
    first, second = json.loads(out.splitlines()[-1])
    versioning = sum(second["seconds"][step] for step in VERSIONING)
    write_result(f"publish-{args.persons}", {
        "benchmark": "publish_cost", "measured": date.today().isoformat(),
        "persons": args.persons, "peak_mb": peak_mb, "first_run": first,
        "second_run": second,
        "versioning_seconds": round(versioning, 2),
        "versioning_share_of_the_nightly_run": round(versioning / second["seconds"]["total"],
                                                     4),
        "target_share": 0.10})


if __name__ == "__main__":
    main()
