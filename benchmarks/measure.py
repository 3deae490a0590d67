"""What every benchmark shares: run work in a fresh child process and measure it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _status_kb(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status (VmRSS, VmHWM) in KB, 0 once it has ended."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(root: int) -> set[int]:
    """Process `root` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


# Runs a benchmark's code (argv[1]: a script path, or the code itself) in this interpreter
# and, when it ends, writes its own high-water mark of resident memory (VmHWM: since exec,
# so not the parent's memory it was forked from) to the file named by FAMLINK_BENCH_HWM.
_REPORTING = """
import atexit, os, runpy, sys
def _report():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            with open(os.environ['FAMLINK_BENCH_HWM'], 'w') as out:
                out.write(line.split()[1])
atexit.register(_report)
target = sys.argv[1]
if target.endswith('.py'):
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(target))
    runpy.run_path(target, run_name='__main__')
else:
    sys.argv = ['-c'] + sys.argv[2:]
    exec(compile(target, '<string>', 'exec'), {'__name__': '__main__'})
"""


def child(code: str, *args: str, python: str = sys.executable) -> tuple[float, int, str]:
    """Run `code` (or, when it ends in .py, that script) in a fresh interpreter:
    (seconds, peak resident memory in MB, its stdout). Its stderr passes through (progress).

    The peak is the larger of the process's own high-water mark (VmHWM since it started the
    interpreter, which it reports as it ends) and the resident memory of it and everything it
    starts (the Spark engine's JVM and Python workers), sampled every 0.1 s. Not the kernel's
    ru_maxrss: that counts the parent's memory the child was forked from (a benchmark holding
    ten million generated records made every step look 6.5 GB)."""
    command = [python, "-c", _REPORTING, code, *args]
    started = time.perf_counter()
    peak = [0]
    done = threading.Event()
    with tempfile.NamedTemporaryFile(prefix="famlink-hwm-") as hwm:
        # from the project root, so that `-c` code imports the packages, not a file beside it
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                cwd=Path(__file__).resolve().parents[1],
                                env={**os.environ, "FAMLINK_BENCH_HWM": hwm.name})

        def sample() -> None:
            while True:
                tree = sum(_status_kb(pid, "VmRSS") for pid in _tree(proc.pid))
                peak[0] = max(peak[0], tree)
                if done.wait(0.1):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = proc.stdout.read() if proc.stdout else ""
        proc.wait()
        done.set()
        sampler.join()
        reported = Path(hwm.name).read_text().strip()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {code[:60]!r}\n{out}")
    return seconds, round(max(peak[0], int(reported or 0)) / 1024), out.strip()


RESULTS = Path(__file__).resolve().parent / "results"


# `famlink ingest` of argv[2] (a folder `famlink synth` wrote) into the warehouse argv[1], with
# the source configs of folder argv[3] when given (else configs/sources/); prints the rows read
# and rejected
INGEST = """
import sys
from pathlib import Path
from linkage.ingest.run import ingest
from linkage.warehouse import connect
sources = Path(sys.argv[3]) if len(sys.argv) > 3 else None
summaries = ingest(connect(sys.argv[1]), Path(sys.argv[2]), sources)
print(sum(s.read for s in summaries), sum(s.rejected for s in summaries))
"""

# DuckDB reading every extract file below argv[1] into a table of its own, all text, on `con`
# (the ingest's floor): counts the rows into `rows`
READ_EVERY_FILE = """rows = 0
for i, path in enumerate(sorted(Path(sys.argv[1]).rglob('*'))):
    if path.suffix == '.csv':
        src = f"read_csv('{path}', all_varchar=true, header=true)"
    elif path.suffix == '.txt':
        src = (f"read_csv('{path}', header=false, columns={{'text': 'VARCHAR'}}, "
               "delim='\\x01', quote='', escape='')")
    else:
        continue
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {src}")
    rows += con.execute(f"SELECT count(*) FROM t{i}").fetchall()[0][0]
"""

_SYNTHESIZE = """
import sys
from pathlib import Path
from synthetic_data.generate import synthesize
synthesize(int(sys.argv[1]), 1, Path(sys.argv[2]))
"""


def population(given: Path | None, persons: int, work: Path) -> Path:
    """The folder a benchmark measures: `--data` when given, else a population of `persons`
    generated into `work` in a fresh interpreter (so the caller's memory figure is not the
    generator's)."""
    if given is not None:
        return given
    child(_SYNTHESIZE, str(persons), str(work / "data"))
    return work / "data"


def write_result(name: str, result: dict) -> Path:
    """Print a benchmark's result and keep it as results/<name>.json."""
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return path
