"""The web app's answer times on a large warehouse: the review queue page, a pair's page and
a person search (issue 15's target: each under 200 ms at the 95th percentile at 1M persons).

    python benchmarks/web_speed.py --persons 1000000 [--data DIR] [--workdir DIR]

Builds a published work folder from a synthetic population (generated, or --data; or reuses
--workdir when it already has a current version), adds a liaison of child welfare, and times
requests through the app in this process (FastAPI's test client: the app's whole work, no
network): the queue's first pages, the pages of queued pairs, and searches by last name and
birth date for persons drawn from the warehouse. Writes benchmarks/results/web-<persons>.json.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# benchmarks/linkage.py bears the name of the package: import from the project root instead
# of from beside this file, so that `linkage` is the package.
sys.path[sys.path.index(str(HERE))] = str(HERE.parent)

from benchmarks.measure import population, write_result  # noqa: E402

PASSWORD = "benchmark passphrase"


def build(workdir: Path, extracts: Path) -> None:
    from linkage.pipeline import building, families_step, finish, ingest_step, link_step
    from linkage.publish.settings import load_publish_config

    with building(workdir, print) as run:
        ingest_step(run.db, extracts)
        link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                  reports=run.reports, progress=print)
        families_step(run.db)
        finish(run, load_publish_config())


def _timed(call) -> float:  # noqa: ANN001 - a request
    started = time.perf_counter()
    response = call()
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - started) * 1000


def _summary(ms: list[float]) -> dict:
    return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(statistics.quantiles(ms, n=20)[-1], 1), "max_ms": round(max(ms), 1)}


def measure(db: Path, requests: int) -> dict:
    import duckdb
    from fastapi.testclient import TestClient

    from linkage.access.settings import load_access_config, stores
    from linkage.access.users import Users
    from webapp.app import create_app

    Users(stores(db)[0], load_access_config()).add("bench", "liaison", ["cw"], PASSWORD)
    with duckdb.connect(str(db), read_only=True) as con:
        pairs = [r[0] for r in con.execute(
            f"SELECT pair_id FROM review.queue ORDER BY position LIMIT {requests}").fetchall()]
        people = con.execute(f"""
            SELECT * FROM (SELECT last_name_raw, dob::VARCHAR FROM staged.person_records
                           WHERE system = 'cw' AND last_name_raw IS NOT NULL
                             AND dob IS NOT NULL)
            USING SAMPLE {requests} ROWS (reservoir, 7)""").fetchall()
    client = TestClient(create_app(db), base_url="https://testserver")
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": csrf})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/people").text).group(1)
    client.get("/review")  # the first request opens the warehouse: not what a reader waits for
    queue = [_timed(lambda: client.get("/review")) for _ in range(requests)]
    pair = [_timed(lambda p=p: client.get(f"/review/pair/{p}")) for p in pairs]
    search = [_timed(lambda n=n, d=d: client.post("/people", data={
        "last_name": n, "dob": d, "csrf_token": token})) for n, d in people]
    random.shuffle(search)
    return {"queue_page": _summary(queue), "pair_page": _summary(pair),
            "person_search": _summary(search)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="a work folder to reuse (built there if it has no version yet)")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="famlink-web-") as tmp:
        workdir = args.workdir or Path(tmp) / "workdir"
        db = workdir / "famlink.duckdb"
        if not db.exists():
            data = population(args.data, args.persons, Path(tmp))
            build(workdir, data / "extracts" if (data / "extracts").is_dir() else data)
        result = measure(db, args.requests)
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            records, persons = con.execute("SELECT count(*), count(DISTINCT person_id) "
                                           "FROM linked.persons").fetchall()[0]
    target = 200
    write_result(f"web-{args.persons}", {
        "benchmark": "web_speed", "measured": date.today().isoformat(),
        "persons_asked": args.persons, "records": records, "persons": persons, **result,
        "target_p95_ms": target,
        "all_under_target": all(r["p95_ms"] < target for r in result.values())})


if __name__ == "__main__":
    main()
