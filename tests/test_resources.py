"""Memory that fits the machine, and running out of it said in one line (issue 17)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from helpers import CONFIGS, ROOT

from linkage.link.settings import load_linkage_config
from linkage.warehouse import use_resources


def test_the_default_is_a_share_of_the_machine_not_a_fixed_gigabyte(tmp_path: Path) -> None:
    config = load_linkage_config()
    assert config.resources.memory_limit == "auto"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    use_resources(con, tmp_path / "w.duckdb", "auto", None)
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    number, unit = limit.split()
    gib = float(number) * {"GiB": 1, "MiB": 1 / 1024, "TiB": 1024}[unit]
    assert 0.5 * machine < gib <= machine  # DuckDB's own 80%, whatever the machine
    spill = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    assert Path(spill).parent == tmp_path  # it spills beside the warehouse


def test_an_undersized_limit_is_one_line_naming_the_step_and_setting(ingested: Path,
                                                                      tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(ingested, db)
    data = yaml.safe_load((CONFIGS / "linkage.yaml").read_text())
    data["resources"]["memory_limit"] = "8MB"
    config = tmp_path / "linkage.yaml"
    config.write_text(yaml.safe_dump(data))
    result = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "link",
                             "--db", str(db), "--config", str(config)], capture_output=True,
                            text=True, cwd=ROOT, env=os.environ.copy(), timeout=600)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "link ran out of memory" in message and "resources.memory_limit" in message


def test_an_engine_running_out_is_worded_with_its_own_setting() -> None:
    """Spark's driver running out of memory (linkage.engines.spark raises EngineOutOfMemory)
    reads as DuckDB's does: the step, the setting and its value, in one line."""
    from linkage.warehouse import EngineOutOfMemory, OutOfMemory, out_of_memory_as

    with pytest.raises(OutOfMemory) as caught, \
            out_of_memory_as("families", duckdb.connect()):
        raise EngineOutOfMemory("engine.spark.driver_memory", "4g")
    message = str(caught.value)
    assert message.startswith("families ran out of memory (engine.spark.driver_memory: 4g)")
    assert "Raise engine.spark.driver_memory in configs/linkage.yaml" in message
    assert "\n" not in message
