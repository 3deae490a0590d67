"""Linkage: famlink against its peers and the DuckDB floor, on the same data, in one run.

    python benchmarks/linkage.py --records 1000000 [--data DIR] [--skip recordlinkage]

Generates a synthetic population of about N person records (or reuses --data, a folder
written by `famlink synth`) and ingests it once. Then, each in a fresh child process timed
and measured for peak memory:
- famlink: `famlink link` with training from scratch (train + predict + cluster);
- famlink without household evidence: the same with `household.enabled: false` (ablation);
- splink: Splink 5 as its documentation recommends (benchmarks/peers/splink_peer.py);
- recordlinkage: blocking, Jaro-Winkler and exact comparisons, ECM, connected components
  (benchmarks/peers/recordlinkage_peer.py, in its own venv since it pins pandas<3);
- floor: plain DuckDB doing famlink's blocking join and computing the same comparison
  functions (the SQL of linkage.link.blocking and linkage.link.vectors), nothing else.
The peers get the same standardized records and the same blocking rules. Accuracy is cluster
level against the generator's truth (linkage.evaluate). Writes
benchmarks/results/linkage-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file bears the name of the package it measures: import from the project root instead
# of from beside it, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(ROOT)

from benchmarks.measure import INGEST, child, population, write_result  # noqa: E402

RECORDS_PER_PERSON = 1.17  # measured: 1,174,777 records from 1,000,000 persons
RL_VENV = ROOT / ".venv-recordlinkage"

_FAMLINK = """
import sys, yaml
from pathlib import Path
from linkage.link.run import link
from linkage.link.settings import LinkageConfig, load_linkage_config
from linkage.warehouse import connect
config = load_linkage_config()
if sys.argv[2] == "no-household":
    data = config.model_dump()
    data["household"]["enabled"] = False
    config = LinkageConfig.model_validate(data)
db = Path(sys.argv[1])
summary = link(connect(db), db, config, retrain=True)
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

_EXPORT = """
    SELECT record_id, system, first_name, middle_name, last_name, first_name_metaphone,
           last_name_metaphone, first_name_canonical, strftime(dob, '%Y-%m-%d') AS dob,
           dob_year, ssn, ssn_last4, sex, zip5,
           CASE WHEN address_street IS NOT NULL
                THEN address_street || ' ' || coalesce(zip5, city, '') END AS address
    FROM staged.person_records"""


def prepare(records: int, data: Path | None, work: Path) -> tuple[Path, Path]:
    """Synthetic extracts (generated unless given) ingested into work/base.duckdb."""
    data = population(data, max(round(records / RECORDS_PER_PERSON), 100), work)
    base = work / "base.duckdb"
    child(INGEST, str(base), str(data))
    return data, base


def export_for_peers(base: Path, work: Path) -> tuple[Path, Path, int]:
    """The standardized records and the scalar blocking rules, as the peers read them."""
    import duckdb

    from linkage.link.settings import load_linkage_config

    con = duckdb.connect(str(base), read_only=True)
    records = work / "records.parquet"
    con.execute(f"COPY ({_EXPORT}) TO '{records}' (FORMAT parquet)")
    n = con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
    con.close()
    config = load_linkage_config()
    exported = set(duckdb.sql(f"DESCRIBE SELECT * FROM '{records}'").df()["column_name"])
    rules = [rule.keys for rule in config.blocking.rules
             if not rule.unnest and set(rule.keys) <= exported]
    blocking = work / "blocking.json"
    blocking.write_text(json.dumps(rules))
    return records, blocking, n


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
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--skip", action="append", default=[],
                        choices=["splink", "recordlinkage", "no-household"])
    args = parser.parse_args()
    result: dict = {"benchmark": "linkage", "measured": date.today().isoformat(),
                    "machine": {"cpus": __import__("os").cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, base = prepare(args.records, args.data, work)
        truth = data / "truth"
        records, blocking, n = export_for_peers(base, work)
        result["records"] = n
        print(f"{n:,} person records", file=sys.stderr)

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
                            **accuracy(truth, db, None, work, name)}
            print(f"{name}: {result[name]}", file=sys.stderr)

        peers = {"splink": (sys.executable, str(HERE / "peers" / "splink_peer.py")),
                 "recordlinkage": (None, str(HERE / "peers" / "recordlinkage_peer.py"))}
        for name, (python, script) in peers.items():
            if name in args.skip:
                continue
            clusters = work / f"{name}.parquet"
            seconds, peak, _ = child(script, "--records", str(records), "--blocking",
                                     str(blocking), "--out", str(clusters),
                                     python=python or recordlinkage_python())
            result[name] = {"seconds": round(seconds, 1), "peak_mb": peak,
                            **accuracy(truth, base, clusters, work, name)}
            print(f"{name}: {result[name]}", file=sys.stderr)

    famlink = result.get("famlink", {})
    ratios = {}
    if famlink:
        ratios["famlink_over_floor"] = round(famlink["seconds"] / result["floor"]["seconds"], 2)
        for peer in ("splink", "recordlinkage"):
            if peer in result:
                ratios[f"famlink_over_{peer}"] = round(famlink["seconds"]
                                                       / result[peer]["seconds"], 3)
                ratios[f"f1_points_above_{peer}"] = round(
                    100 * (famlink["f1"] - result[peer]["f1"]), 2)
    result["ratios"] = ratios
    write_result(f"linkage-{args.records}", result)


if __name__ == "__main__":
    main()
