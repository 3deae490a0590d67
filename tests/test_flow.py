"""The nightly Prefect flow runs end to end on synthetic data (the README's main job)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import CONFIGS, read_csv

from flows.nightly import nightly
from linkage.ingest.loaded import IngestError
from synthetic_data.generate import synthesize


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    """A temporary Prefect API for this module, stopped before pytest closes its output."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


def test_nightly_demo_generates_ingests_and_publishes_with_its_report(tmp_path: Path) -> None:
    """The README's main job: a synthetic population, linked, published as the current
    version, with the run report in Prefect's UI (an artifact) and beside the versions."""
    result = nightly(workdir=str(tmp_path), demo=True, persons=600, seed=4)
    extracts = Path(result["extracts"])
    assert extracts == tmp_path / "synthetic" / "extracts"
    assert len(read_csv(tmp_path / "synthetic" / "truth" / "persons.csv")) == 600
    assert result["rejected"] == 0 and result["read"] > 600
    assert result["published"] and (tmp_path / "famlink.duckdb").resolve() == Path(result["db"])
    with duckdb.connect(str(tmp_path / "famlink.duckdb"), read_only=True) as con:
        staged = con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
        indexed = {row[0] for row in con.execute(
            "SELECT table_name || '.' || expressions FROM duckdb_indexes()").fetchall()}
    assert {"persons.[person_id]", "memberships.[record_id]"} <= indexed  # for the web app
    assert staged == len(read_csv(tmp_path / "synthetic" / "truth" / "records.csv"))
    report = Path(result["report"]).read_text()
    assert f"Run {result['run_id']} is **published**" in report and "## Gates" in report

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["famlink-run-report", "famlink-list-joint-families"])))
    kinds = {a.key: a for a in artifacts}
    assert result["run_id"] in kinds["famlink-run-report"].data
    assert kinds["famlink-list-joint-families"].type == "table"


def test_nightly_refuses_a_missing_extracts_folder_and_never_makes_data_up(
        tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nightly(workdir=str(tmp_path), extracts=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="no extracts given"):
        nightly(workdir=str(tmp_path))


def test_nightly_loads_the_systems_that_are_there(tmp_path: Path) -> None:
    """An HMIS export alone: the flow fails (naming the missing sources) unless it is told,
    with `only` or with source configs that mark the others `optional: true`."""
    synthesize(300, 7, tmp_path / "synthetic")
    extracts = tmp_path / "extracts"
    shutil.copytree(tmp_path / "synthetic" / "extracts" / "hmis", extracts / "hmis")
    with pytest.raises(IngestError, match=r"missing: cs \(no folder .*\); tanf \(no folder"):
        nightly(workdir=str(tmp_path / "w1"), extracts=str(extracts), only=["hmis", "cs", "tanf"])

    sources = tmp_path / "sources"
    shutil.copytree(CONFIGS / "sources", sources)
    for name in ("cs", "cw", "tanf"):
        (sources / f"{name}.yaml").write_text(
            (sources / f"{name}.yaml").read_text() + "optional: true\n")
    settings = tmp_path / "ingest.yaml"
    settings.write_text((CONFIGS / "ingest.yaml").read_text())
    result = nightly(workdir=str(tmp_path / "w2"), extracts=str(extracts), config=str(sources),
                     settings=str(settings))
    assert result["not_loaded"] == ["cs", "cw", "tanf"] and result["read"] > 0
    assert result["published"]
    with duckdb.connect(result["db"], read_only=True) as con:
        systems = con.execute("SELECT DISTINCT system FROM staged.person_records").fetchall()
    assert systems == [("hmis",)]
