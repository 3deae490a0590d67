"""The stories hang together the way a child-welfare analyst expects, and no field gives the
truth away (which would make any linkage benchmark on this data meaningless)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(large: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ex, truth = large / "extracts", large / "truth"
    for name, path in {
        "persons": truth / "persons.csv", "records": truth / "records.csv",
        "rel": truth / "relationships.csv",
        "cw_persons": ex / "cw" / "persons.csv", "cw_cases": ex / "cw" / "cases.csv",
        "cw_part": ex / "cw" / "case_participants.csv", "removals": ex / "cw" / "removals.csv",
        "fcr": ex / "cs" / "fcr_persons.csv", "clients": ex / "hmis" / "Client.csv",
        "enrollments": ex / "hmis" / "Enrollment.csv",
    }.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    con.execute("""CREATE VIEW src AS SELECT split_part(record_id, ':', 2) AS sid, system,
                   true_person_id AS tp, hard_cases FROM records""")
    return con


def _one(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    return db.execute(sql).fetchall()[0][0]


def test_ssns_do_not_reveal_who_was_generated_together(db) -> None:
    ssns = [int(s) for (s,) in db.execute(
        "SELECT ssn FROM persons ORDER BY true_person_id::INT").fetchall()]
    steps = Counter(b - a for a, b in zip(ssns, ssns[1:], strict=False))
    assert steps.most_common(1)[0][1] < 5


def test_no_date_after_the_day_it_was_written(db) -> None:
    assert _one(db, "SELECT count(*) FROM cw_persons WHERE birth_date > date_created") == 0
    assert _one(db, "SELECT count(*) FROM cw_persons WHERE date_created >= '2026-01-01'") == 0
    assert _one(db, """SELECT count(*) FROM clients c JOIN enrollments e USING (PersonalID)
                       WHERE c.DOB > e.EntryDate""") == 0
    assert _one(db, """SELECT count(*) FROM fcr WHERE ive_referral_date <> '' AND
                       strptime(ive_referral_date, '%m/%d/%Y') >= DATE '2026-01-01'""") == 0


def test_children_are_born_before_their_cases(db) -> None:
    assert _one(db, """SELECT count(*) FROM fcr f
                       JOIN src ON src.system = 'cs' AND src.sid = f.member_id
                       JOIN persons p ON p.true_person_id = src.tp
                       WHERE f.participant_type = 'CH'
                         AND p.dob::DATE > strptime(f.case_open_date, '%m/%d/%Y')""") == 0


def test_removals_fall_within_the_case_and_childhood(db) -> None:
    assert _one(db, """SELECT count(*) FROM removals r JOIN cw_cases c USING (case_id)
                       WHERE r.removal_date < c.open_date""") == 0
    over = _one(db, """SELECT count(*) FROM removals r
                       JOIN src ON src.system = 'cw' AND src.sid = r.child_person_id
                       JOIN persons p ON p.true_person_id = src.tp
                       WHERE r.removal_date::DATE >= p.dob::DATE + INTERVAL 18 YEAR
                          OR coalesce(nullif(r.discharge_date, '')::DATE, DATE '2026-01-01')
                             > p.dob::DATE + INTERVAL 18 YEAR + INTERVAL 1 DAY""")
    assert over == 0
    # siblings are mostly removed together
    together = db.execute("""SELECT avg((n = 1)::INT) FROM (SELECT case_id,
                             count(DISTINCT removal_date) AS n FROM removals GROUP BY case_id
                             HAVING count(*) > 1)""").fetchall()[0][0]
    assert together > 0.6
    assert _one(db, """SELECT count(*) FROM removals WHERE discharge_reason = 'ADOPTION'
                       AND discharge_date::DATE - removal_date::DATE < 365""") == 0


def test_children_in_foster_care_are_not_in_the_family_shelter_stay(db) -> None:
    assert _one(db, """SELECT count(*) FROM enrollments e
                       JOIN src h ON h.system = 'hmis' AND h.sid = e.PersonalID
                       JOIN src c ON c.system = 'cw' AND c.tp = h.tp
                       JOIN removals r ON r.child_person_id = c.sid
                       WHERE e.RelationshipToHoH = '2' AND e.EntryDate >= r.removal_date
                         AND e.EntryDate <= coalesce(nullif(r.discharge_date, ''), '9999')""") == 0


def test_ages_are_plausible(db) -> None:
    # mothers 12+ and at most 45 at a birth; fathers 16+; caregivers adults
    assert _one(db, """SELECT count(*) FROM persons c JOIN persons m
                       ON m.true_person_id = c.mother_id
                       WHERE c.dob::DATE - m.dob::DATE NOT BETWEEN 12 * 365 AND 45 * 366""") == 0
    assert _one(db, """SELECT count(*) FROM persons c JOIN persons f
                       ON f.true_person_id = c.father_id
                       WHERE c.dob::DATE - f.dob::DATE < 16 * 365""") == 0
    assert _one(db, """SELECT count(*) FROM rel JOIN persons g
                       ON g.true_person_id = rel.true_person_id
                       JOIN persons c ON c.true_person_id = rel.related_true_person_id
                       WHERE rel.relationship IN ('aunt_of', 'grandmother_of')
                         AND c.dob::DATE - g.dob::DATE < 21 * 365""") == 0


def test_every_changed_surname_has_a_marriage(db) -> None:
    assert _one(db, """SELECT count(*) FROM persons p
                       WHERE p.hard_cases LIKE '%surname_change%' AND NOT EXISTS (
                         SELECT 1 FROM rel WHERE rel.relationship = 'spouse_of'
                           AND rel.related_true_person_id = p.true_person_id)""") == 0


def test_duplicates_are_not_given_away_by_bookkeeping(db) -> None:
    # HMIS duplicates enter on a later day than the original, with other clerks' stamps.
    same_day = db.execute("""
        WITH d AS (SELECT h.tp, e.PersonalID, min(e.EntryDate) AS entry
                   FROM enrollments e JOIN src h ON h.system = 'hmis' AND h.sid = e.PersonalID
                   WHERE h.hard_cases LIKE '%in_system_duplicate%' GROUP BY ALL)
        SELECT avg((a.entry = b.entry)::INT) FROM d a JOIN d b
        ON a.tp = b.tp AND a.PersonalID < b.PersonalID""").fetchall()[0][0]
    assert same_day < 0.2
    # a CW duplicate is never the same person twice in one role on one case
    assert _one(db, """SELECT count(*) FROM (SELECT p.case_id, s.tp, p.participant_role
                       FROM cw_part p JOIN src s ON s.system = 'cw' AND s.sid = p.person_id
                       GROUP BY ALL HAVING count(*) > 1)""") == 0
