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
config = load_marts_config()
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
    args = parser.parse_args()
    import duckdb

    from linkage.evaluate import evaluate_families

    with tempfile.TemporaryDirectory() as tmp:
        data = population(args.data, args.persons, Path(tmp))
        db = Path(tmp) / "famlink.duckdb"
        child(INGEST, str(db), str(data))
        _, _, records = child(_LINK, str(db))
        seconds, peak, out = child(_BUILD, str(db))
        built = json.loads(out.splitlines()[-1])
        con = duckdb.connect(str(db))
        accuracy = evaluate_families(con, data / "truth")
        con.close()
    result = {"benchmark": "families_speed", "measured": date.today().isoformat(),
              "persons": args.persons, "records": int(records.splitlines()[-1]),
              "seconds_in_process": round(seconds, 1),
              "seconds_families_and_marts": round(built["families_seconds"]
                                                  + built["marts_seconds"], 1),
              "peak_mb": peak, **built, "accuracy": accuracy}
    write_result(f"families-{args.persons}", result)


if __name__ == "__main__":
    main()
