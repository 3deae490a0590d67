"""Shared fixtures: small synthetic populations, generated once per test session.

Prefect gets its own home under build/ (never the user's) and is kept offline; these are set
before anything imports Prefect.

No test may read a file beside the repository (../shared, ../data): a clone with nothing beside
it must pass, in CI and on a new machine. `helpers.guard_the_repository_edge` makes such a read
fail the test that made it, wherever the suite runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import ROOT, guard_the_repository_edge

guard_the_repository_edge()  # before any test, fixture or import of the code under test

PREFECT_HOME = ROOT / "build" / "test-prefect-home"
PREFECT_HOME.mkdir(parents=True, exist_ok=True)  # Prefect's SQLite cannot create the folder
os.environ["PREFECT_HOME"] = str(PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# A key in the developer's shell would make every warehouse of the suite encrypted (and, on
# DuckDB 2.0, refused): the encryption tests set their own.
os.environ.pop("FAMLINK_KEY_FILE", None)

from synthetic_data.config import load_synthetic_config  # noqa: E402
from synthetic_data.generate import synthesize  # noqa: E402


@pytest.fixture(scope="session")
def config():
    return load_synthetic_config()


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Path:
    """3,000 persons, FY2024 HMIS: for format and consistency checks."""
    out = tmp_path_factory.mktemp("small")
    synthesize(3000, 11, out)
    return out


@pytest.fixture(scope="session")
def large(tmp_path_factory) -> Path:
    """30,000 persons: enough records for the hard-case rates to be measured."""
    out = tmp_path_factory.mktemp("large")
    synthesize(30_000, 5, out)
    return out


@pytest.fixture(scope="session")
def ingested(small: Path, tmp_path_factory) -> Path:
    """A warehouse with the small population ingested (copied by each test that changes it)."""
    from linkage.ingest.run import ingest
    from linkage.warehouse import connect

    db = tmp_path_factory.mktemp("ingested") / "famlink.duckdb"
    con = connect(db)
    ingest(con, small)
    con.close()
    return db


@pytest.fixture(scope="session")
def linked(ingested: Path, tmp_path_factory) -> Path:
    """The small population ingested and linked with the default configs."""
    import shutil

    from linkage.link.run import link
    from linkage.link.settings import load_linkage_config
    from linkage.warehouse import connect

    db = tmp_path_factory.mktemp("linked") / "famlink.duckdb"
    shutil.copy(ingested, db)
    con = connect(db)
    link(con, db, load_linkage_config())
    con.close()
    return db


@pytest.fixture(scope="session")
def published(small: Path, tmp_path_factory) -> Path:
    """A work folder whose current version holds the small population, linked, with its
    families and lists: what `famlink serve` reads (its stable path is returned)."""
    from linkage.pipeline import building, families_step, finish, ingest_step, link_step
    from linkage.publish.settings import load_publish_config

    workdir = tmp_path_factory.mktemp("published") / "work"
    with building(workdir) as run:
        ingest_step(run.db, small / "extracts")
        link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                  reports=run.reports)
        families_step(run.db)
        assert finish(run, load_publish_config()).published
    return workdir / "famlink.duckdb"
