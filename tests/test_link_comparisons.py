"""The comparisons and guards of configs/linkage.yaml on hand-made pairs, through the same
standardization and SQL that a run uses."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pytest
from linking import scenario

from linkage.config import ConfigError
from linkage.link.blocking import build_candidates
from linkage.link.em import fit
from linkage.link.records import build_records
from linkage.link.settings import check_sql, load_linkage_config
from linkage.link.vectors import scheme_of, vectors_sql

CONFIG = load_linkage_config()


def levels(tmp_path: Path, left: dict, right: dict, groups=()) -> dict[str, str]:
    """The level label each comparison gives the pair, plus the guards that hold."""
    con = scenario(tmp_path / "w.duckdb", [{"record_id": "cw:1", **left},
                                           {"record_id": "cs:2", **right}], groups)
    build_records(con, CONFIG)
    con.execute("CREATE TEMP TABLE _p AS SELECT 1 AS rid_l, 2 AS rid_r, 'test' AS rule")
    row = con.execute(vectors_sql(con, CONFIG, "_p")).fetchdf().iloc[0]
    scheme = scheme_of(CONFIG)
    result = {name: ("no evidence" if row[f"g_{name}"] < 0 else labels[int(row[f"g_{name}"])])
              for name, labels in zip(scheme.names, scheme.labels, strict=True)}
    result["guards"] = list(row["guards"])
    return result


ANNA = {"first_name": "Anna", "last_name": "Smith", "dob": "1990-04-12", "sex": "F",
        "ssn": "123-45-6780"}


@pytest.mark.parametrize("left, right, comparison, expected", [
    ({"first_name": "William"}, {"first_name": "BILL"}, "first_name", "nickname"),
    ({"first_name": "Guadalupe"}, {"first_name": "Lupe"}, "first_name", "nickname"),
    ({"first_name": "Al"}, {"first_name": "Alfred"}, "first_name", "nickname"),
    ({"first_name": "Maria", "middle_name": "Elena"}, {"first_name": "Elena",
                                                       "middle_name": "Maria"},
     "first_name", "swapped_with_middle"),
    ({"first_name": "Jon"}, {"first_name": "Jonn"}, "first_name", "similar"),
    ({"last_name": "Garcia Lopez"}, {"last_name": "Lopez"}, "last_name", "shares_a_part"),
    ({"last_name": "Garcia-Lopez"}, {"last_name": "GARCIA LOPEZ"}, "last_name",
     "same_letters"),
    ({"last_name": "De La Cruz"}, {"last_name": "Delacruz"}, "last_name", "same_letters"),
    ({"dob": "1990-04-12"}, {"dob": "1990-12-04"}, "dob", "day_month_swapped"),
    ({"dob": "1990-04-12"}, {"dob": "1991-04-12"}, "dob", "year_off_by_one"),
    ({"dob": "1990-04-12"}, {"dob": "1990-04-13"}, "dob", "one_digit_off"),
    ({"dob": "1990-04-12"}, {"dob": "1900-01-01"}, "dob", "no evidence"),
    ({"ssn": "123456780"}, {"ssn": "123456708"}, "ssn", "transposed"),
    ({"ssn": "123456780"}, {"ssn": "123456781"}, "ssn", "one_digit_off"),
    ({"ssn": "123456780"}, {"ssn": "123456789"}, "ssn", "no evidence"),  # a placeholder
    ({"ssn": "987-65-4320"}, {"ssn": "123-45-6789"}, "ssn", "no evidence"),
    ({"ssn": "555-12-3456"}, {"ssn": "555-98-7654"}, "ssn", "different"),
])
def test_comparison_levels(tmp_path: Path, left: dict, right: dict, comparison: str,
                           expected: str) -> None:
    assert levels(tmp_path, {**ANNA, **left}, {**ANNA, **right})[comparison] == expected


def test_shelter_address_is_its_own_weaker_level(tmp_path: Path) -> None:
    shelter = {"address_line": "100 Main St", "city": "Riverton", "zip": "94000"}
    people = [{"record_id": f"cw:{i}", "first_name": f"P{i}", "last_name": "X", **shelter}
              for i in range(1, 6)]
    groups = [(f"cw:{i}", "cw_case", f"C{i}", "mother") for i in range(1, 6)]
    con = scenario(tmp_path / "w.duckdb", people, groups)
    build_records(con, CONFIG)
    con.execute("CREATE TEMP TABLE _p AS SELECT 1 AS rid_l, 2 AS rid_r, 'test' AS rule")
    row = con.execute(vectors_sql(con, CONFIG, "_p")).fetchdf().iloc[0]
    labels = dict(zip(scheme_of(CONFIG).names, scheme_of(CONFIG).labels, strict=True))
    assert labels["address"][int(row["g_address"])] == "same_shared_place"


def test_twins_guard(tmp_path: Path) -> None:
    twin = {**ANNA, "ssn": None}
    result = levels(tmp_path, {**twin, "first_name": "Ava"}, {**twin, "first_name": "Ella"})
    assert result["guards"] == ["twins"]
    assert levels(tmp_path, {**twin, "first_name": "Elizabeth"},
                  {**twin, "first_name": "Beth"})["guards"] == []


def test_jr_sr_guards(tmp_path: Path) -> None:
    senior = {**ANNA, "first_name": "Robert", "sex": "M", "suffix": "SR", "dob": "1960-02-02"}
    junior = {**senior, "suffix": "JR", "dob": "1985-07-07"}
    assert levels(tmp_path, senior, junior)["guards"] == ["generations_apart",
                                                          "suffix_conflict"]
    # a Jr written with his suffix in the surname ("SMITH JR"), no birth date on the other
    assert levels(tmp_path, {**junior, "suffix": None, "last_name": "Smith Jr"},
                  {**senior, "dob": None})["guards"] == ["suffix_conflict"]


def test_placeholder_like_ssn_shared_by_strangers_does_not_block_them(tmp_path: Path) -> None:
    """An SSN that slipped past the placeholder list but is held by more records than
    max_block_size pairs nobody through the SSN rule."""
    many = CONFIG.blocking.max_block_size + 1
    people = [{"record_id": f"cs:{i}", "first_name": f"N{i}", "last_name": f"S{i}",
               "dob": f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}", "ssn": "555-11-2222"}
              for i in range(many)]
    con = scenario(tmp_path / "w.duckdb", people)
    build_records(con, CONFIG)
    assert build_candidates(con, CONFIG)["ssn"] == 0


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "configs" / "linkage.yaml").read_text()
    bad = tmp_path / "linkage.yaml"
    bad.write_text(text.replace("sql: first_name_l = first_name_r",
                                "sql: first_nam_l = first_name_r"))
    config = load_linkage_config(bad)
    con = scenario(tmp_path / "w.duckdb", [{"record_id": "cw:1", **ANNA}])
    with pytest.raises(ConfigError, match=r"comparisons\.0\.levels\.0\.sql"):
        check_sql(con, config, bad)
    bad.write_text(re.sub(r"(?m)^  link: [0-9.]+$", "  link: 1.5", text))
    with pytest.raises(ConfigError, match=r"thresholds\.link = 1\.5"):
        load_linkage_config(bad)
    bad.write_text(text.replace("max_block_size: 100", "max_block_size: many"))
    with pytest.raises(ConfigError, match="max_block_size"):
        load_linkage_config(bad)
    bad.write_text(text.replace("signature_min_members_elsewhere: 3",
                                "signature_min_members_elsewhere: 2")
                   .replace("signature_min_members: 2", "signature_min_members: 3"))
    with pytest.raises(ConfigError, match="signature_min_members_elsewhere"):
        load_linkage_config(bad)
    bad.write_text(text.replace("signature: [dob, sex]", "signature: []"))
    with pytest.raises(ConfigError, match="signature_pairs without signature does nothing"):
        load_linkage_config(bad)


def test_em_recovers_known_parameters() -> None:
    """Patterns drawn from a known two-class model: EM finds m, u and the match share."""
    rng = np.random.default_rng(7)
    n, share = 400_000, 0.05
    m = [np.array([0.9, 0.07, 0.03]), np.array([0.85, 0.15]), np.array([0.95, 0.05])]
    u = [np.array([0.01, 0.04, 0.95]), np.array([0.1, 0.9]), np.array([0.2, 0.8])]
    match = rng.random(n) < share
    columns = [np.where(match, rng.choice(len(mi), n, p=mi), rng.choice(len(ui), n, p=ui))
               for mi, ui in zip(m, u, strict=True)]
    patterns, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
    model = fit(patterns, counts, ["a", "b", "c"],
                [["x", "y", "z"], ["x", "z"], ["x", "z"]], match_share=0.2)
    assert model.match_share == pytest.approx(share, abs=0.005)
    for estimated, true_m, true_u in zip(model.comparisons, m, u, strict=True):
        assert np.allclose(estimated.m, true_m, atol=0.02)
        assert np.allclose(estimated.u, true_u, atol=0.02)


@pytest.mark.parametrize("exclusive", [True, False])
def test_household_level_of_a_record_already_linked_to_another_member(exclusive: bool) -> None:
    """Mother 1 and child 2 in one case, mother 3 and child 4 in another (where 6 is 3 again,
    a later month), and 1 links to 3. The children get "one linked"; mother 1 against child 4
    is mostly a parent, not the same person: with `exclusive` its own level, else no support.
    Mother 1 against 6 is not that level: 6 is the one 1 links to."""
    from linkage.link.household import _add_level
    from linkage.link.vectors import HOUSEHOLD_EXCLUSIVE, HOUSEHOLD_LABELS

    con = duckdb.connect()
    con.execute("""
        CREATE TEMP TABLE _hh AS
        SELECT * FROM (VALUES (1, 10), (2, 10), (3, 20), (4, 20), (6, 20)) t(rid, gid);
        CREATE TEMP TABLE _glinks AS
        SELECT * FROM (VALUES (10, 20, 1, 3), (20, 10, 3, 1), (20, 20, 3, 6), (20, 20, 6, 3))
                      t(gx, gy, x, y);
        CREATE TABLE vectors AS
        SELECT *, NULL::TINYINT AS g_household
        FROM (VALUES (2, 4), (1, 4), (1, 3), (1, 5), (1, 6)) t(rid_l, rid_r)""")
    _add_level(con, "vectors", exclusive)
    labels = HOUSEHOLD_LABELS + [HOUSEHOLD_EXCLUSIVE]
    level = {(a, b): labels[g] if g >= 0 else "no evidence"
             for a, b, g in con.execute("SELECT rid_l, rid_r, g_household FROM vectors"
                                        ).fetchall()}
    assert level[(2, 4)] == "one_linked"
    assert level[(1, 3)] == "none_linked"  # its own link is not its support
    assert level[(1, 4)] == ("linked_to_another" if exclusive else "none_linked")
    assert level[(1, 5)] == "no evidence"  # 5 has no group with others
    assert level[(1, 6)] == "none_linked"
