"""Ingest + standardize speed against DuckDB's own floor, and peak memory.

Generates a synthetic population (or reuses --data), then in separate child processes:
(1) the floor: DuckDB reading every extract file into a table, all columns as text, and
(2) `famlink ingest` of the same files into a fresh warehouse. Prints rows per second, the ratio
ingest / floor and each step's peak memory; writes benchmarks/results/ingest_speed.json.
Targets (issue 3): ingest within 2x the floor, peak memory under 2 GB, at 1M persons.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from measure import INGEST, READ_EVERY_FILE, child, population, write_result

_FLOOR = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[2])
con.execute('SET enable_progress_bar = false')
""" + READ_EVERY_FILE + """print(rows)
"""

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None,
                        help="reuse a folder written by `famlink synth` instead of generating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = population(args.data, args.persons, Path(tmp))
        extracts = data / "extracts"
        size = sum(p.stat().st_size for p in extracts.rglob("*") if p.is_file())
        floor_s, floor_mb, floor_rows = child(_FLOOR, str(extracts), str(Path(tmp) / "f.db"))
        ingest_s, ingest_mb, out = child(INGEST, str(Path(tmp) / "w.duckdb"), str(data))
    rows, rejected = (int(x) for x in out.splitlines()[-1].split())
    result = {
        "benchmark": "ingest_speed", "persons": args.persons, "extract_mb": round(size / 2**20),
        "rows_read": rows, "rows_rejected": rejected,
        "floor_seconds": round(floor_s, 1), "floor_rows": int(floor_rows),
        "floor_peak_mb": floor_mb,
        "ingest_seconds": round(ingest_s, 1), "ingest_rows_per_second": round(rows / ingest_s),
        "ingest_peak_mb": ingest_mb, "ratio_ingest_to_floor": round(ingest_s / floor_s, 2),
    }
    write_result("ingest_speed", result)


if __name__ == "__main__":
    main()
