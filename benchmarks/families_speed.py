"""Families and marts at scale: build time, peak memory and accuracy against the truth.

    python benchmarks/families_speed.py --persons 1000000 [--data DIR]

Generates a synthetic population (or reuses --data, a folder `famlink synth` wrote), ingests
and links it (not timed), then times `build_families` + `build_marts` in a fresh process and
scores families and the four marts against the generator's truth. Target (issue 5): under
30 s at ~1M source records. Writes benchmarks/results/families-<persons>.json.
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
from linkage.families.build import build_families
from linkage.families.settings import load_marts_config
from linkage.marts.build import build_marts
from linkage.warehouse import connect
con = connect(Path(sys.argv[1]))
config = load_marts_config(sys.argv[2] if len(sys.argv) > 2 else None)
started = time.perf_counter()
families = build_families(con, config)
middle = time.perf_counter()
marts = build_marts(con, config)
done = time.perf_counter()
print(json.dumps({"families": families, "marts": marts,
                  "families_seconds": round(middle - started, 2),
                  "marts_seconds": round(done - middle, 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
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
        seconds, peak, out = child(_BUILD, str(db), *marts)
        built = json.loads(out.splitlines()[-1])
        con = duckdb.connect(str(db))
        accuracy = evaluate_families(con, data / "truth",
                                     load_marts_config(marts[0]) if marts else None)
        con.close()
    result = {"benchmark": "families_speed", "measured": date.today().isoformat(),
              "persons": args.persons, "records": int(records.splitlines()[-1]),
              "seconds_in_process": round(seconds, 1),
              "seconds_families_and_marts": round(built["families_seconds"]
                                                  + built["marts_seconds"], 1),
              "peak_mb": peak, "alert_window_days": args.alert_days or "configured (30)",
              **built, "accuracy": accuracy}
    write_result(f"families-{args.persons}", result)


if __name__ == "__main__":
    main()
