"""The comparisons of configs/linkage.yaml on hand-made pairs, through the same
standardization and SQL that a run uses, and the training rules that keep weights sensible."""

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
from linkage.link.settings import LinkageConfig, check_sql, load_linkage_config
from linkage.link.vectors import scheme_of, vectors_sql

CONFIG = load_linkage_config()


def levels(tmp_path: Path, left: dict, right: dict, groups=()) -> dict[str, str]:
    """The level label each comparison gives the pair, and whether the two are `apart`
    (present in one case or household at the same time)."""
    con = scenario(tmp_path / "w.duckdb", [{"record_id": "cw:1", **left},
                                           {"record_id": "cs:2", **right}], groups)
    build_records(con, CONFIG)
    con.execute("CREATE TEMP TABLE _p AS SELECT 1 AS rid_l, 2 AS rid_r, 'test' AS rule")
    row = con.execute(vectors_sql(con, CONFIG, "_p")).fetchdf().iloc[0]
    scheme = scheme_of(CONFIG)
    result = {name: ("no evidence" if row[f"g_{name}"] < 0 else labels[int(row[f"g_{name}"])])
              for name, labels in zip(scheme.names, scheme.labels, strict=True)}
    result["apart"] = bool(row["apart"])
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


def test_twin_is_evidence_not_a_veto(tmp_path: Path) -> None:
    """Same birthday, other first name: a level of the twin comparison only where a case or
    household shows the record has a twin; elsewhere it is a first-name difference, weighed
    like any other (a veto there splits a person whose first name was mistyped)."""
    twin = {**ANNA, "ssn": None}
    ava, ella = {**twin, "first_name": "Ava"}, {**twin, "first_name": "Ella"}
    alone = levels(tmp_path, ava, ella)
    assert alone["twin"] == "no evidence" and alone["first_name"] == "different"
    assert not alone["apart"]
    # cw:1 (Ava) has a sister born the same day on her case: the twin level applies to her
    # pairs with records of another first name, and her sister's record is apart from her
    people = [{"record_id": "cw:1", **ava}, {"record_id": "cs:2", **ella},
              {"record_id": "cw:3", **ella}]
    groups = [("cw:1", "cw_case", "C1", "child"), ("cw:3", "cw_case", "C1", "child")]
    con = scenario(tmp_path / "t.duckdb", people, groups)
    build_records(con, CONFIG)
    # rids follow record ids: cs:2 is 1, cw:1 is 2, cw:3 is 3
    con.execute("CREATE TEMP TABLE _p AS SELECT * FROM (VALUES (1, 2, 'test'), (2, 3, 'test'))"
                " t(rid_l, rid_r, rule)")
    rows = con.execute(vectors_sql(con, CONFIG, "_p") + " ORDER BY rid_l").fetchdf()
    twin_labels = dict(zip(scheme_of(CONFIG).names, scheme_of(CONFIG).labels,
                           strict=True))["twin"]
    assert [twin_labels[g] for g in rows["g_twin"]] == ["different", "different"]
    assert list(rows["apart"]) == [False, True]
    assert levels(tmp_path, {**twin, "first_name": "Elizabeth"},
                  {**twin, "first_name": "Beth"})["first_name"] == "nickname"


def test_jr_sr_is_evidence_not_a_veto(tmp_path: Path) -> None:
    """A Jr and his father: births a generation apart, suffixes in conflict, an SSN shared
    across generations. Each is a level whose weight training estimates."""
    senior = {**ANNA, "first_name": "Robert", "sex": "M", "suffix": "SR", "dob": "1960-02-02"}
    junior = {**senior, "suffix": "JR", "dob": "1985-07-07"}
    result = levels(tmp_path, senior, junior)
    assert (result["dob"], result["suffix"], result["ssn"]) == (
        "different", "different", "shared_across_generations")
    assert not result["apart"]
    assert levels(tmp_path, senior, {**junior, "dob": "1970-07-07"})["dob"] == \
        "within_twelve_years"


@pytest.mark.parametrize("left, right, comparison, expected", [
    ({"first_name": "Sarha"}, {"first_name": "Sarah"}, "first_name", "similar"),
    ({"first_name": "Charyti"}, {"first_name": "Charity"}, "first_name", "similar"),
    ({"first_name": "J"}, {"first_name": "James"}, "first_name", "initial"),
    ({"first_name": "Smith", "last_name": "Anna"}, {}, "first_name", "swapped_with_last"),
    ({"first_name": "Smith", "last_name": "Anna"}, {}, "last_name", "swapped_with_first"),
    ({"dob": "1990-04-12"}, {"dob": "1990-04-21"}, "dob", "one_digit_off"),
])
def test_real_record_errors_have_levels(tmp_path: Path, left: dict, right: dict,
                                        comparison: str, expected: str) -> None:
    assert levels(tmp_path, {**ANNA, **left}, {**ANNA, **right})[comparison] == expected


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


def _draw(m: list[np.ndarray], u: list[np.ndarray], share: float, n: int,
          seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Patterns and their counts drawn from a two-class model."""
    rng = np.random.default_rng(seed)
    match = rng.random(n) < share
    columns = [np.where(match, rng.choice(len(mi), n, p=mi), rng.choice(len(ui), n, p=ui))
               for mi, ui in zip(m, u, strict=True)]
    return np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)


def test_em_recovers_known_parameters() -> None:
    """Patterns drawn from a known two-class model: EM finds m, u and the match share."""
    share = 0.05
    m = [np.array([0.9, 0.07, 0.03]), np.array([0.85, 0.15]), np.array([0.95, 0.05])]
    u = [np.array([0.01, 0.04, 0.95]), np.array([0.1, 0.9]), np.array([0.2, 0.8])]
    patterns, counts = _draw(m, u, share, 400_000)
    model = fit(patterns, counts, ["a", "b", "c"],
                [["x", "y", "z"], ["x", "z"], ["x", "z"]], match_share=0.2)
    assert model.match_share == pytest.approx(share, abs=0.005)
    for estimated, true_m, true_u in zip(model.comparisons, m, u, strict=True):
        assert np.allclose(estimated.m, true_m, atol=0.02)
        assert np.allclose(estimated.u, true_u, atol=0.02)
        assert estimated.pooled == {}


def test_closer_agreement_never_weighs_less() -> None:
    """Data in which a looser level is more telling than a closer one (a transposed SSN that
    no stranger shares, an exact one that relatives do): training pools the two, so the
    closer level never weighs less, and says which level it pooled."""
    m = [np.array([0.80, 0.10, 0.10]), np.array([0.9, 0.1])]
    u = [np.array([0.02, 0.0005, 0.9795]), np.array([0.2, 0.8])]
    patterns, counts = _draw(m, u, 0.1, 200_000)
    labels = [["exact", "transposed", "different"], ["exact", "different"]]
    free = fit(patterns, counts, ["ssn", "x"], labels, match_share=0.2,
               ranked=[[True, False, True], [True, True]])
    assert free.comparisons[0].weights()[1] > free.comparisons[0].weights()[0] + 1
    model = fit(patterns, counts, ["ssn", "x"], labels, match_share=0.2)
    weights = model.comparisons[0].weights()
    assert weights[0] == pytest.approx(weights[1])
    assert weights[1] > weights[2]
    assert model.comparisons[0].pooled == {"transposed": "exact"}


def test_rarely_reached_levels_are_shrunk_not_extreme() -> None:
    """A level that no match happens to reach (a first-name typo in data where typos are
    rare) weighs a bounded amount with `prior_pairs` pseudo-matches, not whatever a floor of
    1e-12 gives (-30 bits and worse); a level no pair reaches at all takes the weight of its
    nearest reached level, so the order holds when the model scores other data."""
    from linkage.link.em import ordered_m

    u = np.array([0.01, 0.01, 0.98])
    m_mass = np.array([950.0, 0.0, 50.0])  # expected matches at each level
    bare, _ = ordered_m(m_mass, u, prior_pairs=0, ranked=[True, False, True])
    assert bare[1] == 0  # log(0 / u): minus infinity, the floor then decides
    m, first = ordered_m(m_mass, u, prior_pairs=10)
    weights = np.log2(m / u)
    assert -8 < weights[1] < weights[0] and weights[1] >= weights[2] - 1e-9
    assert first == [0, 1, 1]  # "similar" and "different" pooled: they share one weight
    assert m.sum() == pytest.approx(1)

    m_true = [np.array([0.95, 0.05, 0.0]), np.array([0.95, 0.05])]
    u_true = [np.array([0.01, 0.99, 0.0]), np.array([0.05, 0.95])]
    patterns, counts = _draw(m_true, u_true, 0.05, 50_000)
    model = fit(patterns, counts, ["first_name", "x"],
                [["exact", "different", "unseen"], ["exact", "different"]], prior_pairs=10)
    weights = model.comparisons[0].weights()
    assert weights[2] == pytest.approx(weights[1])  # no pair says more: the closer one's weight


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


def test_a_rule_with_weak_keys_keeps_to_its_own_smaller_blocks(tmp_path: Path) -> None:
    """A ZIP and a name sound are weak keys: the rule's own max_block_size skips a value
    shared by more records than it allows, where the global limit would pair them all."""
    people = [{"record_id": f"cs:{i}", "first_name": "Ann", "last_name": "ABCDEFGHIJKL"[i] + "ROWN",
               "dob": f"19{50 + i}-01-0{1 + i % 9}", "zip": "94000"} for i in range(12)]
    con = scenario(tmp_path / "w.duckdb", people)
    build_records(con, CONFIG)
    rule = next(r for r in CONFIG.blocking.rules if r.name == "zip_first_name")
    assert rule.max_block_size is not None and rule.max_block_size < len(people)
    assert build_candidates(con, CONFIG)["zip_first_name"] == 0
    data = CONFIG.model_dump()
    for r in data["blocking"]["rules"]:
        r["max_block_size"] = None
    assert build_candidates(con, LinkageConfig.model_validate(data))["zip_first_name"] > 0


def test_namesakes_do_not_teach_that_birth_dates_differ_among_matches() -> None:
    """Non-matches that agree on a common name far more often than independence allows
    (first and last names go together within an origin) look to plain EM like matches whose
    birth dates differ. Learning m from the pairs the other comparisons make certain, with
    none arguing against (`anchor`), gets the birth date's m back to the truth."""
    m = [np.array([0.95, 0.05]), np.array([0.99, 0.01]), np.array([0.97, 0.03])]
    u = [np.array([0.001, 0.999]), np.array([3e-4, 1 - 3e-4]), np.array([1e-6, 1 - 1e-6])]
    patterns, counts = _draw(m, u, 0.001, 2_000_000)
    # 5,000 namesakes: same name, other birth date, no SSN to tell them apart
    namesakes = np.array([[0, 1, -1]])
    patterns = np.concatenate([patterns, namesakes])
    counts = np.concatenate([counts, [5000]])
    names = ["name", "dob", "ssn"]
    labels = [["exact", "different"]] * 3
    plain = fit(patterns, counts, names, labels, match_share=0.01, prior_pairs=10)
    anchored = fit(patterns, counts, names, labels, match_share=0.01, prior_pairs=10,
                   anchor=0.99999)
    assert plain.comparisons[1].m[1] > 0.03  # namesakes counted as matches
    assert anchored.comparisons[1].m[1] == pytest.approx(0.01, abs=0.005)
