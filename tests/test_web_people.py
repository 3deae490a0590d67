"""Find a person, a person, a family and the lists, per role, through the app: searches by
POST that leave no value in a URL or the audit, pages that hold nothing configs/access.yaml
hides, no full SSN for anyone but admins, and downloads within the viewer's access."""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from webapp_helpers import csrf_of, logged_in, web_workdir

from linkage.access.audit import Audit
from linkage.access.settings import stores
from linkage.publish.workdir import Workdir

SEARCHERS = ["admin", "cs_liaison", "cw_liaison", "hmis_staff"]


@pytest.fixture(scope="module")
def db(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return web_workdir(published, tmp_path_factory.mktemp("web_people"))


def _one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()


@pytest.fixture(scope="module")
def person(db: Path) -> dict:
    """A person with a CS record (name, birth date, SSN, a CS case) and a CW record with a
    removal: what every role's search should find, and a CS liaison must not see all of."""
    person_id, first, last, dob, ssn4, case_id = _one(db, """
        SELECT p.person_id, r.first_name_raw, r.last_name_raw, r.dob::VARCHAR, r.ssn_last4,
               m.group_id
        FROM staged.person_records r JOIN linked.persons p USING (record_id)
        JOIN staged.memberships m USING (record_id)
        WHERE r.system = 'cs' AND r.ssn_last4 IS NOT NULL AND r.first_name IS NOT NULL
          AND r.dob IS NOT NULL
          AND p.person_id IN (SELECT q.person_id FROM linked.persons q
                              JOIN staged.events e USING (record_id)
                              WHERE e.event_type = 'cw_removal')
        ORDER BY p.person_id LIMIT 1""")
    return {"person_id": person_id, "first_name": first, "last_name": last, "dob": dob,
            "ssn4": ssn4, "case_id": case_id}


def _search(c, **fields: str):  # noqa: ANN202
    token = csrf_of(c.get("/people").text)
    return c.post("/people", data={"csrf_token": token, **fields})


@pytest.mark.parametrize("username", SEARCHERS)
def test_each_kind_of_search_finds_the_person(db: Path, person: dict, username: str) -> None:
    c = logged_in(db, username)
    for fields in ({"last_name": person["last_name"], "first_name": person["first_name"]},
                   {"last_name": person["last_name"][:3], "dob": person["dob"]},
                   {"dob": person["dob"]}, {"case_id": person["case_id"]}):
        page = _search(c, **fields)
        assert page.status_code == 200 and person["person_id"] in page.text, fields
    found = person["person_id"] in _search(c, ssn4=person["ssn4"]).text
    # program staff of HMIS do not see CS SSNs: the last four may not find this person
    # through them (unless another record of theirs they see shows the same four)
    with duckdb.connect(str(db), read_only=True) as con:
        own_ssn = con.execute("""
            SELECT count(*) FROM staged.person_records r JOIN linked.persons p
            USING (record_id) WHERE p.person_id = ? AND r.system = 'hmis'
              AND r.ssn_last4 = ?""", [person["person_id"], person["ssn4"]]).fetchone()[0]
    assert found == (username != "hmis_staff" or own_ssn > 0)


def test_the_ssn_search_reveals_nothing_the_role_may_not_see(db: Path) -> None:
    """A person whose SSN is only on CS and TANF records: HMIS program staff searching their
    last four never find them; an admin does."""
    person_id, ssn4 = _one(db, """
        SELECT p.person_id, any_value(r.ssn_last4) FROM linked.persons p
        JOIN staged.person_records r USING (record_id)
        GROUP BY p.person_id
        HAVING count(DISTINCT r.ssn_last4) = 1
           AND bool_and(r.system IN ('cs', 'tanf') OR r.ssn_last4 IS NULL)
           AND bool_or(r.system = 'cs' AND r.ssn_last4 IS NOT NULL)
        ORDER BY p.person_id LIMIT 1""")
    assert person_id in _search(logged_in(db, "admin"), ssn4=ssn4).text
    assert person_id not in _search(logged_in(db, "hmis_staff"), ssn4=ssn4).text


def test_the_search_is_a_post_and_its_values_stay_out_of_urls_and_the_audit(
        db: Path, person: dict) -> None:
    c = logged_in(db, "cs_liaison")
    values = {k: person[k] for k in ("last_name", "first_name", "dob", "ssn4", "case_id")}
    # a GET with values in its URL searches nothing
    got = c.get("/people", params={"last_name": person["last_name"]})
    assert person["person_id"] not in got.text
    # the form has no token: refused
    assert c.post("/people", data={"last_name": person["last_name"]}).status_code == 403
    page = _search(c, **values)
    assert page.status_code == 200 and person["person_id"] in page.text
    assert 'method="post" action="/people"' in page.text
    for response in [page, *page.history]:
        assert not any(v in str(response.request.url) for v in values.values())
    entries = [e for e in Audit(stores(db)[1]).entries() if e.action == "search"]
    latest = max(entries, key=lambda e: e.seq)
    assert latest.detail == "by first_name+last_name+dob+ssn4+case_id: 1 results"
    for entry in entries:
        text = f"{entry.target} {entry.detail}".upper()
        assert not any(str(v).upper() in text for v in values.values())


def _family_of(db: Path) -> tuple[str, str]:
    """A family with a CW removal and an HMIS enrollment, and one of its persons."""
    return _one(db, """
        SELECT m.family_id, any_value(m.person_id) FROM families.members m
        JOIN staged.events e USING (record_id)
        GROUP BY m.family_id
        HAVING bool_or(e.event_type = 'cw_removal') AND bool_or(e.event_type = 'hmis_enrollment')
        ORDER BY m.family_id LIMIT 1""")


def _hidden_from_cs(db: Path, family_id: str) -> set[str]:
    """What configs/access.yaml hides from CS in this family: CW removal reasons and
    placement settings, HMIS project types and living situations (details)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""
            SELECT e.details->>'removal_reason', e.details->>'placement_setting',
                   e.details->>'ProjectID'
            FROM staged.events e JOIN families.members m USING (record_id)
            WHERE m.family_id = ? AND e.system IN ('cw', 'hmis')""", [family_id]).fetchall()
    values = {v for row in rows for v in row if v and len(v) > 3}
    return values | {"removal_reason", "placement_setting", "_project_type",
                     "_living_situation", "ProjectID"}


def test_a_cs_liaison_sees_nothing_access_yaml_hides_from_cs(db: Path) -> None:
    family_id, person_id = _family_of(db)
    hidden = _hidden_from_cs(db, family_id)
    admin = logged_in(db, "admin")
    seen_by_admin = admin.get(f"/families/{family_id}").text
    assert "removal_reason" in seen_by_admin and "_project_type" in seen_by_admin
    cs = logged_in(db, "cs_liaison")
    with duckdb.connect(str(db), read_only=True) as con:
        persons = [r[0] for r in con.execute(
            "SELECT DISTINCT person_id FROM families.members WHERE family_id = ?",
            [family_id]).fetchall()]
    pages = [cs.get(f"/families/{family_id}"), *(cs.get(f"/people/{p}") for p in persons)]
    for page in pages:
        assert page.status_code == 200
        leaked = {value for value in hidden if value in page.text}
        assert not leaked
    actions = [(e.action, e.target) for e in Audit(stores(db)[1]).entries()
               if e.username == "cs_liaison"]
    assert ("view_family", family_id) in actions and ("view_person", person_id) in actions


def _ssns(db: Path, family_id: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("""
            SELECT DISTINCT r.ssn FROM staged.person_records r JOIN linked.persons p
            USING (record_id)
            WHERE p.person_id IN (SELECT person_id FROM families.members WHERE family_id = ?)
              AND r.ssn IS NOT NULL""", [family_id]).fetchall()
    return {row[0] for row in rows if len(row[0]) == 9}


@pytest.mark.parametrize("username", ["cs_liaison", "cw_liaison", "hmis_staff"])
def test_no_full_ssn_for_anyone_but_admins(db: Path, username: str) -> None:
    family_id, _ = _family_of(db)
    ssns = _ssns(db, family_id)
    assert ssns
    with duckdb.connect(str(db), read_only=True) as con:
        persons = [r[0] for r in con.execute(
            "SELECT DISTINCT person_id FROM families.members WHERE family_id = ?",
            [family_id]).fetchall()]
    c = logged_in(db, username)
    pages = [c.get(f"/families/{family_id}"), *(c.get(f"/people/{p}") for p in persons),
             *(_search(c, ssn4=s[-4:]) for s in ssns)]
    for page in pages:
        for ssn in ssns:
            assert ssn not in page.text and f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}" not in page.text
    admin = logged_in(db, "admin")
    shown = "".join(admin.get(f"/people/{p}").text for p in persons)
    assert any(f"{s[:3]}-{s[3:5]}-{s[5:]}" in shown for s in ssns)


def test_roles_without_the_page_are_refused(db: Path, person: dict) -> None:
    analyst = logged_in(db, "analyst")  # analysts have lists, not people
    assert analyst.get("/people").status_code == 403
    token = csrf_of(analyst.get("/").text)
    assert analyst.post("/people", data={"csrf_token": token,
                                         "last_name": "X"}).status_code == 403
    assert analyst.get(f"/people/{person['person_id']}").status_code == 403
    assert analyst.get("/families/F0").status_code == 403
    liaison = logged_in(db, "cs_liaison")  # liaisons have people, not lists
    assert liaison.get("/lists").status_code == 403
    assert liaison.get("/lists/joint_families").status_code == 403
    token = csrf_of(liaison.get("/").text)
    assert liaison.post("/lists/joint_families/download",
                        data={"csrf_token": token, "format": "csv"}).status_code == 403


def _download(c, name: str, fmt: str, **filters: str):  # noqa: ANN202
    token = csrf_of(c.get(f"/lists/{name}").text)
    return c.post(f"/lists/{name}/download", data={"csrf_token": token, "format": fmt,
                                                    **filters})


def test_lists_download_as_csv_and_xlsx_within_access(db: Path) -> None:
    c = logged_in(db, "hmis_staff")
    index = c.get("/lists")
    assert index.status_code == 200 and "/lists/supportive_housing_eligible" in index.text
    page = c.get("/lists/supportive_housing_eligible")
    assert page.status_code == 200 and "case_plan_goal" not in page.text
    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM marts.supportive_housing_eligible").fetchone()[0]
        goals = {r[0] for r in con.execute("SELECT DISTINCT case_plan_goal FROM "
                                           "marts.supportive_housing_eligible").fetchall()}
    assert n > 0
    csv_file = _download(c, "supportive_housing_eligible", "csv")
    assert csv_file.status_code == 200 and "attachment" in csv_file.headers[
        "content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert len(rows) == n and "case_plan_goal" not in rows[0]  # CW details: not HMIS staff's
    assert "project_type" in rows[0] and rows[0]["cw_case_id"]  # their own; CW case ids
    assert not any(g and g in csv_file.text for g in goals)
    xlsx = _download(c, "supportive_housing_eligible", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    header = [cell.value for cell in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.max_row == n + 1
    assert "case_plan_goal" not in header
    opened = sheet.cell(row=2, column=header.index("cw_case_opened") + 1).value
    assert isinstance(opened, datetime | date)
    leads = _download(c, "absent_parent_leads", "csv", seen_in="cs")
    lead_rows = list(csv.DictReader(io.StringIO(leads.text)))
    assert lead_rows and "employer" not in lead_rows[0]  # CS details: never HMIS staff's
    assert all(r["seen_in"] == "cs" and r["address"] == "" for r in lead_rows)  # CS address
    downloads = sorted((e for e in Audit(stores(db)[1]).entries()
                        if e.username == "hmis_staff" and e.action == "download"),
                       key=lambda e: e.seq)
    assert [(e.target, e.detail.split(";")[0]) for e in downloads[-3:]] == [
        ("supportive_housing_eligible", f"format=csv rows={n}"),
        ("supportive_housing_eligible", f"format=xlsx rows={n}"),
        ("absent_parent_leads", f"format=csv rows={len(leads.text.splitlines()) - 1}")]
    assert any(e.action == "view_list" and e.target == "supportive_housing_eligible"
               for e in Audit(stores(db)[1]).entries())


def test_list_filters_by_category_and_name_text_by_post(db: Path) -> None:
    c = logged_in(db, "admin")
    filtered = c.get("/lists/joint_families", params={"system": "hmis"})
    assert filtered.status_code == 200
    assert c.get("/lists/joint_families", params={"system": "x"}).status_code == 400
    with duckdb.connect(str(db), read_only=True) as con:
        family_id, name = con.execute("""
            SELECT family_id, members[1].name FROM marts.joint_families
            WHERE members[1].name IS NOT NULL ORDER BY family_id LIMIT 1""").fetchone()
    token = csrf_of(c.get("/lists/joint_families").text)
    page = c.post("/lists/joint_families", data={"csrf_token": token,
                                                 "name_text": name.split()[-1]})
    assert page.status_code == 200 and family_id in page.text
    # a name in a URL filters nothing, and the audit never holds the name
    in_url = c.get("/lists/joint_families", params={"name_text": "ZZZZZZ"}).text
    assert in_url.count("<tr>") == c.get("/lists/joint_families").text.count("<tr>") > 1
    assert not any(name.split()[-1] in f"{e.target} {e.detail}"
                   for e in Audit(stores(db)[1]).entries())


def test_new_rows_are_marked_against_the_previous_version(published: Path,
                                                          tmp_path: Path) -> None:
    """A second version whose lists hold three families the first lacked (deleted from the
    first here) and lack one it had: three rows are new, one is gone."""
    db = web_workdir(published, tmp_path)
    workdir = Workdir(db.parent)
    old = workdir.version_path(workdir.current_run())
    new_run = "29990101T000000"
    shutil.copyfile(old, workdir.version_path(new_run))
    old.chmod(0o600)
    with duckdb.connect(str(old)) as con:
        dropped = [r[0] for r in con.execute(
            "SELECT family_id FROM marts.joint_families ORDER BY family_id LIMIT 3").fetchall()]
        con.execute("DELETE FROM marts.joint_families WHERE family_id = ANY(?)", [dropped])
        con.execute("INSERT INTO marts.joint_families SELECT * REPLACE ('FGONE' AS family_id) "
                    "FROM marts.joint_families LIMIT 1")
    old.chmod(0o400)
    workdir.registry.add(new_run, workdir.version_path(new_run).name, os.getpid())
    workdir.publish(new_run, keep=5)
    c = logged_in(db, "hmis_staff")
    page = c.get("/lists/joint_families", params={"new": "1"})
    assert page.status_code == 200 and page.text.count('class="badge new"') == 3
    assert all(f in page.text for f in dropped) and "3 new since run" in page.text
    assert "(1 gone)" in page.text
    rows = list(csv.DictReader(io.StringIO(_download(c, "joint_families", "csv").text)))
    assert sorted(r["family_id"] for r in rows if r["new"] == "yes") == sorted(dropped)


def test_a_lists_triage_shows_only_where_its_evidence_would(published: Path,
                                                            tmp_path: Path) -> None:
    """Supportive housing's priority rules read CW details (a child removed, the case goal):
    HMIS program staff, who do not see CW details, get neither the priority, its reason nor
    the priority filter; the row's status (a hash of all of it) neither."""
    from webapp_helpers import logged_in, web_workdir

    db = web_workdir(published, tmp_path)
    staff = logged_in(db, "hmis_staff").get("/lists/supportive_housing_eligible")
    assert staff.status_code == 200
    assert "reunification as the case goal" not in staff.text
    assert 'name="priority"' not in staff.text
    admin = logged_in(db, "admin").get("/lists/supportive_housing_eligible")
    assert "reunification as the case goal" in admin.text or "a child removed" in admin.text
