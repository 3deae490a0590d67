"""The warehouse helpers: one writer, and bulk loads that leave the file checkpointed."""

from __future__ import annotations

import pytest

from linkage.warehouse import bulk_load, connect


def _vacuum_tasks(con) -> int:
    return int(con.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()[0][0])


def test_bulk_load_turns_vacuum_off_then_restores_it_and_checkpoints(tmp_path) -> None:
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute("SET max_vacuum_tasks = 7")
    with bulk_load(con):
        assert _vacuum_tasks(con) == 0
        con.execute("CREATE TABLE staged.t AS SELECT range AS x FROM range(1000)")
    assert _vacuum_tasks(con) == 7
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0  # everything is in the file itself
    assert con.execute("SELECT count(*) FROM staged.t").fetchall() == [(1000,)]


def test_bulk_load_restores_the_setting_when_the_load_fails(tmp_path) -> None:
    con = connect(tmp_path / "w.duckdb")
    before = _vacuum_tasks(con)
    with pytest.raises(RuntimeError, match="boom"), bulk_load(con):
        raise RuntimeError("boom")
    assert _vacuum_tasks(con) == before


def test_table_exists_takes_a_table_or_a_schema(tmp_path) -> None:
    from linkage.warehouse import table_exists

    con = connect(tmp_path / "w.duckdb")
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.leads (a INTEGER)")
    assert table_exists(con, "marts.leads") and table_exists(con, "marts")
    assert not table_exists(con, "marts.other") and not table_exists(con, "linked")
    assert not table_exists(con, "staged")  # a schema with no table is not there yet
