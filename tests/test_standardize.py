"""Standardizers: concrete rules, and properties tying each SQL macro to its Python twin.

The SQL macros are what runs on real data; the Python twins are what a reader can follow. The
property tests feed both the same generated values so neither can drift from the other.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb
import jellyfish
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardize import (
    canonical_given,
    flag_shared_addresses,
    name_keys,
    name_suffix,
    register_macros,
    standardize_address,
    standardize_dob,
    standardize_name,
    standardize_ssn,
    strip_suffix,
    surname_parts,
    surname_squashed,
)

CON = duckdb.connect()
register_macros(CON)

#: Fixed "today" for the date tests: makes the future-date rule and the YY pivot reproducible.
TODAY = date(2024, 6, 15)
#: No example database: it would litter the repository with .hypothesis/.
PROPERTY = settings(max_examples=70, deadline=None, database=None)
#: Any text DuckDB can hold (no NUL), without code points unassigned in Python's Unicode tables
#: (DuckDB's newer tables strip some of them as marks).
_any_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cn"), blacklist_characters="\x00"), max_size=20
)


def sql_one(expression: str, *params: object) -> object:
    return CON.execute(f"SELECT {expression}", list(params)).fetchone()[0]


def sql_many(expression: str, *columns: list) -> list:
    """Evaluate ``expression`` over parallel lists bound to a, b, c, d (in order), in one query."""
    names = "abcd"[: len(columns)]
    unnests = ", ".join(f"unnest(?::VARCHAR[]) AS {n}" for n in names)
    rows = CON.execute(
        f"SELECT {expression} FROM (SELECT {unnests}, "
        f"generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i",
        [*columns, columns[0]],
    ).fetchall()
    return [row[0] for row in rows]


def ssn_sql(raw: str | None, quality: str | None = None) -> tuple:
    out = sql_one("std_ssn(?, ?)", raw, quality)
    return out["ssn"], out["last4"], out["flag"]


def dob_sql(raw: str | None, quality: str | None = None) -> dict:
    return sql_one(f"std_dob(?, ?, today := DATE '{TODAY}')", raw, quality)


# ----------------------------------------------------------------------------------------------
# SSN
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "quality", "expected"),
    [
        ("212-34-5678", "1", ("212345678", "5678", None)),
        (" 212 34 5678 ", None, ("212345678", "5678", None)),
        ("078-05-1120", None, (None, None, "placeholder")),
        ("123-45-6789", None, (None, None, "placeholder")),
        ("219-09-9999", None, (None, None, "placeholder")),
        ("987-65-4325", None, (None, None, "placeholder")),
        ("000-12-3456", None, (None, None, "placeholder")),
        ("666-12-3456", None, (None, None, "placeholder")),
        ("912-34-5678", None, (None, None, "placeholder")),
        ("212-00-5678", None, (None, None, "placeholder")),
        ("212-34-0000", None, (None, None, "placeholder")),
        ("555555555", None, (None, None, "placeholder")),
        ("12345678", None, ("012345678", "5678", "padded")),
        ("1234567", None, ("001234567", "4567", "padded")),
        ("0000000", None, (None, None, "placeholder")),
        ("123-45-678a", None, (None, None, "invalid")),
        ("12345", None, (None, None, "invalid")),
        ("1234567890", None, (None, None, "invalid")),
        (None, None, (None, None, "missing")),
        ("  ", "99", (None, None, "missing")),
        ("", "8", (None, None, "missing")),
        ("999-99-1234", "2", (None, "1234", "partial")),
        ("XXX-XX-1234", " 2.0", (None, "1234", "partial")),
        ("212-34-0000", "2", (None, None, "partial")),
        ("12", "2", (None, None, "partial")),
        ("212-34-5678", "9", ("212345678", "5678", None)),
        ("212-34-5678", "99", ("212345678", "5678", None)),
        # nine plain digits take the short path: the same rules hold on it
        ("212345678", None, ("212345678", "5678", None)),
        ("212345678", "1", ("212345678", "5678", None)),
        ("212345678", "02", (None, "5678", "partial")),
        ("123456789", None, (None, None, "placeholder")),
        ("912345678", "1", (None, None, "placeholder")),
    ],
)
def test_ssn_rules(raw: str | None, quality: str | None, expected: tuple) -> None:
    assert standardize_ssn(raw, quality) == expected
    assert ssn_sql(raw, quality) == expected


def test_ssn_accepts_integer_columns() -> None:
    # An SSN column that a CSV reader typed as BIGINT has already lost its leading zero.
    assert sql_one("std_ssn(12345678::BIGINT, 1::INTEGER)")["ssn"] == "012345678"


_ssn_like = st.one_of(
    st.none(),
    st.text(alphabet="0123456789- \tXa.", max_size=14),
    st.from_regex(r"[0-9]{3}-[0-9]{2}-[0-9]{4}", fullmatch=True),
    st.integers(0, 999_999_999).map(str),
    st.sampled_from(["078-05-1120", "123456789", "987654321", "000000000", "0000"]),
)
_quality = st.sampled_from([None, "", "1", "2", " 2", "02", "2.0", "8", "9", "99", "x"])


@PROPERTY
@given(st.lists(st.tuples(_ssn_like, _quality), min_size=1, max_size=60))
def test_ssn_sql_matches_python(cases: list[tuple[str | None, str | None]]) -> None:
    raws, qualities = [c[0] for c in cases], [c[1] for c in cases]
    got = sql_many("std_ssn(a, b)", raws, qualities)
    for (raw, quality), out in zip(cases, got, strict=True):
        assert (out["ssn"], out["last4"], out["flag"]) == standardize_ssn(raw, quality), raw
        assert out["ssn"] is None or re.fullmatch(r"[0-9]{9}", out["ssn"])


@PROPERTY
@given(st.lists(_any_text, min_size=1, max_size=60))
def test_ssn_output_is_nine_digits_or_null(raws: list[str]) -> None:
    for out in sql_many("std_ssn(a, NULL)", raws):
        assert out["ssn"] is None or re.fullmatch(r"[0-9]{9}", out["ssn"])
        assert out["last4"] is None or re.fullmatch(r"[0-9]{4}", out["last4"])


# ----------------------------------------------------------------------------------------------
# DOB
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "quality", "expected"),
    [
        ("1990-01-05", None, (date(1990, 1, 5), None)),
        ("1990-01-05T00:00:00", None, (date(1990, 1, 5), None)),
        ("1990-01-05 00:00:00.000", None, (date(1990, 1, 5), None)),
        ("01/05/1990", None, (date(1990, 1, 5), None)),
        ("1/5/1990", None, (date(1990, 1, 5), None)),
        ("1/5/1990 0:00", None, (date(1990, 1, 5), None)),
        ("01-05-1990", None, (date(1990, 1, 5), None)),
        ("19900105", None, (date(1990, 1, 5), None)),
        ("32874", None, (date(1990, 1, 1), None)),
        ("3/7/85", None, (date(1985, 3, 7), None)),
        ("3/7/24", None, (date(2024, 3, 7), None)),  # YY <= today's YY -> 2000s
        ("3/7/25", None, (date(1925, 3, 7), None)),
        ("1990-01-01", None, (date(1990, 1, 1), None)),  # Jan 1 alone is not a placeholder
        ("1900-01-01", None, (None, "placeholder")),
        ("1875-06-01", None, (None, "placeholder")),
        ("2030-01-01", None, (None, "placeholder")),
        ("2/30/1990", None, (None, "invalid")),
        ("13/01/1990", None, (None, "invalid")),
        ("0000-01-01", None, (None, "invalid")),
        ("unknown", None, (None, "invalid")),
        ("1990-01-05", "2", (date(1990, 1, 5), "approximate")),
        ("1900-01-01", "2", (None, "placeholder")),
        (None, None, (None, "missing")),
        ("", "99", (None, "missing")),
        (" ", "8", (None, "missing")),
        (None, "9", (None, "missing")),
    ],
)
def test_dob_rules(raw: str | None, quality: str | None, expected: tuple) -> None:
    assert standardize_dob(raw, quality, today=TODAY) == expected
    out = dob_sql(raw, quality)
    assert (out["dob"], out["flag"]) == expected
    kept = expected[0]
    assert (out["y"], out["m"], out["d"]) == (
        (kept.year, kept.month, kept.day) if kept else (None, None, None)
    )


def test_dob_defaults_to_current_date() -> None:
    tomorrow = date.today() + timedelta(days=1)
    assert sql_one("std_dob(?, NULL).flag", tomorrow.isoformat()) == "placeholder"
    assert standardize_dob(tomorrow.isoformat()) == (None, "placeholder")
    assert sql_one("std_dob(?::DATE, NULL).dob", "1990-01-05") == date(1990, 1, 5)


_FORMATS = (
    lambda d: d.isoformat(),
    lambda d: d.isoformat() + "T00:00:00",
    lambda d: f"{d.month}/{d.day}/{d.year}",
    lambda d: d.strftime("%m/%d/%Y"),
    lambda d: d.strftime("%m-%d-%Y"),
    lambda d: d.strftime("%Y%m%d"),
    lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",
    lambda d: str((d - date(1899, 12, 30)).days),
)
_dob_like = st.one_of(
    st.none(),
    st.builds(
        lambda d, fmt: fmt(d),
        st.dates(min_value=date(1850, 1, 1), max_value=date(2040, 12, 31)),
        st.sampled_from(_FORMATS),
    ),
    st.text(alphabet="0123456789/-: T", max_size=20),
    st.from_regex(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", fullmatch=True),
    st.from_regex(r"[0-9]{5}|[0-9]{8}", fullmatch=True),
)


@PROPERTY
@given(st.lists(st.tuples(_dob_like, _quality), min_size=1, max_size=60))
def test_dob_sql_matches_python(cases: list[tuple[str | None, str | None]]) -> None:
    raws, qualities = [c[0] for c in cases], [c[1] for c in cases]
    got = sql_many(f"std_dob(a, b, today := DATE '{TODAY}')", raws, qualities)
    for (raw, quality), out in zip(cases, got, strict=True):
        assert (out["dob"], out["flag"]) == standardize_dob(raw, quality, today=TODAY), raw


# ----------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "JOSE"),
        ("  maría   de  la   o ", "MARIA DE LA O"),
        ("O'Brien", "OBRIEN"),
        ("O\u2019Brien", "OBRIEN"),
        ("garcia - lopez", "GARCIA-LOPEZ"),
        ("-Smith--Jones-", "SMITH-JONES"),
        ("Smith3", "SMITH"),
        ("N/A", "N A"),
        ("", None),
        ("  .  ", None),
        (None, None),
    ],
)
def test_std_name(raw: str | None, expected: str | None) -> None:
    assert standardize_name(raw) == expected
    assert sql_one("std_name(?)", raw) == expected


@pytest.mark.parametrize(
    ("first", "last", "suffix", "stripped_last"),
    [
        ("Sean", "O'Brien Jr.", "JR", "OBRIEN"),
        ("John", "Smith lll", "III", "SMITH"),
        ("John", "Smith II", "II", "SMITH"),
        ("John", "Smith IV", "IV", "SMITH"),
        ("John", "Smith, Sr.", "SR", "SMITH"),
        ("John Jr", "Smith", "JR", "SMITH"),
        ("John", "Smith", None, "SMITH"),
        ("John", "Jr", None, "JR"),  # a lone token is a name, not a suffix
        ("John", "Irving", None, "IRVING"),
    ],
)
def test_name_suffix(first: str, last: str, suffix: str | None, stripped_last: str) -> None:
    assert name_suffix(first, last) == suffix
    assert sql_one("name_suffix(?, ?)", first, last) == suffix
    assert strip_suffix(last) == stripped_last
    assert sql_one("strip_suffix(?)", last) == stripped_last


@pytest.mark.parametrize(
    ("last", "parts", "squashed"),
    [
        ("Garcia-Lopez", ["GARCIA", "LOPEZ"], "GARCIALOPEZ"),
        ("Garcia Lopez", ["GARCIA", "LOPEZ"], "GARCIALOPEZ"),
        ("GarciaLopez", ["GARCIALOPEZ"], "GARCIALOPEZ"),
        ("de la Cruz", ["DE LA CRUZ"], "DELACRUZ"),
        ("Garcia de la Cruz", ["GARCIA", "DE LA CRUZ"], "GARCIADELACRUZ"),
        ("Garcia y Lopez", ["GARCIA", "LOPEZ"], "GARCIALOPEZ"),
        ("Van der Berg", ["VAN DER BERG"], "VANDERBERG"),
        ("St. John", ["ST JOHN"], "STJOHN"),
        ("Smith Jr", ["SMITH"], "SMITH"),
        ("Delgado", ["DELGADO"], "DELGADO"),
        ("", None, None),
    ],
)
def test_surname_parts(last: str, parts: list[str] | None, squashed: str | None) -> None:
    assert surname_parts(last) == parts
    assert sql_one("surname_parts(?)", last) == parts
    assert surname_squashed(last) == squashed
    assert sql_one("surname_squashed(?)", last) == squashed


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("LUPE", "GUADALUPE"),
        ("BILL", "WILLIAM"),
        ("BOB", "ROBERT"),
        ("CHUY", "JESUS"),
        ("PEPE", "JOSE"),
        ("WILLIAM", "WILLIAM"),
        ("JOHN", "JOHN"),  # listed as a nickname of JONATHAN, but far more common
        ("ZYXWV", "ZYXWV"),
    ],
)
def test_canonical_given(name: str, canonical: str) -> None:
    assert canonical_given(name) == canonical


def test_name_keys_table() -> None:
    CON.execute(
        "CREATE OR REPLACE TEMP TABLE people AS SELECT * FROM (VALUES "
        "('Bill'), ('bill'), ('Lupe'), ('De La Cruz'), (NULL), (''), ('Maria')) t(first)"
    )
    name_keys(CON, "SELECT std_name(first) AS first FROM people", "first", "name_keys_test")
    rows = {
        r[0]: r[1:]
        for r in CON.execute(
            "SELECT name, canonical_given, nysiis, metaphone FROM name_keys_test"
        ).fetchall()
    }
    assert set(rows) == {"BILL", "LUPE", "DE LA CRUZ", "MARIA"}
    assert rows["BILL"][0] == "WILLIAM"
    assert rows["LUPE"][0] == "GUADALUPE"
    # phonetic keys read the letters only
    assert rows["DE LA CRUZ"][1:] == (jellyfish.nysiis("DELACRUZ"), jellyfish.metaphone("DELACRUZ"))
    assert all(value for row in rows.values() for value in row)


_name_tokens = st.lists(
    st.sampled_from(
        ["garcia", "De", "la", "Y", "y", "Lopez", "jr.", "III", "lll", "St.", "-", " ", "'",
         "O'", "José", "VAN", "der", "II", ",", "Ñ", "ll"]
    ),
    max_size=7,
).map(" ".join)  # fmt: skip


@PROPERTY
@given(st.lists(st.one_of(_any_text, _name_tokens), min_size=1, max_size=60))
def test_std_name_idempotent_and_clean(raws: list[str]) -> None:
    once = sql_many("std_name(a)", raws)
    twice = sql_many("std_name(std_name(a))", raws)
    assert once == twice
    for raw, out in zip(raws, once, strict=True):
        assert out is None or re.fullmatch(r"[A-Z][A-Z -]*", out), (raw, out)
        assert out == standardize_name(raw), raw


@PROPERTY
@given(st.lists(st.tuples(_name_tokens, _name_tokens), min_size=1, max_size=60))
def test_name_macros_match_python(cases: list[tuple[str, str]]) -> None:
    firsts, lasts = [c[0] for c in cases], [c[1] for c in cases]
    got = sql_many(
        "struct_pack(s := name_suffix(a, b), x := strip_suffix(b), p := surname_parts(b),"
        " q := surname_squashed(b))",
        firsts,
        lasts,
    )
    for (first, last), out in zip(cases, got, strict=True):
        assert out["s"] == name_suffix(first, last), (first, last)
        assert out["x"] == strip_suffix(last), last
        assert out["p"] == surname_parts(last), last
        assert out["q"] == surname_squashed(last), last


# ----------------------------------------------------------------------------------------------
# Addresses
# ----------------------------------------------------------------------------------------------


def address_sql(line: object, city: object, state: object, zip_code: object) -> tuple:
    out = sql_one("std_address(?, ?, ?, ?)", line, city, state, zip_code)
    return out["street"], out["unit"], out["city"], out["state"], out["zip5"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("123 Main Street Apt 4", "Springfield", "IL", "62704"),
            ("123 MAIN ST", "4", "SPRINGFIELD", "IL", "62704"),
        ),
        (
            ("45 North Oak Avenue #12B", "Saint Louis", "mo", "63101-1234"),
            ("45 N OAK AVE", "12B", "ST LOUIS", "MO", "63101"),
        ),
        (
            ("9 West Rd., Ste. 200", "Boston", "M.A.", "2134"),
            ("9 W RD", "200", "BOSTON", "MA", "02134"),
        ),
        (("9 West Rd APT4", None, None, "021341234"), ("9 W RD", "4", None, None, "02134")),
        (
            ("12 Ste Genevieve Ave", "Ste Genevieve", "Missouri", "00000"),
            ("12 STE GENEVIEVE AVE", None, "STE GENEVIEVE", None, None),
        ),
        (("1 Peña Blvd Unit C", "", "", "2134-5678"), ("1 PENA BLVD", "C", None, None, "02134")),
        ((None, None, None, None), (None, None, None, None, None)),
    ],
)
def test_std_address(args: tuple, expected: tuple) -> None:
    assert standardize_address(*args) == expected
    assert address_sql(*args) == expected


_address_tokens = st.lists(
    st.sampled_from(
        ["123", "4b", "Main", "street", "Ave.", "apt", "APT4", "#", "#12", "Ste", "Unit", "rm",
         "spc", "North", "W.", "O'Farrell", "Peña", ",", "-", " ", "suite", "1/2", "Room"]
    ),
    max_size=9,
).map(" ".join)  # fmt: skip
_zip_like = st.one_of(
    st.none(), st.text(alphabet="0123456789- ", max_size=11), st.integers(0, 99999).map(str)
)


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.one_of(_address_tokens, _any_text, st.none()),
            st.one_of(_address_tokens, st.none()),
            st.one_of(st.text(alphabet="aBnY. -", max_size=5), st.none()),
            _zip_like,
        ),
        min_size=1,
        max_size=60,
    )
)
def test_address_sql_matches_python(cases: list[tuple]) -> None:
    got = sql_many("std_address(a, b, c, d)", *(list(col) for col in zip(*cases, strict=True)))
    for args, out in zip(cases, got, strict=True):
        sql = (out["street"], out["unit"], out["city"], out["state"], out["zip5"])
        assert sql == standardize_address(*args), args


def test_flag_shared_addresses() -> None:
    CON.execute(
        "CREATE OR REPLACE TEMP TABLE addr AS SELECT * FROM (VALUES "
        "('100 MAIN ST', '62704', 'f1'), ('100 MAIN ST', '62704', 'f2'), "
        "('100 MAIN ST', '62704', 'f3'), ('100 MAIN ST', '62704', 'f3'), "
        "('7 ELM ST', '62704', 'f1'), ('7 ELM ST', '62704', 'f4'), "
        "(NULL, '62704', 'f5')) t(street, zip5, family)"
    )
    flag_shared_addresses(CON, "shared_test", "street || '|' || zip5", "family", 3, source="addr")
    assert CON.execute("SELECT * FROM shared_test").fetchall() == [("100 MAIN ST|62704", 3)]
    flag_shared_addresses(CON, "shared_test", "street || '|' || zip5", "family", 2, source="addr")
    assert CON.execute("SELECT count(*) FROM shared_test").fetchone() == (2,)


def test_register_macros_is_idempotent() -> None:
    other = duckdb.connect()
    register_macros(other)
    register_macros(other)
    assert other.execute("SELECT std_name('Zoë')").fetchone() == ("ZOE",)
