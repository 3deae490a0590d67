"""Generator speed and memory: persons per second and peak resident memory, at one or more sizes.

Each size runs in a fresh child process so its peak memory is its own. Prints a table and writes
benchmarks/results/synth_speed.json. Targets (issue 2): 1M persons in under 5 minutes with peak
memory under 2 GB on the 2-core machine, and 3M persons without running out of memory.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "synth_speed.json"

_CHILD = """
import sys, time
from pathlib import Path
from synthetic_data.generate import synthesize
summary = synthesize(int(sys.argv[1]), 1, Path(sys.argv[2]))
print(summary.seconds)
"""


def measure(persons: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        done = subprocess.run([sys.executable, "-c", _CHILD, str(persons), out],
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    generate_s = float(done.stdout.strip().splitlines()[-1])
    return {
        "persons": persons,
        "wall_seconds": round(wall, 1),
        "generate_seconds": round(generate_s, 1),
        "persons_per_second": round(persons / generate_s),
        # ru_maxrss of children is the largest child so far: sizes run in increasing order.
        "peak_rss_mb": round(max(peak_kb, before) / 1024),
        "output_mb": round(size / 2**20),
    }


def _previous_runs() -> list[dict]:
    try:
        return json.loads(RESULTS.read_text())["runs"]
    except (FileNotFoundError, KeyError, ValueError):
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    rows = [measure(n) for n in sorted(args.persons)]
    print(f"{'persons':>10} {'seconds':>8} {'persons/s':>10} {'peak MB':>8} {'output MB':>9}")
    for r in rows:
        print(f"{r['persons']:>10,} {r['generate_seconds']:>8} {r['persons_per_second']:>10,} "
              f"{r['peak_rss_mb']:>8} {r['output_mb']:>9}")
    # Sizes measured in earlier runs are kept (each run says when it was measured).
    measured = time.strftime("%Y-%m-%d")
    runs = {r["persons"]: r for r in _previous_runs()}
    runs.update({r["persons"]: {**r, "measured": measured} for r in rows})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "synth_speed", "machine": {"cpus": 2, "python": platform.python_version()},
        "runs": [runs[n] for n in sorted(runs)]}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
