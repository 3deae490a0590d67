"""A wrong configs/synthetic.yaml fails with one line naming the file, the key and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from linkage.config import ConfigError
from synthetic_data.config import DEFAULT_PATH, load_synthetic_config


def _write(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    edit(data)
    path = tmp_path / "synthetic.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_config_loads() -> None:
    config = load_synthetic_config()
    assert 0 < config.hard_cases.twin < 1


def test_rate_out_of_range_names_file_key_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["hard_cases"].update(twin=1.5))
    with pytest.raises(ConfigError) as err:
        load_synthetic_config(path)
    message = str(err.value)
    assert str(path) in message and "hard_cases.twin" in message and "1.5" in message


def test_misspelt_key_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["coverage"].update(cw_cases=0.3))
    with pytest.raises(ConfigError, match=r"coverage\.cw_cases"):
        load_synthetic_config(path)


def test_missing_key_and_bad_shares(tmp_path: Path) -> None:
    def edit(d):
        del d["family"]["split"]
        d["ethnicity"]["white"] = 0.5

    with pytest.raises(ConfigError) as err:
        load_synthetic_config(_write(tmp_path, edit))
    message = str(err.value)
    assert "family.split" in message and "add up to 1" in message


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_synthetic_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("window: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_synthetic_config(bad)


ESCAPES = ["x); COPY (SELECT ssn FROM staged.person_records) TO 'leak.csv' (FORMAT csv",
           "ssn IS NOT NULL; COPY staged.person_records TO 'leak.csv'",
           "true -- the rest of the statement is gone", "ssn, first_name", "a) OR (b"]


@pytest.mark.parametrize("fragment", ESCAPES)
def test_a_sql_fragment_is_one_expression_or_refused_on_load(fragment: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """A fragment of configs/linkage.yaml or marts.yaml is pasted into famlink's statements:
    one that tried to end the statement and run its own (writing SSNs to a file when the
    config is checked) is refused when the file is read, naming the key; nothing runs."""
    from linkage.families.settings import MARTS_CONFIG, load_marts_config
    from linkage.link.settings import LINKAGE_CONFIG, load_linkage_config

    monkeypatch.chdir(tmp_path)
    data = yaml.safe_load(LINKAGE_CONFIG.read_text())
    data["comparisons"][0]["levels"][0]["sql"] = fragment
    path = tmp_path / "linkage.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"comparisons\.0\.levels\.0\.sql"):
        load_linkage_config(path)
    marts = yaml.safe_load(MARTS_CONFIG.read_text())
    marts["supportive_housing_eligible"]["priority"][0]["sql"] = fragment
    path = tmp_path / "marts.yaml"
    path.write_text(yaml.safe_dump(marts))
    with pytest.raises(ConfigError, match=r"priority\.0\.sql"):
        load_marts_config(path)
    assert not (tmp_path / "leak.csv").exists()


def test_a_query_fragment_is_one_select() -> None:
    from linkage.config import one_query

    assert one_query("SELECT 'cw:' || person_id AS record_id FROM raw.cw__participants")
    for bad in ("SELECT 1) UNION (SELECT ssn FROM staged.person_records",
                "SELECT 1; DROP TABLE linked.persons", "COPY staged.person_records TO 'x'"):
        with pytest.raises(ValueError):
            one_query(bad)


def test_the_spark_engine_without_pyspark_says_what_to_install(
        ingested: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyspark is an extra (`famlink[spark]`), not a dependency: choosing the Spark engine
    without it is a one-line error naming what to install, not an ImportError's traceback."""
    import shutil
    import sys

    from click.testing import CliRunner

    from flows.cli import cli
    from linkage.link.settings import LINKAGE_CONFIG

    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    config = yaml.safe_load(LINKAGE_CONFIG.read_text())
    config["engine"]["name"] = "spark"
    path = tmp_path / "linkage.yaml"
    path.write_text(yaml.safe_dump(config))
    db = tmp_path / "famlink.duckdb"
    shutil.copy(ingested, db)
    result = CliRunner().invoke(cli, ["link", "--db", str(db), "--config", str(path)])
    assert result.exit_code != 0
    assert "pip install 'famlink[spark]'" in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("famlink-spark-*"))  # no work folder left behind
