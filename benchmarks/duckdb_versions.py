"""DuckDB 2.0 against 1.4 (the long-term-support line) for famlink, and the cost of encryption
at rest (issue 15, item 7), measured in one run on the same data.

    python benchmarks/duckdb_versions.py [--python /path/to/venv-duckdb14/bin/python]
                                         [--persons 300000] [--records 100000] [--repeats 3]

Each DuckDB version is a Python interpreter with famlink installed: this one (the project's
venv, DuckDB 2.0.x) and --python (default /work/venv-duckdb14/bin/python: `python -m venv`,
`pip install -e .[dev]`, `pip install duckdb==1.4.4 duckdb-ext-httpfs duckdb-ext-excel`). Every
measurement is a fresh child process; the versions alternate, their order flipped each repeat,
and each figure is the median of the repeats:

- what works: writing and reading an encrypted database with and without httpfs, the
  extension files the duckdb-ext-* PyPI packages ship, readers side by side on an encrypted
  file, COPY ... TO .xlsx, and whether one version opens the other's files;
- ingest: `ingest` of a synthetic population (as benchmarks/ingest_speed.py), with DuckDB's
  own reading of the same files (its floor);
- link: `link` with training from scratch on `benchmarks/datasets/independent` person lists
  (as benchmarks/linkage.py --dataset independent), with accuracy (it must not change) and
  the DuckDB floor (blocking join and comparison functions);
- encryption (1.4 only): the same ingest and link on an encrypted warehouse, and a reader
  scanning every table, with httpfs (OpenSSL) and without (DuckDB's built-in read-only
  MbedTLS);
- tests: `pytest tests/test_link.py tests/test_ingest.py` on each version, on 1.4 also with
  the SQL shim below and with every warehouse encrypted.

famlink's files are not changed. Where famlink's SQL does not parse on 1.4, the children load
a shim (written to the work folder, `_duckdb_compat`) that patches it in memory; with a key it
also replaces `linkage.warehouse.connect` by the encrypted variant `connect()` would need.
Writes benchmarks/results/duckdb_versions.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# beside this file is benchmarks/linkage.py: import the `linkage` package from the root instead
if str(HERE) in sys.path:
    sys.path[sys.path.index(str(HERE))] = str(ROOT)

from benchmarks.measure import (  # noqa: E402
    READ_EVERY_FILE,
    RESULTS,
    child,
    population,
    write_result,
)

DEFAULT_OTHER = Path("/work/venv-duckdb14/bin/python")
KEY = "famlink-benchmark-key-not-a-secret"  # a test key; the data are synthetic

# The shim every child imports first (see the module docstring). Kept here as text so that the
# run needs nothing outside this file; written to the work folder as _duckdb_compat.py.
COMPAT = '''
import importlib.util
import os
from pathlib import Path

import duckdb

V1 = duckdb.__version__.startswith("1.")
APPLIED = []

# DuckDB 1.4: a macro parameter's default must be a constant (`today := current_date` is a
# Parser Error); take NULL and fall back to current_date in the body.
if V1 and os.environ.get("FAMLINK_BENCH_SHIM") == "1":
    import linkage.standardize.dob as _dob

    _OLD = "std_dob(raw, quality, today := current_date) AS"
    if any(_OLD in s for s in _dob.MACROS):
        _dob.MACROS = tuple(
            s.replace(_OLD, "std_dob(raw, quality, today := NULL) AS\\n"
                      "    list_transform([coalesce(today, current_date)], lambda today:")
            .rstrip() + ")[1]" if _OLD in s else s for s in _dob.MACROS)
        APPLIED.append("std_dob: today := NULL, coalesce(today, current_date)")


def extension_directory():
    """Where the duckdb-ext-* PyPI packages put their files, in DuckDB's own extension directory
    layout (<dir>/v1.4.4/linux_amd64/httpfs.duckdb_extension): with extension_directory set to
    it, `LOAD httpfs` (and autoloading) finds them, offline."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(list(spec.submodule_search_locations)[0]) / "extensions")


class EncryptedWarehouse:
    """A connection whose default database is the ATTACHed encrypted file. `USE` holds for one
    connection only: each cursor (famlink's ingest reads each source on one) needs it too."""

    ALIAS = "warehouse"

    def __init__(self, con):
        self._con = con

    def cursor(self):
        cur = self._con.cursor()
        cur.execute(f"USE {self.ALIAS}")
        return cur

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._con.close()


def connect_encrypted(path, key, read_only=False, load_httpfs=True):
    """What linkage.warehouse.connect would do with a key: an in-memory main database, httpfs
    loaded (writing needs it, reading does not), the file ATTACHed with ENCRYPTION_KEY, USE."""
    from linkage.warehouse import LAYERS, literal

    path = Path(path)
    config = {"autoinstall_known_extensions": False}
    if extension_directory():
        config["extension_directory"] = extension_directory()
    con = duckdb.connect(config=config)
    if load_httpfs:
        con.execute("LOAD httpfs")
    # spill beside the file, as DuckDB does for a file it opens (in memory: ./.tmp), and
    # encrypted: on 1.4.4 temp_file_encryption is off even with an encrypted database attached
    con.execute(f"SET temp_directory = {literal(str(path) + '.tmp')}")
    con.execute("SET temp_file_encryption = true")
    options = f"ENCRYPTION_KEY {literal(key)}" + (", READ_ONLY" if read_only else "")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"ATTACH {literal(str(path))} AS {EncryptedWarehouse.ALIAS} ({options})")
    con.execute(f"USE {EncryptedWarehouse.ALIAS}")
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        for layer in LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
    return EncryptedWarehouse(con)


# FAMLINK_BENCH_STORAGE: famlink's own connect, its files in that storage format (DuckDB 1.4
# writes v1.0 files unless told; an encrypted file is always v1.4: the plain baseline of the
# encryption cost should be too)
if os.environ.get("FAMLINK_BENCH_STORAGE"):
    import linkage.warehouse as _warehouse

    class _DuckDB:
        def __getattr__(self, name):
            return getattr(duckdb, name)

        @staticmethod
        def connect(*args, **kwargs):
            config = {"storage_compatibility_version": os.environ["FAMLINK_BENCH_STORAGE"]}
            return duckdb.connect(*args, config=config, **kwargs)

    _warehouse.duckdb = _DuckDB()
    APPLIED.append("linkage.warehouse.connect: storage " + os.environ["FAMLINK_BENCH_STORAGE"])


# With a key, every connect famlink makes opens the warehouse encrypted; replaced before
# famlink's other modules import it (`from linkage.warehouse import connect`).
if os.environ.get("FAMLINK_BENCH_KEY"):
    import linkage.warehouse as _warehouse

    def _connect(path, read_only=False):
        return connect_encrypted(path, os.environ["FAMLINK_BENCH_KEY"], read_only,
                                 os.environ.get("FAMLINK_BENCH_HTTPFS", "1") == "1")

    _warehouse.connect = _connect
    APPLIED.append("linkage.warehouse.connect: encrypted (ATTACH ... ENCRYPTION_KEY, USE)")
'''

_PRELUDE = """
import json, sys, time
from pathlib import Path
import _duckdb_compat

def cpu():  # CPU seconds of the whole process, every DuckDB thread included
    return time.process_time()
"""

# What each version can do: encryption, the extension files, readers, XLSX, files of the other
# version. argv[1]: a scratch folder; argv[2]: a database file the other version wrote (or '-').
_PROBE = _PRELUDE + r"""
import subprocess, duckdb
from _duckdb_compat import extension_directory
out = {"duckdb": duckdb.__version__, "extension_directory": extension_directory()}
d = Path(sys.argv[1]); d.mkdir(parents=True, exist_ok=True)
ext = extension_directory()
cfg = {"autoinstall_known_extensions": False, **({"extension_directory": ext} if ext else {})}

def attempt(name, fn):
    try:
        out[name] = {"works": True, "result": fn()}
    except Exception as e:
        out[name] = {"works": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}

def write(path, load, config):
    con = duckdb.connect(config=config)
    if load:
        con.execute("LOAD httpfs")
    con.execute(f"ATTACH '{path}' AS w (ENCRYPTION_KEY 'k1')")
    con.execute("CREATE TABLE w.t AS SELECT range AS id, 'secret-' || range AS s FROM range(10000)")
    con.execute("DETACH w")
    return "written"

def load_seconds(name):
    started = time.perf_counter()
    duckdb.connect(config=cfg).execute(f"LOAD {name}")
    return round(time.perf_counter() - started, 3)

attempt("load_httpfs_seconds", lambda: load_seconds("httpfs"))
attempt("load_excel_seconds", lambda: load_seconds("excel"))
attempt("encrypted_write_without_httpfs", lambda: write(d / "a.duckdb", False,
        {"autoinstall_known_extensions": False, "autoload_known_extensions": False}))
attempt("encrypted_write_httpfs_autoloaded_from_extension_directory",
        lambda: write(d / "b.duckdb", False, cfg))
attempt("encrypted_write_after_load_httpfs", lambda: write(d / "c.duckdb", True, cfg))
enc = d / "c.duckdb"
if enc.exists():
    out["plaintext_in_encrypted_file"] = b"secret-" in enc.read_bytes()

def read(load, key="k1"):
    con = duckdb.connect(config={**cfg, "autoload_known_extensions": load})
    if load:
        con.execute("LOAD httpfs")
    con.execute(f"ATTACH '{enc}' AS w (ENCRYPTION_KEY '{key}', READ_ONLY)")
    return con.execute("SELECT count(*) FROM w.t").fetchall()[0][0]

attempt("encrypted_read_only_without_httpfs", lambda: read(False))
attempt("encrypted_read_wrong_key", lambda: read(True, "wrong"))
attempt("encrypted_open_without_key",
        lambda: duckdb.connect(str(enc), read_only=True).execute("SELECT 1").fetchall())

reader = f'''
import duckdb, sys, time
con = duckdb.connect(config={cfg!r})
con.execute("LOAD httpfs")
con.execute("ATTACH '{enc}' AS w (ENCRYPTION_KEY 'k1'" + sys.argv[1] + ")")
print(con.execute("SELECT count(*) FROM w.t").fetchall()[0][0], flush=True)
time.sleep(2)
'''

def side_by_side(mode_held):
    held = subprocess.Popen([sys.executable, "-c", reader, mode_held],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    held.stdout.readline()
    try:
        return read(True)
    finally:
        held.communicate()

if enc.exists():
    attempt("encrypted_read_only_beside_another_reader", lambda: side_by_side(", READ_ONLY"))
    attempt("encrypted_read_only_beside_a_writer", lambda: side_by_side(""))

def xlsx(load):
    con = duckdb.connect(config={**cfg, "autoload_known_extensions": load})
    if load:
        con.execute("LOAD excel")
    con.execute(f"COPY (SELECT range AS id, 'name ' || range AS name FROM range(1000)) "
                f"TO '{d}/out.xlsx' (FORMAT xlsx, HEADER true)")
    return con.execute(f"SELECT count(*) FROM read_xlsx('{d}/out.xlsx')").fetchall()[0][0]

attempt("xlsx_copy_to_with_excel", lambda: xlsx(True))
attempt("xlsx_copy_to_without_excel", lambda: xlsx(False))
if sys.argv[2] != "-":
    attempt("opens_a_file_the_other_version_wrote", lambda: duckdb.connect(
        sys.argv[2], read_only=True).execute("SELECT count(*) FROM t").fetchall()[0][0])
con = duckdb.connect(str(d / "plain.duckdb"))
con.execute("CREATE OR REPLACE TABLE t AS SELECT range AS id FROM range(10)")
con.close()
print(json.dumps(out))
"""

# famlink's ingest of argv[2] into argv[1] (sources of argv[3] when given), timed inside the
# child from connect to close (close writes the last checkpoint)
_INGEST = _PRELUDE + """
from linkage.ingest.run import ingest
from linkage.warehouse import connect
started, cpu0 = time.perf_counter(), cpu()
con = connect(sys.argv[1])
summaries = ingest(con, Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu0,
                  "rows": sum(s.read for s in summaries),
                  "rejected": sum(s.rejected for s in summaries),
                  "shims": _duckdb_compat.APPLIED}))
"""

# DuckDB reading every extract file into a table, all text (benchmarks/ingest_speed.py's floor)
_INGEST_FLOOR = _PRELUDE + """
import duckdb
started, cpu0 = time.perf_counter(), cpu()
con = duckdb.connect(sys.argv[2])
con.execute('SET enable_progress_bar = false')
""" + READ_EVERY_FILE + """con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu0,
                  "rows": rows}))
"""

# famlink's link, training from scratch, timed from connect to the checkpoint after it; then
# its accuracy against the data set's truth (not timed)
_LINK = _PRELUDE + """
from benchmarks.datasets import truth_accuracy
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.warehouse import connect
config = load_linkage_config()
db = Path(sys.argv[1])
started, cpu0 = time.perf_counter(), cpu()
con = connect(db)
summary = link(con, db, config, retrain=True)
con.execute("CHECKPOINT")
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu0
accuracy = truth_accuracy(con, "linked.persons", Path(sys.argv[2]))
con.close()
print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "steps": summary.seconds,
                  "f1": accuracy["f1"],
                  "pairwise_f1": accuracy["pairwise_f1"],
                  "predicted_persons": accuracy["predicted_persons"]}))
"""

# plain DuckDB doing famlink's blocking join and comparison functions (benchmarks/linkage.py)
_LINK_FLOOR = _PRELUDE + """
from linkage.link.blocking import build_candidates
from linkage.link.records import build_records
from linkage.link.settings import load_linkage_config
from linkage.link.vectors import build_vectors
from linkage.warehouse import connect
config = load_linkage_config()
started, cpu0 = time.perf_counter(), cpu()
con = connect(Path(sys.argv[1]))
build_records(con, config)
build_candidates(con, config)
build_vectors(con, config)
n = con.execute("SELECT count(*) FROM linked.vectors").fetchall()[0][0]
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu0,
                  "comparison_vectors": n}))
"""

# a reader (read-only) copying every table of the warehouse into memory: what the web app and
# the lists pay to decrypt
_READ = _PRELUDE + """
from linkage.warehouse import connect
started, cpu0 = time.perf_counter(), cpu()
con = connect(Path(sys.argv[1]), read_only=True)
tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary "
                     "AND schema_name IN ('raw', 'staged', 'linked')").fetchall()
for i, (schema, table) in enumerate(tables):
    con.execute(f'CREATE TEMP TABLE _t{i} AS SELECT * FROM "{schema}"."{table}"')
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu0,
                  "tables": len(tables)}))
"""


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """os.environ with `values` set (None: removed) for the children started meanwhile."""
    before = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(code: str, *args: str, python: str, shim: bool = True, key: str | None = None,
        httpfs: bool = True, storage: str | None = None) -> dict:
    """One child: its last line of JSON, with its wall seconds and peak memory added."""
    with environment(FAMLINK_BENCH_SHIM="1" if shim else None, FAMLINK_BENCH_KEY=key,
                     FAMLINK_BENCH_HTTPFS="1" if httpfs else "0",
                     FAMLINK_BENCH_STORAGE=storage):
        wall, peak, out = child(code, *args, python=python)
    result = json.loads(out.splitlines()[-1])
    result.update(wall_seconds=round(wall, 2), peak_mb=peak)
    return result


def version_of(python: str) -> str:
    return subprocess.run([python, "-c", "import duckdb; print(duckdb.__version__)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def pytest_run(python: str, shim: bool, key: str | None, work: Path) -> dict:
    """tests/test_link.py and tests/test_ingest.py on `python`: counts, seconds, and each failing
    test with the first line of its error (from pytest's JUnit XML)."""
    import xml.etree.ElementTree as ET

    report = work / f"junit-{len(list(work.glob('junit-*')))}.xml"
    with environment(FAMLINK_BENCH_SHIM="1" if shim else None, FAMLINK_BENCH_KEY=key):
        wall, _, _ = child_any([python, "-m", "pytest", "tests/test_link.py",
                                "tests/test_ingest.py", "-p", "no:cacheprovider",
                                "-p", "_duckdb_compat", f"--junitxml={report}"])
    counts = {"passed": 0, "failed": 0, "errors": 0}
    problems: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is None:
            counts["passed"] += case.find("skipped") is None
            continue
        counts["failed" if bad.tag == "failure" else "errors"] += 1
        message = (bad.get("message") or "").strip().splitlines()
        problems[f"{case.get('classname')}::{case.get('name')}"] = (message or [""])[0][:240]
    return {"seconds": round(wall, 1), **counts, "problems": problems}


def child_any(command: list[str]) -> tuple[float, int, str]:
    """A command that may fail (pytest): its seconds, 0, its stdout and stderr."""
    import time

    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - started, 0, proc.stdout + proc.stderr


def write_compat(work: Path) -> None:
    """The shim, as work/mod/_duckdb_compat.py, on the children's PYTHONPATH."""
    (work / "mod").mkdir()
    (work / "mod" / "_duckdb_compat.py").write_text(COMPAT)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(work / "mod"), *filter(None, [os.environ.get("PYTHONPATH")])])


def run_tests(new: str, old: str, pythons: dict[str, str], work: Path) -> dict:
    tests = {
        new: pytest_run(pythons[new], shim=False, key=None, work=work),
        old: pytest_run(pythons[old], shim=False, key=None, work=work),
        f"{old}+shim": pytest_run(pythons[old], shim=True, key=None, work=work),
        f"{old}+shim+encrypted": pytest_run(pythons[old], shim=True, key=KEY, work=work),
    }
    for name, t in tests.items():
        print(f"tests {name}: {t['passed']} passed, {t['failed']} failed, "
              f"{t['errors']} errors, {t['seconds']} s", file=sys.stderr)
    return tests


def median(runs: list[dict], key: str = "seconds") -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=str(DEFAULT_OTHER),
                        help="the other version's interpreter (default: %(default)s)")
    parser.add_argument("--persons", type=int, default=300_000,
                        help="ingest: synthetic persons (default %(default)s)")
    parser.add_argument("--records", type=int, default=100_000,
                        help="link: independent person records (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true")
    parser.add_argument("--tests-only", action="store_true",
                        help="run only the test suites and replace `tests` in the results")
    args = parser.parse_args()
    pythons = {version_of(p): p for p in (sys.executable, args.python)}
    new, old = sorted(pythons, key=lambda v: tuple(int(x) for x in v.split(".")[:3]),
                      reverse=True)
    # the configurations measured: each version plain as famlink opens it, the LTS with its
    # newer storage format (what an encrypted file has) and the LTS encrypted
    configs = {new: dict(python=pythons[new]), old: dict(python=pythons[old]),
               f"{old}-storage-v1.4": dict(python=pythons[old], storage="v1.4.0"),
               f"{old}-encrypted": dict(python=pythons[old], key=KEY)}
    if args.tests_only:
        path = RESULTS / "duckdb_versions.json"
        result = json.loads(path.read_text())
        with tempfile.TemporaryDirectory() as tmp:
            write_compat(Path(tmp))
            result["tests"] = run_tests(new, old, pythons, Path(tmp))
        result["tests_measured"] = date.today().isoformat()
        write_result("duckdb_versions", result)
        return
    result: dict = {"benchmark": "duckdb_versions", "measured": date.today().isoformat(),
                    "machine": {"cpus": os.cpu_count()}, "versions": {},
                    "python": {v: p for v, p in pythons.items()},
                    "persons": args.persons, "records": args.records,
                    "repeats": args.repeats}

    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_compat(work)

        # what works, on each version (the new one first: the old one then opens its file)
        other_file = "-"
        for version in (new, old):
            probe = run(_PROBE, str(work / f"probe-{version}"), other_file,
                        python=pythons[version])
            other_file = str(work / f"probe-{version}" / "plain.duckdb")
            result["versions"][version] = probe
            print(f"{version}: {json.dumps(probe)}", file=sys.stderr)
        # and whether the new version reads the old one's encrypted file (read-only, built-in)
        result["versions"][new]["reads_the_other_versions_encrypted_file"] = run(
            _PRELUDE + """
import duckdb
con = duckdb.connect()
try:
    con.execute(f"ATTACH '{sys.argv[1]}' AS w (ENCRYPTION_KEY 'k1', READ_ONLY)")
    print(json.dumps({"works": True, "rows": con.execute("SELECT count(*) FROM w.t")
                      .fetchall()[0][0]}))
except Exception as e:
    print(json.dumps({"works": False, "error": str(e).splitlines()[0]}))
""", str(work / f"probe-{old}" / "c.duckdb"), python=pythons[new])

        # the data, written once by this interpreter
        print(f"generating {args.persons:,} persons and {args.records:,} person records",
              file=sys.stderr)
        synthetic = population(None, args.persons, work)
        independent = work / "independent"
        child("import sys; from pathlib import Path; from benchmarks.datasets import "
              "independent; independent.write(Path(sys.argv[1]), int(sys.argv[2]), seed=1)",
              str(independent), str(args.records))
        truth = independent / "truth.csv"

        runs: dict[str, dict[str, list[dict]]] = {c: {} for c in configs}
        order = list(configs)
        for repeat in range(args.repeats):
            for name in (order if repeat % 2 == 0 else order[::-1]):
                cfg = configs[name]
                py, key, storage = cfg["python"], cfg.get("key"), cfg.get("storage")
                folder = work / f"r{repeat}-{name}"
                folder.mkdir()
                measured = runs[name]

                def measure(step: str, code: str, *argv: str, measured: dict = measured,
                            py: str = py, key: str | None = key, storage: str | None = storage,
                            **options) -> None:
                    measured.setdefault(step, []).append(run(
                        code, *argv, python=py, key=key, storage=storage, **options))

                if key is None and storage is None:  # DuckDB alone: once per version
                    measure("ingest_floor", _INGEST_FLOOR, str(synthetic / "extracts"),
                            str(folder / "floor.db"))
                measure("ingest", _INGEST, str(folder / "ingest.duckdb"), str(synthetic))
                base = folder / "base.duckdb"
                measure("ingest_independent", _INGEST, str(base), str(independent),
                        str(independent / "sources"))
                shutil.copy(base, folder / "floor.duckdb")
                measure("link_floor", _LINK_FLOOR, str(folder / "floor.duckdb"))
                measure("link", _LINK, str(base), str(truth))
                measure("read", _READ, str(base))
                if key is not None:
                    measure("read_without_httpfs", _READ, str(base), httpfs=False)
                measured.setdefault("warehouse_mb", []).append(
                    {"mb": round(base.stat().st_size / 2**20, 1)})
                print(f"repeat {repeat + 1} {name}: " + ", ".join(
                    f"{k} {v[-1].get('seconds', 0):.1f}s/{v[-1].get('cpu', 0):.1f}cpu"
                    if "mb" not in v[-1] else f"{k} {v[-1]['mb']}" for k, v in measured.items()),
                    file=sys.stderr)

        if not args.skip_tests:
            result["tests"] = run_tests(new, old, pythons, work)

    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["runs"] = runs
    # wall seconds, and CPU seconds (all threads): on a shared machine the CPU figure is the
    # steadier one, since another process's load stretches the wall time, not the work
    result["medians"] = {
        name: {step: ({"mb": median(r, "mb")} if step == "warehouse_mb" else
                      {"seconds": median(r), "cpu": median(r, "cpu")})
               for step, r in measured.items()}
        for name, measured in runs.items()}
    m = result["medians"]
    enc = f"{old}-encrypted"

    def ratio(a: str, b: str, step: str, step_b: str | None = None) -> dict:
        x, y = m[a][step], m[b][step_b or step]
        return {k: round(x[k] / y[k], 2) for k in x if y.get(k)}

    result["link_results"] = {name: {k: runs[name]["link"][0][k] for k in
                                     ("f1", "pairwise_f1", "predicted_persons")}
                              for name in configs}
    result["ratios"] = {
        **{f"{step}_{old}_over_{new}": ratio(old, new, step)
           for step in ("ingest", "ingest_floor", "ingest_independent", "link", "link_floor",
                        "read", "warehouse_mb")},
        f"ingest_over_floor_{new}": ratio(new, new, "ingest", "ingest_floor"),
        f"ingest_over_floor_{old}": ratio(old, old, "ingest", "ingest_floor"),
        **{f"encryption_{step}": ratio(enc, old, step)
           for step in ("ingest", "ingest_independent", "link", "link_floor", "read",
                        "warehouse_mb")},
        "encryption_read_without_httpfs": ratio(enc, old, "read_without_httpfs", "read"),
        # the cost of encryption alone: against plain files of the same storage format
        **{f"encryption_{step}_over_same_storage": ratio(enc, f"{old}-storage-v1.4", step)
           for step in ("ingest", "ingest_independent", "link", "link_floor", "read",
                        "warehouse_mb")},
        "encryption_read_without_httpfs_over_same_storage": ratio(
            enc, f"{old}-storage-v1.4", "read_without_httpfs", "read"),
    }
    write_result("duckdb_versions", result)


if __name__ == "__main__":
    main()
