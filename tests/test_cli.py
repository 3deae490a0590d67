"""The `famlink` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, read_csv

from linkage.formats import tanf_section1

FAMLINK = [sys.executable, "-c", "from flows.cli import main; main()"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*FAMLINK, *args], capture_output=True, text=True, cwd=ROOT,
                          env=os.environ.copy(), timeout=600)


def test_help_lists_every_subcommand_in_a_line() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("synth", "nightly", "schedule"):
        line = next(x for x in result.stdout.splitlines() if x.strip().startswith(command))
        assert len(line.split(None, 1)[1]) > 10


def test_synth_writes_extracts_and_truth(tmp_path: Path) -> None:
    result = _run("synth", "--persons", "500", "--seed", "9", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Wrote 500 persons" in result.stderr
    for system in ("cw", "cs", "hmis", "tanf"):
        assert any((tmp_path / "extracts" / system).iterdir())
    assert len(read_csv(tmp_path / "truth" / "persons.csv")) == 500


def test_synth_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("window: {start_year: 2016, years: 10}\n")
    result = _run("synth", "--out", str(tmp_path / "o"), "--config", str(bad))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{bad}: ethnicity" in result.stderr


def test_schedule_without_server_says_what_to_do() -> None:
    env_less = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run([*FAMLINK, "schedule"], capture_output=True, text=True, cwd=ROOT,
                            env=env_less, timeout=120)
    assert result.returncode != 0 and "prefect server start" in result.stderr


def test_synth_plain_tanf_ssns(tmp_path: Path) -> None:
    result = _run("synth", "--persons", "400", "--seed", "2", "--out", str(tmp_path),
                  "--no-tanf-encrypt", "--hmis-version", "2026")
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "extracts" / "tanf").glob("*.txt"))
    headers = {f.read_text(encoding="ascii").splitlines()[0] for f in files}
    assert all(h[21] == " " for h in headers)  # ENCRYPTION field blank
    t2 = [line for f in files for line in f.read_text(encoding="ascii").splitlines()
          if line.startswith("T2")]
    ssns = [tanf_section1.parse_record(tanf_section1.T2, line)["SSN"] for line in t2]
    assert ssns and all(s.isdigit() and len(s) == 9 for s in ssns if s)
    truth_ssns = {p["ssn"] for p in read_csv(tmp_path / "truth" / "persons.csv")}
    assert sum(s in truth_ssns for s in ssns) > len(ssns) / 2  # written in the clear
    assert read_csv(tmp_path / "extracts" / "hmis" / "Export.csv")[0]["CSVVersion"] == \
        "2026 v1.0"


def test_ingest_prints_a_balanced_summary(tmp_path: Path) -> None:
    assert _run("synth", "--persons", "300", "--out", str(tmp_path / "d")).returncode == 0
    result = _run("ingest", "--data", str(tmp_path / "d"), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "Client.csv" in result.stderr and "every file balances" in result.stderr


def test_ingest_second_writer_gets_a_clear_message(tmp_path: Path) -> None:
    import duckdb

    assert _run("synth", "--persons", "100", "--out", str(tmp_path / "d")).returncode == 0
    holder = duckdb.connect(str(tmp_path / "w.duckdb"))  # another process holds the file
    try:
        result = _run("ingest", "--data", str(tmp_path / "d"), "--db",
                      str(tmp_path / "w.duckdb"))
    finally:
        holder.close()
    assert result.returncode != 0 and "open in another process" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_with_a_missing_extract_names_the_source_and_file(tmp_path: Path) -> None:
    """One source failing stops the run (the others, read beside it, are interrupted) with
    one clear line, not a traceback from a worker thread."""
    import shutil

    assert _run("synth", "--persons", "100", "--out", str(tmp_path / "d")).returncode == 0
    shutil.rmtree(tmp_path / "d" / "extracts" / "cw")
    (tmp_path / "d" / "extracts" / "cw").mkdir()
    result = _run("ingest", "--data", str(tmp_path / "d"), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode != 0
    assert "source cw: no file 'persons.csv'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_bad_settings_is_one_clear_line(tmp_path: Path) -> None:
    settings = tmp_path / "ingest.yaml"
    settings.write_text("shared_address:\n  min_groups: one\n")
    (tmp_path / "d").mkdir()
    result = _run("ingest", "--data", str(tmp_path / "d"), "--db", str(tmp_path / "w.duckdb"),
                  "--settings", str(settings))
    assert result.returncode != 0
    assert f"{settings}: shared_address.min_groups = 'one'" in result.stderr
    assert "Traceback" not in result.stderr
