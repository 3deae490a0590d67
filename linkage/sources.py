"""Source descriptions (`configs/sources/*.yaml`): which files a system's extract holds and how
their columns map onto famlink's canonical person records, memberships, groups and events.

A new source of a known kind (a second county's HMIS, a state's own CS layout, any person list
in CSV or Parquet) is a new YAML file, never new code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from linkage.config import CONFIG_DIR, ConfigError, Strict, load_config

CANONICAL_ROLES = (
    "child", "mother", "father", "custodial_party", "non_custodial_parent", "putative_father",
    "head_of_household", "spouse_partner", "other_relative", "other",
)
Role = Literal[
    "child", "mother", "father", "custodial_party", "non_custodial_parent", "putative_father",
    "head_of_household", "spouse_partner", "other_relative", "other",
]
Column = Annotated[str, Field(min_length=1)]
SOURCES_DIR = CONFIG_DIR / "sources"


class TableSpec(Strict):
    """One file (or glob) of the extract, read as text columns."""

    file: Column
    key: list[Column] = []  # a second row with the same key is rejected
    required: list[Column] = []  # must be in the header, and non-empty in each row
    encoding: Literal["auto", "utf-8", "latin-1"] = "auto"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    # mapped columns the file may come without (a middle name some counties never send): their
    # values are then left empty, with a warning. Any other mapped column missing from the
    # file fails the ingest: a missing birth_date halves the links, and quietly.
    optional_columns: list[Column] = []


class PersonSpec(Strict):
    """How a table's rows become `staged.person_records`."""

    table: Column
    source_id: Column
    first_name: Column | None = None
    middle_name: Column | None = None
    last_name: Column | None = None
    suffix: Column | None = None
    dob: Column | None = None
    ssn: Column | None = None
    sex: Column | None = None
    sex_codes: dict[str, Literal["F", "M"]] = {}
    address_line: Column | None = None
    city: Column | None = None
    state: Column | None = None
    zip: Column | None = None
    phone: Column | None = None
    seen: Column | None = None  # the date the record was entered or seen
    # data-quality codes, where the source carries them (HUD's 1/2/8/9/99)
    name_quality: Column | None = None
    ssn_quality: Column | None = None
    dob_quality: Column | None = None
    # A person listed once per case (an FCR member) is one record: the first row wins.
    one_record_per_id: bool = False


class MembershipSpec(Strict):
    table: Column
    record: Column  # the column holding the person's source id
    group: Column
    group_type: Column
    role: Column | None = None
    roles: dict[str, Role] = {}
    default_role: Role = "other"
    start: Column | None = None
    end: Column | None = None


class GroupSpec(Strict):
    """Rows that describe a case or household itself (status, goal, dates)."""

    table: Column
    group: Column
    group_type: Column
    start: Column | None = None
    end: Column | None = None
    attributes: list[Column] = []
    # a file that repeats the case on every member's row (FCR) gives one group row per case
    first_row_only: bool = False


class EventSpec(Strict):
    table: Column
    event_type: Column
    record: Column | None = None
    group: Column | None = None
    start: Column | None = None
    end: Column | None = None
    details: list[Column] = []
    # only rows where this column has a value are events (e.g. a referral date)
    when: Column | None = None


class SourceConfig(Strict):
    system: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    format: Literal["csv", "parquet", "hmis_csv", "tanf_section1"]
    # folder of the files: relative to the extracts folder given to `famlink ingest`, or absolute
    path: Column
    # the folder may be absent (a system not every site runs): `famlink ingest` then loads the
    # others and exits 0; a missing folder of any other source fails the run once the rest is in
    optional: bool = False
    id_prefix: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    date_formats: list[Column] = ["%Y-%m-%d"]
    # tanf_section1: glob patterns (within `path`) of files read as reports whatever their
    # first line; any other file is read when its first line is a section 1 HEADER
    files: list[Column] | None = None
    tables: dict[str, TableSpec] = {}
    person: PersonSpec | None = None
    memberships: list[MembershipSpec] = []
    groups: list[GroupSpec] = []
    events: list[EventSpec] = []

    @model_validator(mode="after")
    def _mapped_sources_are_complete(self) -> SourceConfig:
        if self.format in ("csv", "parquet"):
            if not self.tables or self.person is None:
                raise ValueError(f"a {self.format} source needs `tables` and `person`")
            named = [self.person.table] + [m.table for m in self.memberships] + [
                g.table for g in self.groups] + [e.table for e in self.events]
            unknown = sorted({t for t in named if t not in self.tables})
            if unknown:
                raise ValueError(f"tables {unknown} are used but not listed under `tables`")
        for name, table in self.tables.items():
            _check_optional(name, table, mapped_columns(self, name))
        return self

    @property
    def prefix(self) -> str:
        """The first part of every record id (`<prefix>:<source id>`)."""
        return self.id_prefix or self.system


def mapped_columns(source: SourceConfig, table: str) -> list[str]:
    """The columns of `table` that the mapping reads besides its ids (which `required` and
    `key` cover): the ones whose absence leaves a staged field empty."""
    names: list[str | None] = []
    if source.person and source.person.table == table:
        p = source.person
        names += [p.first_name, p.middle_name, p.last_name, p.suffix, p.dob, p.ssn, p.sex,
                  p.address_line, p.city, p.state, p.zip, p.phone, p.seen]
    for m in source.memberships:
        if m.table == table:
            names += [m.group, m.role, m.start, m.end]
    for g in source.groups:
        if g.table == table:
            names += [g.start, g.end, *g.attributes]
    for e in source.events:
        if e.table == table:
            names += [e.group, e.start, e.end, *e.details]
    return [n for n in dict.fromkeys(names) if n]


def _check_optional(name: str, table: TableSpec, mapped: list[str]) -> None:
    """An optional column must be one the mapping reads from that table (a typo would
    otherwise make nothing optional, silently) and cannot be required as well."""
    stray = [c for c in table.optional_columns if c not in mapped]
    if stray:
        raise ValueError(f"tables.{name}.optional_columns: {', '.join(stray)} not mapped from "
                         f"this table (mapped: {', '.join(mapped) or 'none'})")
    both = [c for c in table.optional_columns if c in table.required or c in table.key]
    if both:
        raise ValueError(f"tables.{name}.optional_columns: {', '.join(both)} also required "
                         f"(`required` or `key`); a column is one or the other")


def load_sources(folder: str | Path | None = None) -> dict[str, SourceConfig]:
    """Every `*.yaml` in `folder` (default configs/sources/), keyed by file stem."""
    folder = Path(folder) if folder else SOURCES_DIR
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigError(f"{folder}: no source configs (*.yaml) found")
    sources = {path.stem: load_config(path, SourceConfig) for path in files}
    prefixes: dict[str, str] = {}
    for name, source in sources.items():
        if source.prefix in prefixes:
            raise ConfigError(
                f"{folder / (name + '.yaml')}: id_prefix = {source.prefix!r}: already used by "
                f"{prefixes[source.prefix]}.yaml; give one of them its own id_prefix")
        prefixes[source.prefix] = name
    return sources
