"""The warehouse encrypted at rest when a key is configured (issue 15, item 7).

With FAMLINK_KEY_FILE naming a key file, `linkage.warehouse.connect` opens the warehouse
encrypted: its file, its WAL and its spill files hold no plaintext. Writing one needs DuckDB's
httpfs extension, which only the `encryption` extra provides (DuckDB 1.4.4 with the
duckdb-ext-httpfs package); `make test-encryption` runs this module in .venv-encryption, and
the main suite, on DuckDB 2.0, skips it.

Each check that looks for plaintext first finds it in the same data written without a key,
so that a search that could never succeed does not pass for encryption.
"""

from __future__ import annotations

import csv
import secrets
import stat
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from linkage import warehouse
from linkage.warehouse import (
    KEY_FILE_VARIABLE,
    WarehouseKeyError,
    connect,
    encryption_available,
)

needs_encryption = pytest.mark.skipif(
    not encryption_available(),
    reason=f"DuckDB {duckdb.__version__} cannot load httpfs from the duckdb-ext-httpfs package, "
           f"so it cannot write an encrypted warehouse: `make test-encryption` runs these "
           f"tests with `pip install -e '.[dev,encryption]'`")

# Planted in the CW person file: found nowhere in the synthetic data, nor in an encrypted file.
NAME = "QUIXBYWALDORF"
SSN = "417395826"
PLAINTEXT = [NAME.encode(), NAME.lower().encode(), SSN.encode(), b"417-39-5826"]


def _key_file(folder: Path, mode: int = 0o600) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"famlink-{secrets.token_hex(4)}.key"
    path.write_text(secrets.token_urlsafe(32) + "\n")
    path.chmod(mode)
    return path


def _found(paths: list[Path]) -> set[bytes]:
    """Which of the planted values appear, as bytes, in any of `paths`."""
    seen: set[bytes] = set()
    for path in paths:
        data = path.read_bytes()
        seen |= {value for value in PLAINTEXT if value in data}
    return seen


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic delivery, with one CW person's name and SSN replaced by ours."""
    from synthetic_data.generate import synthesize

    out = tmp_path_factory.mktemp("encryption")
    synthesize(400, 7, out / "pop")
    persons = out / "pop" / "extracts" / "cw" / "persons.csv"
    with open(persons, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0].update(first_name=NAME, last_name=NAME, ssn=SSN)
    with open(persons, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out / "pop" / "extracts"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _key_file(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def published(extracts: Path, key_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two nightly runs with the key set: the second starts from a byte copy of the first's
    encrypted version. The work folder."""
    from linkage.pipeline import building, families_step, finish, ingest_step, link_step
    from linkage.publish.settings import load_publish_config

    workdir = tmp_path_factory.mktemp("published") / "work"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_FILE_VARIABLE, str(key_file))
        for only in (["cw", "cs", "hmis"], None):
            with building(workdir) as run:
                ingest_step(run.db, extracts, only=only)
                link_step(run.db, decisions=run.decisions, decisions_as_of=run.decisions_as_of,
                          reports=run.reports)
                families_step(run.db)
                verdict = finish(run, load_publish_config())
            assert verdict.published, [g for g in verdict.gates if not g.passed]
    return workdir


def _versions(workdir: Path) -> list[Path]:
    return sorted((workdir / "versions").glob("*.duckdb"))


@needs_encryption
def test_the_nightly_run_publishes_encrypted_versions(published: Path, extracts: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    versions = _versions(published)
    assert len(versions) == 2 and (published / "famlink.duckdb").resolve() == versions[-1]
    for version in versions:
        with pytest.raises(duckdb.Error, match="encrypted"):
            duckdb.connect(str(version), read_only=True)
    assert _found(versions + sorted((published / "versions").glob("*.wal"))) == set()
    # the same data without a key: the planted values are there to be found
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    from linkage.pipeline import ingest_step

    plain = tmp_path / "plain.duckdb"
    ingest_step(plain, extracts, only=["cw"])
    assert SSN.encode() in _found([plain])


@needs_encryption
def test_a_reader_with_the_key_reads_it(published: Path, key_file: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from linkage.cli import cli
    from webapp.reader import Reader

    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    db = published / "famlink.duckdb"
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM linked.persons").fetchall()[0][0] > 0
        cursor = warehouse.cursor(con)  # a cursor lands in the warehouse too
        assert cursor.execute("SELECT count(*) FROM staged.person_records "
                              "WHERE system = 'tanf'").fetchall()[0][0] > 0
        assert con.execute("SELECT count(*) FROM staged.person_records WHERE ssn = ?",
                           [SSN]).fetchall()[0][0] == 1
    finally:
        con.close()
    reader = Reader(db)  # the web app's
    try:
        assert reader.cursor().execute("SELECT count(*) FROM families.members"
                                       ).fetchall()[0][0] > 0
    finally:
        reader.close()
    result = CliRunner().invoke(cli, ["review", "queue", "--db", str(db), "--limit", "1"])
    assert result.exit_code == 0, result.output
    # what is new in a list since the previous version: both versions attached, with the key
    from linkage.marts.lists import LISTS, changes

    for name in LISTS:
        assert changes(db, name).previous_run == _versions(published)[0].stem


@needs_encryption
def test_without_the_key_or_with_another_the_message_says_so(
        published: Path, key_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from linkage.cli import cli

    db = published / "famlink.duckdb"
    monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    with pytest.raises(WarehouseKeyError, match=f"is encrypted: set {KEY_FILE_VARIABLE}"):
        connect(db, read_only=True)
    result = CliRunner().invoke(cli, ["review", "queue", "--db", str(db)])
    assert result.exit_code != 0 and "is encrypted" in result.output
    assert "Traceback" not in result.output

    other = _key_file(tmp_path)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(other))
    with pytest.raises(WarehouseKeyError, match="does not open it") as caught:
        connect(db, read_only=True)
    for key in (other.read_text().strip(), key_file.read_text().strip()):
        assert key not in str(caught.value)
    result = CliRunner().invoke(cli, ["review", "queue", "--db", str(db)])
    assert result.exit_code != 0 and "does not open it" in result.output


@needs_encryption
def test_a_plain_warehouse_is_not_opened_with_a_key(tmp_path: Path, key_file: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    with pytest.raises(WarehouseKeyError, match="is not encrypted"):
        connect(plain)


@needs_encryption
@pytest.mark.parametrize("encrypted", [True, False], ids=["with a key", "without (control)"])
def test_the_wal_and_spill_files(encrypted: bool, key_file: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer's uncheckpointed changes (the WAL) and what it spills to disk."""
    if encrypted:
        monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    else:
        monkeypatch.delenv(KEY_FILE_VARIABLE, raising=False)
    db = tmp_path / "famlink.duckdb"
    spill = tmp_path / "spill"
    con = connect(db)
    try:
        warehouse.use_resources(con, db, "48MB", str(spill))
        con.execute("SET checkpoint_threshold = '10GB'")  # the rows stay in the WAL
        con.execute("CREATE TABLE raw.planted AS SELECT ? AS name, ? AS ssn", [NAME, SSN])
        wal = Path(f"{db}.wal")
        assert wal.exists()
        assert _found([wal]) == (set() if encrypted else {NAME.encode(), SSN.encode()})
        # a temporary table twice the memory limit: its blocks go to the spill folder
        con.execute("CREATE TEMP TABLE big AS SELECT ? || i::VARCHAR AS name, ? AS ssn "
                    "FROM range(3000000) r(i)", [NAME, SSN])
        spilled = [p for p in spill.rglob("*") if p.is_file()]
        assert spilled and sum(p.stat().st_size for p in spilled) > 10 * 2**20
        assert _found(spilled) == (set() if encrypted else {NAME.encode(), SSN.encode()})
    finally:
        con.close()


def test_a_key_file_others_may_read_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """On any DuckDB: the key file is checked before anything is opened."""
    for mode in (0o644, 0o640, 0o604, 0o660):
        key_file = _key_file(tmp_path / oct(mode), mode)
        monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
        with pytest.raises(WarehouseKeyError, match="chmod 600") as caught:
            connect(tmp_path / "famlink.duckdb")
        assert key_file.read_text().strip() not in str(caught.value)
        assert stat.S_IMODE(key_file.stat().st_mode) == mode
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(tmp_path / "missing.key"))
    with pytest.raises(WarehouseKeyError, match="cannot be read"):
        connect(tmp_path / "famlink.duckdb")
    short = tmp_path / "short.key"
    short.write_text("abc")
    short.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(short))
    with pytest.raises(WarehouseKeyError, match="shorter than"):
        connect(tmp_path / "famlink.duckdb")
    assert not (tmp_path / "famlink.duckdb").exists()


@needs_encryption
def test_without_httpfs_nothing_is_written_plain(key_file: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: a key was asked for and encryption cannot be had."""
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    monkeypatch.setattr(warehouse, "extension_directory", lambda: None)
    db = tmp_path / "famlink.duckdb"
    with pytest.raises(WarehouseKeyError, match=r"pip install 'famlink\[encryption\]'"):
        connect(db)
    assert not db.exists()
    empty = tmp_path / "extensions"
    empty.mkdir()
    monkeypatch.setattr(warehouse, "extension_directory", lambda: empty)
    with pytest.raises(WarehouseKeyError, match=r"cannot load httpfs"):
        connect(db)
    assert not db.exists()


@needs_encryption
def test_a_second_writer_is_told_the_warehouse_is_busy(key_file: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is taken by the ATTACH now; the message is the same. (A second writer in
    another process: DuckDB refuses a second one in the same process otherwise.)"""
    import subprocess
    import sys

    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    db = tmp_path / "famlink.duckdb"
    con = connect(db)
    try:
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from linkage.warehouse import connect, "
             "WarehouseBusy\ntry: connect(sys.argv[1])\nexcept WarehouseBusy as e: print(e)",
             str(db)], capture_output=True, text=True, timeout=120)
        assert "is open in another process" in other.stdout, other.stderr[-2000:]
    finally:
        con.close()


@pytest.mark.skipif(encryption_available(), reason="this DuckDB can encrypt: the tests above run")
def test_a_key_without_the_encryption_extra_fails_closed(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The default install (DuckDB 2.0, no extension packages): a configured key stops every
    write, with the install to make, rather than writing a plain warehouse."""
    key_file = _key_file(tmp_path / "keys")
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(key_file))
    db = tmp_path / "famlink.duckdb"
    with pytest.raises(WarehouseKeyError, match=r"pip install 'famlink\[encryption\]'"):
        connect(db)
    assert not db.exists()
