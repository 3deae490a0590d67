"""Families and the four marts: hand-written scenarios with the rows each list must hold, and
end-to-end accuracy against the generator's truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from linking import scenario

from linkage.cli import cli
from linkage.evaluate import evaluate_families
from linkage.families.build import build_families
from linkage.families.settings import load_marts_config
from linkage.link.run import link
from linkage.link.settings import load_linkage_config
from linkage.marts.build import build_marts
from linkage.warehouse import connect

MARTS = load_marts_config()
LINKAGE = load_linkage_config()
OPEN_CW = {"case_status": "OPEN", "case_plan_goal": "REUNIFICATION"}
ORDER = {"case_type": "F", "case_status": "OPEN", "order_indicator": "Y"}


def _people(**people: dict) -> list[dict]:
    return [{"record_id": record_id.replace("_", ":", 1), **fields}
            for record_id, fields in people.items()]


def run_scenario(tmp_path: Path, linked: Path, people: list[dict], groups: list,
                 cases: list = (), events: list = ()) -> duckdb.DuckDBPyConnection:
    """The scenario through the real link (with the model trained on the small population,
    as a nightly run reuses its saved model), families and marts."""
    db = tmp_path / "famlink.duckdb"
    con = scenario(db, people, groups, cases, events)
    trained = duckdb.connect(str(linked), read_only=True)
    model = trained.execute("SELECT * FROM linked.model").fetchall()
    trained.close()
    con.execute("CREATE SCHEMA IF NOT EXISTS linked; CREATE TABLE linked.model (saved_at "
                "TIMESTAMP, model_key VARCHAR, rounds JSON)")
    con.executemany("INSERT INTO linked.model VALUES (?, ?, ?)", model)
    assert link(con, db, LINKAGE).model_reused
    build_families(con, MARTS)
    build_marts(con, MARTS)
    return con


def person_of(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    return con.execute("SELECT person_id FROM linked.persons WHERE record_id = ?",
                       [record_id]).fetchall()[0][0]


MOTHER = {"first_name": "Elizabeth", "middle_name": "Ann", "last_name": "Garner",
          "dob": "1990-03-14", "sex": "F", "ssn": "231-45-6781"}
CHILD = {"first_name": "Mason", "last_name": "Garner", "dob": "2016-08-02", "sex": "M",
         "ssn": "231-45-7790"}
FATHER = {"first_name": "Derrick", "middle_name": "Lee", "last_name": "Holt",
          "dob": "1987-11-30", "sex": "M", "ssn": "231-46-1113"}


def test_foster_child_whose_father_pays_support_to_the_mother(tmp_path: Path,
                                                              linked: Path) -> None:
    people = _people(cw_1=MOTHER, cw_2=CHILD, cs_10=MOTHER, cs_11=CHILD, cs_12=FATHER)
    groups = [("cw:1", "cw_case", "C1", "mother"), ("cw:2", "cw_case", "C1", "child"),
              ("cs:10", "cs_case", "S1", "custodial_party"), ("cs:11", "cs_case", "S1", "child"),
              ("cs:12", "cs_case", "S1", "non_custodial_parent")]
    cases = [("cw_case", "C1", "2024-01-10", None, OPEN_CW), ("cs_case", "S1", "2021-05-01",
                                                             None, ORDER)]
    events = [("cw:2", "cw_removal", "C1", "2024-02-01", None, {"removal_id": "R1"}),
              ("cs:12", "cs_locate", "S1", "2025-06-01", None,
               {"address_line1": "12 OAK ST", "city": "RIVERTON", "state": "XX",
                "zip": "94000", "employer_name": "RIVERTON FOODS"}),
              ("cs:12", "cs_locate", "S1", "2023-01-15", None,
               {"address_line1": "9 ELM ST", "city": "RIVERTON", "state": "XX",
                "zip": "94001", "employer_name": None})]
    con = run_scenario(tmp_path, linked, people, groups, cases, events)
    assert person_of(con, "cw:1") == person_of(con, "cs:10")
    assert person_of(con, "cw:2") == person_of(con, "cs:11")
    rows = con.execute("SELECT cs_case_id, custodial_name, payer_name, child_name, "
                       "child_dob::VARCHAR, cw_case_id, cw_removal_id, removal_date::VARCHAR, "
                       "children_in_care, priority_reason, status "
                       "FROM marts.support_in_error").fetchall()
    assert rows == [("S1", "ELIZABETH GARNER", "DERRICK HOLT", "MASON GARNER", "2016-08-02", "C1",
                     "R1", "2024-02-01", 1, "one child of the order in foster care", "new")]
    leads = con.execute("SELECT cw_case_id, child_name, parent_person_id, parent_name, "
                        "relation, seen_in, seen_on::VARCHAR, address, employer, n_sightings, "
                        "[s.address FOR s IN sightings], priority "
                        "FROM marts.absent_parent_leads").fetchall()
    father = person_of(con, "cs:12")
    assert leads == [
        ("C1", "MASON GARNER", father, "DERRICK HOLT", "parent", "cs", "2025-06-01",
         "12 OAK ST, RIVERTON, XX, 94000", "RIVERTON FOODS", 2,
         ["12 OAK ST, RIVERTON, XX, 94000", "9 ELM ST, RIVERTON, XX, 94001"], 2)]
    joint = con.execute("SELECT systems, n_persons, open_cw_case FROM marts.joint_families") \
        .fetchall()
    assert joint == [(["cs", "cw"], 3, True)]


def test_homeless_mother_in_hmis_under_a_nickname(tmp_path: Path, linked: Path) -> None:
    beth = {**MOTHER, "first_name": "Beth", "ssn": None}
    people = _people(cw_1=MOTHER, cw_2=CHILD, hmis_5=beth, hmis_6={**CHILD, "ssn": None})
    groups = [("cw:1", "cw_case", "C2", "mother"), ("cw:2", "cw_case", "C2", "child"),
              ("hmis:5", "hmis_household", "H2", "head_of_household"),
              ("hmis:6", "hmis_household", "H2", "child")]
    cases = [("cw_case", "C2", "2023-04-01", None, OPEN_CW)]
    enrollment = {"EnrollmentID": "E1", "_project_type": "1", "_living_situation": "116"}
    events = [("hmis:5", "hmis_enrollment", "H2", "2025-02-03", None, enrollment),
              ("cw:2", "cw_removal", "C2", "2023-05-01", None, {"removal_id": "R2"})]
    con = run_scenario(tmp_path, linked, people, groups, cases, events)
    assert person_of(con, "cw:1") == person_of(con, "hmis:5")
    rows = con.execute("SELECT cw_case_id, parent_name, hmis_household_id, "
                       "entry_date::VARCHAR, project_type, living_situation, child_removed, "
                       "priority, priority_reason FROM marts.supportive_housing_eligible") \
        .fetchall()
    assert rows == [("C2", "ELIZABETH GARNER", "H2", "2025-02-03",
                     "Emergency Shelter - Night-by-Night",
                     "Place not meant for habitation (e.g., a vehicle, an abandoned building, "
                     "bus/train/subway station/airport or anywhere outside)", True, 1,
                     "a child removed, with reunification as the case goal")]


def test_putative_father_known_to_cs(tmp_path: Path, linked: Path) -> None:
    people = _people(cw_1=MOTHER, cw_2=CHILD, cs_10=MOTHER, cs_11=CHILD, cs_13=FATHER)
    groups = [("cw:1", "cw_case", "C3", "mother"), ("cw:2", "cw_case", "C3", "child"),
              ("cs:10", "cs_case", "S3", "custodial_party"), ("cs:11", "cs_case", "S3", "child"),
              ("cs:13", "cs_case", "S3", "putative_father")]
    cases = [("cw_case", "C3", "2022-01-01", None, OPEN_CW),
             ("cs_case", "S3", "2022-06-01", None, {**ORDER, "order_indicator": "N"})]
    con = run_scenario(tmp_path, linked, people, groups, cases)
    leads = con.execute("SELECT cw_case_id, relation, found_in, seen_in, priority_reason "
                        "FROM marts.absent_parent_leads").fetchall()
    assert leads == [("C3", "putative_father", ["cs"], None, MARTS.absent_parent_leads
                      .priority[-1].name)]
    assert con.execute("SELECT count(*) FROM marts.support_in_error").fetchall() == [(0,)]


def test_twins_in_one_household_stay_two_people(tmp_path: Path, linked: Path) -> None:
    ava = {"first_name": "Ava", "last_name": "Garner", "dob": "2019-05-05", "sex": "F"}
    ella = {**ava, "first_name": "Ella"}
    people = _people(cw_1=MOTHER, cw_2=ava, cw_3=ella, hmis_5=MOTHER, hmis_6=ava,
                     hmis_7=ella)
    groups = [("cw:1", "cw_case", "C4", "mother"), ("cw:2", "cw_case", "C4", "child"),
              ("cw:3", "cw_case", "C4", "child"),
              ("hmis:5", "hmis_household", "H4", "head_of_household"),
              ("hmis:6", "hmis_household", "H4", "child"),
              ("hmis:7", "hmis_household", "H4", "child")]
    con = run_scenario(tmp_path, linked, people, groups,
                       [("cw_case", "C4", "2024-01-01", None, OPEN_CW)])
    assert person_of(con, "cw:2") != person_of(con, "cw:3")
    assert person_of(con, "cw:2") == person_of(con, "hmis:6")
    assert person_of(con, "cw:3") == person_of(con, "hmis:7")
    assert con.execute("SELECT systems, n_persons FROM families.families").fetchall() == [
        (["cw", "hmis"], 3)]
    edges = con.execute("SELECT relation, systems FROM families.relationships "
                        "WHERE parent_person_id = ? ORDER BY child_person_id, relation",
                        [person_of(con, "cw:1")]).fetchall()
    assert sorted(edges) == [("head_of_household", ["hmis"]), ("head_of_household", ["hmis"]),
                             ("mother", ["cw"]), ("mother", ["cw"])]


def test_grandmother_caring_for_two_daughters_children(tmp_path: Path, linked: Path) -> None:
    grandmother = {"first_name": "Rosa", "last_name": "Garner", "dob": "1962-02-02",
                   "sex": "F", "ssn": "231-47-2222"}
    kid_a = {"first_name": "Leo", "last_name": "Garner", "dob": "2015-01-01", "sex": "M",
             "ssn": "231-47-3333"}
    kid_b = {"first_name": "Mia", "last_name": "Stone", "dob": "2017-07-07", "sex": "F",
             "ssn": "231-47-4444"}
    daughter_a = {**MOTHER}
    daughter_b = {"first_name": "Carla", "last_name": "Stone", "dob": "1993-09-09",
                  "sex": "F", "ssn": "231-47-5555"}
    people = _people(cs_1=grandmother, cs_2=kid_a, cs_3=grandmother, cs_4=kid_b,
                     cw_1=daughter_a, cw_2=kid_a, cw_3=daughter_b, cw_4=kid_b)
    groups = [("cs:1", "cs_case", "SA", "custodial_party"), ("cs:2", "cs_case", "SA", "child"),
              ("cs:3", "cs_case", "SB", "custodial_party"), ("cs:4", "cs_case", "SB", "child"),
              ("cw:1", "cw_case", "CA", "mother"), ("cw:2", "cw_case", "CA", "child"),
              ("cw:3", "cw_case", "CB", "mother"), ("cw:4", "cw_case", "CB", "child")]
    con = run_scenario(tmp_path, linked, people, groups)
    assert person_of(con, "cs:1") == person_of(con, "cs:3")
    # the grandmother joins both daughters' families into one (five people, four cases)
    assert con.execute("SELECT n_persons, n_groups, oversized FROM families.families") \
        .fetchall() == [(5, 4, False)]
    edges = con.execute("SELECT count(*) FROM families.relationships WHERE relation = "
                        "'custodial_party' AND parent_person_id = ?",
                        [person_of(con, "cs:1")]).fetchall()
    assert edges == [(2,)]


def _hub_on_cases(cases: int, max_family_persons: int) -> tuple:
    """(config, people, groups): a grandmother, custodial party on CS cases S0.., with a family
    size limit that makes her a hub (on two of its groups)."""
    config = MARTS.model_copy(update={"families": MARTS.families.model_copy(
        update={"max_family_persons": max_family_persons, "hub_min_groups": 2})})
    hub = {"first_name": "Rosa", "last_name": "Garner", "dob": "1962-02-02", "sex": "F",
           "ssn": "231-47-2222"}
    groups = [("cs:1", "cs_case", f"S{i}", "custodial_party") for i in range(cases)]
    return config, [{"record_id": "cs:1", **hub}], groups


def test_hubs_are_cut_and_reported(tmp_path: Path, linked: Path) -> None:
    """A person on many cases of a family beyond the size limit no longer joins them."""
    config, people, groups = _hub_on_cases(3, max_family_persons=3)
    kids = [("Liam", "Park", "2010-03-14", "345-12-7781"), ("Noah", "Park", "2012-09-02",
             "412-66-1902"), ("Emma", "Reyes", "2011-05-23", "523-81-4410"),
            ("Olivia", "Reyes", "2014-12-08", "287-35-9034"), ("Lucas", "Bryant",
             "2013-07-30", "198-24-5567"), ("Amelia", "Bryant", "2016-02-11", "376-90-1288")]
    for k, (first, last, dob, ssn) in enumerate(kids):
        people.append({"record_id": f"cs:{10 + k}", "first_name": first, "last_name": last,
                       "dob": dob, "sex": "F" if k % 2 else "M", "ssn": ssn})
        groups.append((f"cs:{10 + k}", "cs_case", f"S{k // 2}", "child"))
    con = run_scenario(tmp_path, linked, people, groups)
    counts = build_families(con, config)
    assert counts["hubs"] == 1 and counts["families"] == 3
    assert con.execute("SELECT count(*) FROM families.families WHERE len(hubs) = 1") \
        .fetchall() == [(3,)]


def test_a_hub_on_several_families_keeps_every_family_and_its_id(tmp_path: Path,
                                                                  linked: Path) -> None:
    """A case holding nobody but the hub is a family of its own; a second run on the same
    data changes no family id."""
    config, people, groups = _hub_on_cases(4, max_family_persons=2)
    for k, (first, dob, ssn) in enumerate([("Liam", "2010-03-14", "345-12-7781"),
                                           ("Emma", "2011-05-23", "523-81-4410"),
                                           ("Lucas", "2013-07-30", "198-24-5567")]):
        people.append({"record_id": f"cs:{10 + k}", "first_name": first, "last_name": "Park",
                       "dob": dob, "sex": "M", "ssn": ssn})
        groups.append((f"cs:{10 + k}", "cs_case", f"S{k}", "child"))
    con = run_scenario(tmp_path, linked, people, groups)
    first = build_families(con, config, run_id="a")
    ids = con.execute("SELECT group_id, family_id FROM families.members "
                      "ORDER BY group_id").fetchall()
    assert first["hubs"] == 1 and first["families"] == 4
    assert len({family for _, family in ids}) == 4
    second = build_families(con, config, run_id="b")
    assert con.execute("SELECT group_id, family_id FROM families.members "
                       "ORDER BY group_id").fetchall() == ids
    assert second["families"] == 4 and not {"split", "merged", "created"} & set(second)
    # a warehouse whose family ids were kept per person (before hubs were handled) starts anew
    con.execute("CREATE OR REPLACE TABLE families.family_ids AS "
                "SELECT 'P1' AS person_id, 'F1' AS family_id")
    assert build_families(con, config, run_id="c")["created"] == 4


def test_families_and_marts_against_the_truth(linked: Path, small: Path,
                                              tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    runner = CliRunner()
    built = runner.invoke(cli, ["families", "--db", str(db)])
    assert built.exit_code == 0, built.output
    assert "marts.absent_parent_leads" in built.output
    con = connect(db)
    each_family = "SELECT DISTINCT person_id, family_id FROM families.members"
    before = set(con.execute(each_family).fetchall())
    result = evaluate_families(con, small / "truth")
    assert result["joint_families"]["precision"] >= 0.95
    assert result["joint_families"]["recall"] >= 0.95
    assert result["support_in_error"]["recall"] >= 0.9
    assert result["supportive_housing_eligible"]["recall"] >= 0.9
    assert result["supportive_housing_eligible"]["precision"] >= 0.8
    assert result["absent_parent_leads"]["precision"] >= 0.85
    assert result["absent_parent_leads"]["recall"] >= 0.85
    sizes = result["family_sizes"]
    assert sizes["families_larger_than_any_true_one"] == sizes[
        "of_which_hold_a_wrongly_merged_person"]
    # family ids are stable: the same inputs give the same ids
    build_families(con, MARTS)
    after = set(con.execute(each_family).fetchall())
    assert after == before
    con.close()
    for name, fmt in (("absent_parent_leads", "csv"), ("joint_families", "json"),
                      ("support_in_error", "parquet")):
        out = tmp_path / f"{name}.{fmt}"
        exported = runner.invoke(cli, ["report", name, "--db", str(db), "--format", fmt,
                                       "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        assert out.stat().st_size > 0
    missing = runner.invoke(cli, ["report", "nothing", "--db", str(db)])
    assert missing.exit_code != 0 and "choose one of" in missing.output


@pytest.mark.parametrize("key, value, message", [
    ("max_family_persons: 30", "max_family_persons: 0", "max_family_persons"),
    ("min_systems: 2", "min_systems: one", "min_systems"),
])
def test_marts_config_errors_name_the_key(tmp_path: Path, key: str, value: str,
                                          message: str) -> None:
    from linkage.config import ConfigError

    text = (Path(__file__).parents[1] / "configs" / "marts.yaml").read_text()
    bad = tmp_path / "marts.yaml"
    bad.write_text(text.replace(key, value))
    with pytest.raises(ConfigError, match=message):
        load_marts_config(bad)


def test_evaluate_without_the_truth_answers_names_the_missing_file(linked: Path, small: Path,
                                                                   tmp_path: Path) -> None:
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    runner = CliRunner()
    assert runner.invoke(cli, ["families", "--db", str(db)]).exit_code == 0
    truth = tmp_path / "truth"
    shutil.copytree(small / "truth", truth)
    shutil.rmtree(truth / "answers")
    result = runner.invoke(cli, ["evaluate", "--truth", str(truth), "--db", str(db)])
    assert result.exit_code != 0 and "answers/joint_families.csv: not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("key, value, message", [
    ("sql: stays >= 2", "sql: stayz >= 2", "supportive_housing_eligible.priority.2.sql: "),
    ("WHERE father_type IN", "WHERE fathr_type IN", "absent_parent_leads.alleged_fathers: "),
    ("FROM raw.cw__participants", "FROM raw.cw__participant",
     "absent_parent_leads.alleged_fathers: "),
])
def test_marts_sql_that_does_not_compile_names_its_key(linked: Path, tmp_path: Path, key: str,
                                                       value: str, message: str) -> None:
    """A typo in a rule's SQL stops `famlink families` with the file and key, not a
    traceback; a misspelt table of a loaded source is not taken for a missing source."""
    text = (Path(__file__).parents[1] / "configs" / "marts.yaml").read_text()
    assert key in text
    bad = tmp_path / "marts.yaml"
    bad.write_text(text.replace(key, value))
    db = tmp_path / "famlink.duckdb"
    shutil.copy(linked, db)
    result = CliRunner().invoke(cli, ["families", "--db", str(db), "--config", str(bad)])
    assert result.exit_code != 0 and f"{bad}: {message}" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
