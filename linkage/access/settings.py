"""configs/access.yaml: what each role sees of each system's records, and which pages.

The filter is applied on the server, before a page is rendered or a file written: a field a
user may not see is never sent to their browser, so no page, download or error can leak it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from linkage.config import CONFIG_DIR, Strict, load_config

ACCESS_CONFIG = CONFIG_DIR / "access.yaml"
SYSTEMS = ("cw", "cs", "hmis", "tanf")
ROLES = ("admin", "liaison", "program_staff", "analyst")
Group = Literal["exists", "identity", "ssn", "address", "cases", "dates", "details"]

# The record fields each group shows (as the app's queries name them).
FIELDS: dict[str, tuple[str, ...]] = {
    "exists": ("system", "record_id"),
    "identity": ("first_name", "middle_name", "last_name", "suffix", "dob", "sex"),
    "ssn": ("ssn",),
    "address": ("address_street", "city", "zip5"),
    "cases": ("group_id", "group_type", "role"),
    "dates": ("start_date", "end_date", "event_date", "seen"),
    "details": ("detail", "event_type"),
}


class RoleAccess(Strict):
    full_ssn: bool = False
    own: list[Group]
    other: dict[Literal["cw", "cs", "hmis", "tanf"], list[Group]]


class Pages(Strict):
    review: list[Literal["admin", "liaison", "program_staff", "analyst"]]
    people: list[Literal["admin", "liaison", "program_staff", "analyst"]]
    lists: list[Literal["admin", "liaison", "program_staff", "analyst"]]
    audit: list[Literal["admin", "liaison", "program_staff", "analyst"]]


class Sessions(Strict):
    hours: float = Field(default=8, gt=0)
    idle_minutes: float = Field(default=30, gt=0)


class Lockout(Strict):
    failures: int = Field(default=5, ge=1)
    minutes: float = Field(default=15, gt=0)


class AccessConfig(Strict):
    roles: dict[Literal["admin", "liaison", "program_staff", "analyst"], RoleAccess]
    pages: Pages
    sessions: Sessions = Sessions()
    lockout: Lockout = Lockout()


def stores(db: Path) -> tuple[Path, Path]:
    """The access store (users, sessions) and the audit store of the warehouse at `db`:
    beside its stable path (in a work folder, beside the versions, never inside one)."""
    folder = Path(db).absolute().parent
    return folder / "access.sqlite", folder / "audit.sqlite"


def load_access_config(path: str | Path | None = None) -> AccessConfig:
    return load_config(Path(path) if path else ACCESS_CONFIG, AccessConfig)


@dataclass(frozen=True)
class User:
    username: str
    role: str
    agencies: tuple[str, ...]


class Access:
    """What one user may see, from the config."""

    def __init__(self, config: AccessConfig, user: User) -> None:
        self.config, self.user = config, user
        self.role = config.roles.get(user.role)  # type: ignore[call-overload]

    def may_use(self, page: str) -> bool:
        return self.user.role in getattr(self.config.pages, page)

    def groups(self, system: str) -> set[str]:
        """The field groups the user sees of `system`'s records: all `own` ones if one of
        their agencies is that system, else the role's `other` entry for it."""
        if self.role is None:
            return set()
        if system in self.user.agencies:
            return set(self.role.own)
        return set(self.role.other.get(system, []))  # type: ignore[call-overload]

    def fields(self, system: str) -> set[str]:
        return {name for group in self.groups(system) for name in FIELDS[group]}

    def sees(self, system: str, group: str) -> bool:
        return group in self.groups(system)

    def ssn(self, value: str | None) -> str | None:
        """An SSN as this user may see it: all nine digits for a `full_ssn` role, else the
        last four."""
        if not value:
            return None
        digits = "".join(ch for ch in value if ch.isdigit())
        if self.role is not None and self.role.full_ssn:
            return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if len(digits) == 9 else digits
        return "***-**-" + digits[-4:]

    def record(self, row: dict) -> dict:
        """`row` (one record, keyed by the names in FIELDS) with only what the user may see;
        the SSN masked. Keys the user may not see are dropped, not blanked."""
        system = row.get("system") or ""
        allowed = self.fields(system)
        kept = {key: value for key, value in row.items() if key in allowed}
        if "ssn" in kept:
            kept["ssn"] = self.ssn(kept["ssn"])
        return kept
