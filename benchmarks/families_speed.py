"""Families and marts at scale: build time, peak memory and accuracy against the truth.

    python benchmarks/families_speed.py --persons 1000000 [--data DIR] [--engines duckdb spark]

Generates a synthetic population (or reuses --data, a folder `famlink synth` wrote), ingests
and links it (not timed), then times the families step (families and every list) in a fresh
process on each engine (configs/linkage.yaml's `engine`; Spark in local mode, each on its own
copy of the linked warehouse) and scores families and the marts against the generator's
truth. With two engines it also counts the rows of every families and marts table that differ
between them (benchmarks/compare.py). Target (issue 5): under 30 s at ~1M source records.
Writes benchmarks/results/families-<persons>.json (-<engines> when not DuckDB alone).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# benchmarks/linkage.py bears the name of the package: import from the project root instead
# of from beside this file, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(HERE.parent)

from benchmarks.measure import INGEST, child, population, write_result  # noqa: E402

_LINK = """
import sys
from pathlib import Path
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.warehouse import connect
db = Path(sys.argv[1])
con = connect(db)
link(con, db, load_linkage_config())
print(con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0])
"""

_BUILD = """
import json, sys, time
from pathlib import Path
from linkage.pipeline import families_step
marks = [("start", time.perf_counter())]
summary = families_step(Path(sys.argv[1]), sys.argv[3] if len(sys.argv) > 3 else None,
                        progress=lambda what: marks.append((what, time.perf_counter())),
                        linkage_config=Path(sys.argv[2]))
marks.append(("done", time.perf_counter()))
print(json.dumps({"families": summary.families, "marts": summary.marts,
                  "stages": {a[0]: round(b[1] - a[1], 2) for a, b in zip(marks, marks[1:])}}))
"""


def engine_config(engine: str, work: Path) -> Path:
    """configs/linkage.yaml with `engine.name` set (Spark: local mode on every core)."""
    import yaml

    from linkage.link.settings import LINKAGE_CONFIG

    config = yaml.safe_load(LINKAGE_CONFIG.read_text())
    config["engine"]["name"] = engine
    path = work / f"linkage-{engine}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--engines", nargs="+", choices=["duckdb", "spark"],
                        default=["duckdb"], help="engines to build on, each in turn")
    parser.add_argument("--alert-days", type=int, default=None,
                        help="a first run's alert window (configs/marts.yaml's "
                             "alerts.first_run_days, 30): wider, so that every kind of alert "
                             "has events to score at this size")
    args = parser.parse_args()
    import duckdb

    from linkage.evaluate import evaluate_families
    from linkage.families.settings import load_marts_config

    with tempfile.TemporaryDirectory() as tmp:
        data = population(args.data, args.persons, Path(tmp))
        db = Path(tmp) / "famlink.duckdb"
        child(INGEST, str(db), str(data))
        _, _, records = child(_LINK, str(db))
        marts = []
        if args.alert_days is not None:
            import yaml

            from linkage.families.settings import MARTS_CONFIG

            settings = yaml.safe_load(MARTS_CONFIG.read_text())
            # alerts stay listed `keep_days`: as long as the window, or it would cut it
            settings["alerts"]["first_run_days"] = args.alert_days
            settings["alerts"]["keep_days"] = args.alert_days
            marts = [str(Path(tmp) / "marts.yaml")]
            Path(marts[0]).write_text(yaml.safe_dump(settings))
        runs = {}
        for engine in args.engines:
            copy = Path(tmp) / engine / "famlink.duckdb"
            copy.parent.mkdir()
            shutil.copy(db, copy)
            seconds, peak, out = child(_BUILD, str(copy), str(engine_config(engine, Path(tmp))),
                                       *marts)
            built = json.loads(out.splitlines()[-1])
            con = duckdb.connect(str(copy), read_only=True)
            accuracy = evaluate_families(con, data / "truth",
                                         load_marts_config(marts[0]) if marts else None)
            con.close()
            runs[engine] = {"seconds_in_process": round(seconds, 1),
                            "seconds_families_and_marts": round(sum(
                                built["stages"].values()), 1),
                            "peak_mb": peak, **built, "accuracy": accuracy}
            print(f"{engine}: {seconds:.1f} s, {peak:,} MB", file=sys.stderr)
        if len(runs) > 1:
            from benchmarks.compare import differences

            first, *others = args.engines
            for other in others:
                found = differences(Path(tmp) / first / "famlink.duckdb",
                                    Path(tmp) / other / "famlink.duckdb", "families", "marts")
                runs[other]["rows_differing_from_" + first] = {
                    table: counts["differ"] for table, counts in found.items()}
                runs[other]["rows_compared"] = sum(c["rows"] for c in found.values())
    result = {"benchmark": "families_speed", "measured": date.today().isoformat(),
              "persons": args.persons, "records": int(records.splitlines()[-1]),
              "alert_window_days": args.alert_days or "configured (30)",
              **(runs["duckdb"] if args.engines == ["duckdb"] else {"engines": runs})}
    name = f"families-{args.persons}"
    write_result(name if args.engines == ["duckdb"] else f"{name}-{'-'.join(args.engines)}",
                 result)


if __name__ == "__main__":
    main()
