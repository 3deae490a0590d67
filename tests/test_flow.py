"""The nightly Prefect flow runs end to end on synthetic data (the README's main job)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from helpers import read_csv

from flows.nightly import nightly


@pytest.fixture(scope="module", autouse=True)
def prefect_server():
    """A temporary Prefect API for this module, stopped before pytest closes its output."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


def test_nightly_generates_then_ingests(tmp_path: Path) -> None:
    result = nightly(workdir=str(tmp_path), persons=600, seed=4)
    extracts = Path(result["extracts"])
    assert extracts == tmp_path / "synthetic" / "extracts"
    assert len(read_csv(tmp_path / "synthetic" / "truth" / "persons.csv")) == 600
    assert result["rejected"] == 0 and result["read"] > 600
    con = duckdb.connect(result["db"], read_only=True)
    staged = con.execute("SELECT count(*) FROM staged.person_records").fetchall()[0][0]
    assert staged == len(read_csv(tmp_path / "synthetic" / "truth" / "records.csv"))


def test_nightly_refuses_a_missing_extracts_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nightly(workdir=str(tmp_path), extracts=str(tmp_path / "missing"))
