"""Whole runs or nothing: versions, gates, the atomic publish, and readers that never wait.

The runs here go through linkage.pipeline, the layer `famlink nightly`'s Prefect tasks call
(tests/test_flow.py runs the flow itself), in a child process that kills itself with SIGKILL
at a chosen progress message of a chosen step: as a power cut or the OOM killer would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from helpers import ROOT

from linkage.cli import cli
from linkage.publish.gates import check
from linkage.publish.settings import Gates
from linkage.publish.workdir import RunInProgress, Workdir
from synthetic_data.generate import synthesize

# One run, as flows/nightly.py orders its tasks, killed at `step:n` (the n-th progress message
# of that step) when argv[3] names one.
RUN = """
import os, signal, sys
from pathlib import Path
from linkage.pipeline import building, families_step, finish, ingest_step, link_step
from linkage.publish.settings import load_publish_config

workdir, extracts, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
only = sys.argv[4].split(",") if len(sys.argv) > 4 else None

def at(step):
    seen = [0]
    def progress(message):
        seen[0] += 1
        if f"{step}:{seen[0]}" == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    return progress

with building(workdir, at("begin")) as run:
    ingest_step(run.db, extracts, only=only, progress=at("ingest"))
    link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
              reports=run.reports, progress=at("link"))
    families_step(run.db, progress=at("families"))
    verdict = finish(run, load_publish_config(), at("publish"))
print(run.run_id, "published" if verdict.published else "held")
"""


def _run(workdir: Path, extracts: Path, kill_at: str = "none",
         only: str | None = None) -> subprocess.CompletedProcess:
    args = [sys.executable, "-c", RUN, str(workdir), str(extracts), kill_at,
            *([only] if only else [])]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env=os.environ.copy())


def _ids(workdir: Path) -> tuple[set, set]:
    """The current version's (record, person) and (person, family) pairs."""
    with duckdb.connect(str(workdir / "famlink.duckdb"), read_only=True) as con:
        persons = set(con.execute("SELECT record_id, person_id FROM linked.persons").fetchall())
        families = set(con.execute("SELECT person_id, family_id FROM families.members")
                       .fetchall())
    return persons, families


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish")
    synthesize(600, 3, out / "pop")
    return out / "pop" / "extracts"


@pytest.fixture(scope="module")
def first_run(population: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder with one published run, of CW, CS and HMIS; the runs under test then add
    TANF, so that ids have something to do (records join persons, families grow)."""
    workdir = tmp_path_factory.mktemp("first") / "work"
    done = _run(workdir, population, only="cw,cs,hmis")
    assert done.returncode == 0 and "published" in done.stdout, done.stderr
    return workdir


@pytest.fixture(scope="module")
def uninterrupted(first_run: Path, population: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The ids the second run gives when nothing stops it."""
    workdir = tmp_path_factory.mktemp("whole") / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    done = _run(workdir, population)
    assert done.returncode == 0 and "published" in done.stdout, done.stderr
    return _ids(workdir)


def _version_bytes(workdir: Path) -> bytes:
    return (workdir / "famlink.duckdb").resolve().read_bytes()


@pytest.mark.parametrize("kill_at", ["begin:1", "ingest:3", "ingest:45", "link:2", "link:6",
                                     "link:9", "families:2", "publish:1", "publish:2",
                                     "publish:3"])
def test_a_killed_run_publishes_nothing_and_the_next_gives_the_same_ids(
        kill_at: str, first_run: Path, population: Path, uninterrupted: tuple,
        tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    before, current = _version_bytes(workdir), Workdir(workdir).current_run()
    killed = _run(workdir, population, kill_at)
    assert killed.returncode == -9, (kill_at, killed.stderr[-2000:])
    assert Workdir(workdir).current_run() == current
    assert _version_bytes(workdir) == before  # the current version whole and unchanged
    done = _run(workdir, population)
    assert done.returncode == 0 and "published" in done.stdout, done.stderr[-2000:]
    assert _ids(workdir) == uninterrupted
    runs = {r.status for r in Workdir(workdir).registry.runs()}
    assert "abandoned" in runs and "building" not in runs
    assert sorted(p.name for p in (workdir / "versions").iterdir()) == sorted(
        f"{r.run_id}.duckdb" for r in Workdir(workdir).registry.runs() if r.status ==
        "published")  # the killed run's partial file is gone


def test_killed_after_the_rename_the_run_is_published(
        first_run: Path, population: Path, uninterrupted: tuple, tmp_path: Path) -> None:
    """The rename is what publishes: a run killed just after it is current, and the next
    run records it as published."""
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    killed = _run(workdir, population, "publish:4")
    assert killed.returncode == -9
    assert _ids(workdir) == uninterrupted
    name = Workdir(workdir).current_run()
    Workdir(workdir).reconcile()
    assert Workdir(workdir).registry.get(name).status == "published"


def test_an_error_after_the_rename_keeps_the_run_published(first_run: Path, population: Path,
                                                            tmp_path: Path) -> None:
    """Interrupted (Ctrl-C, a cancelled flow, a locked registry) just after the rename: the
    run is current, so it stays, published; the next run starts from it."""
    from linkage.pipeline import building, families_step, finish, ingest_step, link_step
    from linkage.publish.settings import load_publish_config

    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)

    def interrupt(message: str) -> None:
        if message.endswith("is current"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), building(workdir) as run:
        ingest_step(run.db, population)
        link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                  reports=run.reports)
        families_step(run.db)
        finish(run, load_publish_config(), interrupt)
    folder = Workdir(workdir)
    assert folder.current_run() == run.run_id and (workdir / "famlink.duckdb").exists()
    assert folder.registry.get(run.run_id).status == "published"
    done = _run(workdir, population)
    assert done.returncode == 0 and "published" in done.stdout, done.stderr[-2000:]


def test_a_reader_keeps_its_version_and_never_blocks_a_run(first_run: Path, population: Path,
                                                          tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    reader = duckdb.connect(str(workdir / "famlink.duckdb"), read_only=True)
    count = "SELECT count(*) FROM staged.person_records WHERE system = 'tanf'"
    assert reader.execute(count).fetchall()[0][0] == 0
    done = _run(workdir, population)  # the reader holds the file all through
    assert done.returncode == 0 and "published" in done.stdout, done.stderr[-2000:]
    assert reader.execute(count).fetchall()[0][0] == 0  # still its own version, whole
    # the version the link names now (DuckDB 1.4 would hand back `reader`'s database for the
    # link's own name)
    with duckdb.connect(str((workdir / "famlink.duckdb").resolve()), read_only=True) as later:
        assert later.execute(count).fetchall()[0][0] > 0  # the new one
    reader.close()


def test_published_versions_are_never_written(first_run: Path) -> None:
    result = CliRunner().invoke(cli, ["link", "--db", str(first_run / "famlink.duckdb")])
    assert result.exit_code != 0 and "is a published version" in result.output


def test_a_run_that_fails_a_gate_is_held_until_an_analyst_accepts_it(
        first_run: Path, population: Path, tmp_path: Path) -> None:
    """Half of CW's persons missing from the delivery: the run is built, held, not current;
    `famlink runs` names the gate; `famlink publish` with a reason makes it current."""
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    extracts = tmp_path / "extracts"
    shutil.copytree(population, extracts)
    persons = extracts / "cw" / "persons.csv"
    lines = persons.read_text().splitlines(keepends=True)
    persons.write_text("".join(lines[: len(lines) // 2]))
    current = Workdir(workdir).current_run()
    done = _run(workdir, extracts, only="cw,cs,hmis")
    assert done.returncode == 0 and "held" in done.stdout, done.stderr[-2000:]
    held = done.stdout.split()[0]
    assert Workdir(workdir).current_run() == current
    runner = CliRunner()
    listed = runner.invoke(cli, ["runs", "--workdir", str(workdir)])
    assert listed.exit_code == 0 and "held" in listed.output
    assert "staged records: cw" in listed.output
    refused = runner.invoke(cli, ["publish", held, "--workdir", str(workdir), "--by", " ",
                                  "--reason", "x"])
    assert refused.exit_code != 0 and "--by" in refused.output
    accepted = runner.invoke(cli, ["publish", held, "--workdir", str(workdir), "--by",
                                   "Analyst A", "--reason", "CW sent half a file on purpose"])
    assert accepted.exit_code == 0, accepted.output
    assert Workdir(workdir).current_run() == held
    record = Workdir(workdir).registry.get(held)
    assert record.published_by == "Analyst A" and record.reason.startswith("CW sent")


def test_a_failed_run_keeps_its_error_and_deletes_its_version(first_run: Path, population: Path,
                                                              tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    extracts = tmp_path / "extracts"
    shutil.copytree(population / "hmis", extracts / "hmis")
    failed = _run(workdir, extracts)  # CW, CS and TANF missing, and not marked optional
    assert failed.returncode != 0 and "configured source(s) missing" in failed.stderr
    run = Workdir(workdir).registry.runs()[0]
    assert run.status == "failed" and "missing" in run.error
    assert not Workdir(workdir).version_path(run.run_id).exists()


def test_one_run_at_a_time(first_run: Path, population: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    with Workdir(workdir).exclusive():
        second = _run(workdir, population)
        with pytest.raises(RunInProgress), Workdir(workdir).exclusive():
            pass
    assert second.returncode != 0 and "another run is under way" in second.stderr


def test_old_versions_are_pruned_and_a_plain_warehouse_adopted(first_run: Path,
                                                               tmp_path: Path) -> None:
    """A work folder from before versions (a plain famlink.duckdb) becomes the first version;
    beyond keep_versions the oldest published ones are deleted, never the current one."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copy(first_run / "famlink.duckdb", workdir / "famlink.duckdb")  # the file itself
    folder = Workdir(workdir)
    with folder.exclusive():
        folder.reconcile()
    adopted = folder.current_run()
    assert adopted and adopted.endswith("-adopted") and (workdir / "famlink.duckdb").is_symlink()
    made = []
    for _ in range(3):
        with folder.exclusive():
            run_id, path = folder.begin()
            made.append(run_id)
            assert path.read_bytes() == folder.version_path(folder.current_run()).read_bytes()
            folder.publish(run_id, keep=2)
    assert folder.current_run() == made[-1]
    assert sorted(p.stem for p in folder.versions.iterdir()) == made[-2:]
    assert folder.registry.get(adopted).status == "removed"


EMPTY = {"sources": {}, "files": {}, "persons": None, "families": None, "lists": {}}


def test_gates_without_history_check_only_reject_rates() -> None:
    now = {**EMPTY, "sources": {"cw": 500}, "files": {"cw/persons.csv": {"read": 100,
                                                                         "rejected": 100}},
           "persons": 400, "lists": {"absent_parent_leads": 0}}
    gates = check(now, None, Gates())
    assert [(g.name, g.passed) for g in gates] == [("reject rate: cw/persons.csv", False)]
    assert "100 of 100 rows rejected (100.0%" in gates[0].detail


def test_gates_against_the_last_published_run() -> None:
    before = {"sources": {"cw": 1000, "tanf": 900}, "persons": 1500, "families": 400,
              "files": {"cw/persons.csv": {"read": 1000, "rejected": 10}},
              "lists": {"absent_parent_leads": 900, "support_in_error": 5}}
    now = {"sources": {"cw": 1010}, "persons": 1000, "families": 410,
           "files": {"cw/persons.csv": {"read": 1000, "rejected": 40}},
           "lists": {"absent_parent_leads": 0, "support_in_error": 12}}
    result = {g.name: g.passed for g in check(now, before, Gates())}
    assert result == {"source present: tanf": False, "reject rate: cw/persons.csv": False,
                      "staged records: cw": True, "persons": False, "families": True,
                      "list: absent_parent_leads": False}  # 5 -> 12 is too small to judge


def test_a_delivery_in_another_layout_publishes_nothing(first_run: Path, population: Path,
                                                        tmp_path: Path) -> None:
    """CW's persons.csv arrives ';'-delimited: every row rejected; the run fails with the
    reason, and what readers see is the last published version, whole."""
    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    extracts = tmp_path / "extracts"
    shutil.copytree(population, extracts)
    persons = extracts / "cw" / "persons.csv"
    persons.write_text(persons.read_text().replace(",", ";"))
    before = _version_bytes(workdir)
    failed = _run(workdir, extracts, only="cw,cs,hmis")
    assert failed.returncode != 0 and "';'-delimited" in failed.stderr
    assert _version_bytes(workdir) == before
    assert Workdir(workdir).registry.runs()[0].status == "failed"


def test_only_what_may_pass_on_its_own_is_retried() -> None:
    from prefect.states import Failed

    from flows.nightly import transient
    from linkage.ingest.loaded import IngestError
    from linkage.warehouse import WarehouseBusy

    def retried(exc: BaseException) -> bool:
        return transient(None, None, Failed(data=exc))

    assert retried(WarehouseBusy("held")) and retried(TimeoutError()) and retried(OSError(5, "io"))
    assert not retried(FileNotFoundError("gone")) and not retried(IngestError("bad file"))
    from linkage.warehouse import WarehouseKeyError

    assert not retried(WarehouseKeyError("wrong key"))
    assert not retried(ValueError("a bug"))


def test_a_held_run_built_from_a_version_no_longer_current_is_never_published(
        first_run: Path, tmp_path: Path) -> None:
    """Two runs held, both copied from the same version: once one is published, the other
    lacks what it added (new ids, list history) and can no longer be published."""
    from linkage.publish.workdir import PublishError

    workdir = tmp_path / "work"
    shutil.copytree(first_run, workdir, symlinks=True)
    folder = Workdir(workdir)
    with folder.exclusive():
        first, _ = folder.begin()
        folder.hold(first)
        second, _ = folder.begin()
        folder.hold(second)
        folder.accept(first, keep=3, by="Analyst A", reason="checked")
        with pytest.raises(PublishError):
            folder.accept(second, keep=3, by="Analyst A", reason="checked")
    assert folder.current_run() == first
    assert not folder.version_path(second).exists()  # pruned: it can never be published


def test_adopting_a_warehouse_keeps_what_its_log_held(tmp_path: Path) -> None:
    """A plain warehouse whose last writes are still in its WAL: the version adopted, and
    the copy the next run starts from, hold them."""
    import duckdb as db

    workdir = tmp_path / "work"
    workdir.mkdir()
    con = db.connect(str(workdir / "famlink.duckdb"))
    con.execute("SET checkpoint_threshold = '1GB'")
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.execute("INSERT INTO t VALUES (2)")
    # leave the WAL behind, as a process killed before its checkpoint would
    shutil.copy(workdir / "famlink.duckdb", tmp_path / "file")
    shutil.copy(workdir / "famlink.duckdb.wal", tmp_path / "wal")
    con.close()
    shutil.copy(tmp_path / "file", workdir / "famlink.duckdb")
    shutil.copy(tmp_path / "wal", workdir / "famlink.duckdb.wal")
    folder = Workdir(workdir)
    with folder.exclusive():
        folder.reconcile()
        _, path = folder.begin()
    with db.connect(str(path), read_only=True) as copy:
        assert copy.execute("SELECT count(*) FROM t").fetchall()[0][0] == 2
