"""The `famlink` command as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner
from helpers import CONFIGS, ROOT, read_csv

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
    result = subprocess.run([*FAMLINK, "schedule", "--extracts", "x"], capture_output=True,
                            text=True, cwd=ROOT, env=env_less, timeout=120)
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


# --- The systems that are there (issue 13, item 4) -------------------------------------------

@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 persons' four extracts, generated once for the tests that take some of them away."""
    from synthetic_data.generate import synthesize

    out = tmp_path_factory.mktemp("population")
    synthesize(150, 21, out)
    return out / "extracts"


def _extracts_of(population: Path, tmp_path: Path, *systems: str) -> Path:
    """An extracts folder holding only `systems`' folders (what an agency sent)."""
    data = tmp_path / "extracts"
    for system in systems:
        shutil.copytree(population / system, data / system)
    return data


def _staged_systems(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT system FROM staged.person_records").fetchall()
    return {row[0] for row in rows}


def test_ingest_of_an_hmis_export_alone_loads_it_and_names_the_missing(
        population: Path, tmp_path: Path) -> None:
    """No cw/, cs/ or tanf/ folder: HMIS is loaded all the same, each missing source is named
    and the run fails, since nothing said those sources might be absent."""
    data = _extracts_of(population, tmp_path, "hmis")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "no file" not in result.stderr
    assert "Client.csv" in result.stderr  # loaded and summarized
    for source in ("cs", "cw", "tanf"):
        assert f"not loaded: {source}: no folder {data / source}" in result.stderr
    assert "configured source(s) missing: cs (" in result.stderr and "--only" in result.stderr
    assert _staged_systems(tmp_path / "w.duckdb") == {"hmis"}


def test_ingest_only_the_sources_named(population: Path, tmp_path: Path) -> None:
    """`--only hmis,tanf`: those two are loaded, the others are not expected (and a source
    present but not named is left alone)."""
    data = _extracts_of(population, tmp_path, "hmis", "tanf", "cw")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"),
                  "--only", "hmis,tanf")
    assert result.returncode == 0, result.stderr
    assert "not loaded: cw: not in --only" in result.stderr
    assert "not loaded: cs: not in --only" in result.stderr
    assert _staged_systems(tmp_path / "w.duckdb") == {"hmis", "tanf"}


def test_ingest_only_a_source_that_is_missing_fails(population: Path, tmp_path: Path) -> None:
    data = _extracts_of(population, tmp_path, "hmis")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"),
                  "--only", "hmis,tanf")
    assert result.returncode != 0
    assert f"not loaded: tanf: no folder {data / 'tanf'}" in result.stderr
    assert "not loaded: cs" in result.stderr and "Traceback" not in result.stderr


def test_ingest_only_an_unknown_source_is_one_clear_line(population: Path,
                                                         tmp_path: Path) -> None:
    data = _extracts_of(population, tmp_path, "hmis")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"),
                  "--only", "hmsi")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--only hmsi: no such source (configured: cs, cw, hmis, tanf)" in result.stderr


def test_ingest_optional_sources_may_be_missing(population: Path, tmp_path: Path) -> None:
    """`optional: true` in a source's YAML: its folder may be absent and the run succeeds."""
    sources = tmp_path / "sources"
    shutil.copytree(CONFIGS / "sources", sources)
    for name in ("cs", "cw"):
        path = sources / f"{name}.yaml"
        path.write_text(path.read_text() + "optional: true\n")
    data = _extracts_of(population, tmp_path, "hmis", "tanf")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"),
                  "--config", str(sources))
    assert result.returncode == 0, result.stderr
    assert f"not loaded: cs: no folder {data / 'cs'} (optional)" in result.stderr
    assert _staged_systems(tmp_path / "w.duckdb") == {"hmis", "tanf"}
    (sources / "tanf.yaml").write_text((sources / "tanf.yaml").read_text() + "optional: maybe\n")
    result = _run("ingest", "--data", str(data), "--db", str(tmp_path / "w.duckdb"),
                  "--config", str(sources))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{sources / 'tanf.yaml'}: optional = 'maybe'" in result.stderr


class _FlowStub:
    """Stands for the nightly flow: records how the command calls it (running the real flow
    is tests/test_flow.py's job)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, **parameters: object) -> dict:
        self.calls.append(parameters)
        raise click.ClickException("stub: stop here")

    def serve(self, **kwargs: object) -> None:
        self.calls.append(kwargs)


def test_nightly_and_schedule_pass_config_settings_and_only_to_the_flow(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Like `famlink ingest`, the flow commands take --config, --settings and --only, and
    hand them on as absolute paths (a scheduled run starts in another folder)."""
    import flows.nightly
    from flows.cli import cli

    stub = _FlowStub()
    monkeypatch.setattr(flows.nightly, "nightly", stub)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.chdir(tmp_path)
    given = ["--config", "my_sources", "--settings", "my_ingest.yaml", "--only", "hmis, tanf"]
    expected = {"config": str(tmp_path / "my_sources"),
                "settings": str(tmp_path / "my_ingest.yaml"), "only": ["hmis", "tanf"]}
    runner = CliRunner()
    result = runner.invoke(cli, ["nightly", "--extracts", "x", *given])
    assert "stub: stop here" in result.output
    assert stub.calls[-1] == {"workdir": "data/nightly", "extracts": "x", "demo": False,
                              "persons": 10_000, "seed": 1, "hmis_version": None,
                              "publish_config": None, **expected}
    result = runner.invoke(cli, ["schedule", "--cron", "0 3 * * *", "--timezone",
                                 "America/Chicago", "--extracts", "x", *given])
    assert result.exit_code == 0, result.output
    call = stub.calls[-1]
    assert call["name"] == "nightly" and call["limit"] == 1  # one run at a time
    assert call["schedule"].cron == "0 3 * * *"
    assert call["schedule"].timezone == "America/Chicago"
    assert call["parameters"] == {"workdir": str(tmp_path / "data/nightly"),
                                  "extracts": str(tmp_path / "x"), "demo": False,
                                  "publish_config": None, **expected}


def test_schedule_never_makes_data_up_without_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """No --extracts and no --demo: an error, not a synthetic population every night."""
    from flows.cli import cli

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    for command in (["schedule"], ["nightly"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0 and "--extracts DIR" in result.output and \
            "--demo" in result.output


def test_link_of_a_list_too_small_to_train_says_so_and_links_nothing(tmp_path: Path) -> None:
    """A peer's HMIS export alone (514 clients, 3 candidate pairs): EM has nothing to learn
    from. The run says so in one line (not a flood of levels "weighed out of order"), links
    no pair on a model fit to noise, queues every candidate pair, and a later run never
    reuses that model."""
    data = tmp_path / "extracts"
    shutil.copytree(ROOT / "tests/fixtures/hmis_csv/greenriver-datalab-fy2024", data / "hmis")
    db = tmp_path / "w.duckdb"
    assert _run("ingest", "--data", str(data), "--db", str(db), "--only", "hmis").returncode == 0
    result = _run("link", "--db", str(db))
    assert result.returncode == 0, result.stderr
    out = " ".join((result.stdout + result.stderr).split())
    assert "not trained: 3 candidate pairs" in out and "out of order" not in out
    with duckdb.connect(str(db), read_only=True) as con:
        persons, records = con.execute("SELECT count(DISTINCT person_id), count(*) "
                                       "FROM linked.persons").fetchall()[0]
        queued = con.execute("SELECT count(*) FROM review.queue").fetchall()[0][0]
    assert persons == records == 514 and queued == 3
    page = next((tmp_path / "reports").glob("link-*.html")).read_text()
    assert "model is untrained" in page
    again = _run("link", "--db", str(db))
    # the untrained model is not reused: the next run says the same
    assert "not trained" in " ".join((again.stdout + again.stderr).split())


def test_evaluate_prints_every_list_and_alert_kind(published: Path, small: Path,
                                                   tmp_path: Path) -> None:
    """The accuracy table names each list and each kind of the lists that have kinds (alerts,
    referrals): the demo's last screen."""
    from linkage.cli import cli as famlink

    result = CliRunner().invoke(famlink, ["evaluate", "--truth", str(small / "truth"), "--db",
                                          str(published), "--out", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for name in ("list joint_families", "list paternity", "list referrals refer",
                 "list referrals withdraw"):
        assert name in text
