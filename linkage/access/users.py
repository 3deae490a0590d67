"""Users, their passwords, sessions and lockouts: `<workdir>/access.sqlite`.

Passwords are kept as scrypt hashes (Python's hashlib: memory-hard and slow, with a random
salt each), never as text. A session is a random token in an HttpOnly cookie; the store keeps
only its SHA-256, so a copy of the store opens no session. Each session carries its CSRF
token. Repeated failed logins for a user name lock it for a while, whatever the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from linkage.access.settings import ROLES, SYSTEMS, AccessConfig, User
from linkage.access.store import now, open_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, agencies TEXT NOT NULL,
    password TEXT NOT NULL, created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at TEXT NOT NULL, seen_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS failures (username TEXT NOT NULL, at TEXT NOT NULL);
"""
# scrypt's cost: 2^15 rounds of 8 x 128 bytes (32 MiB, about 0.1 s here): slow enough to
# make guessing expensive, quick enough for a login
SCRYPT = {"n": 2**15, "r": 8, "p": 1, "maxmem": 64 * 2**20}


class UserError(ValueError):
    """A user that cannot be added (unknown role or agency, a short password)."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${salt.hex()}${digest.hex()}"


def _verify(password: str, stored: str) -> bool:
    _, n, salt, digest = stored.split("$")
    found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt),
                           **{**SCRYPT, "n": int(n)})
    return hmac.compare_digest(found.hex(), digest)


@cache
def _unknown_user_hash() -> str:
    """A hash to check a password against when the user name is unknown: the same work as
    for a known one (made once, not on each attempt)."""
    return hash_password(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


class Users:
    def __init__(self, path: Path, config: AccessConfig) -> None:
        self.path, self.config = path, config

    def _open(self):  # noqa: ANN202 - a context manager of a sqlite3 connection
        return open_store(self.path, SCHEMA)

    def add(self, username: str, role: str, agencies: list[str], password: str) -> User:
        """Add a user, or replace one of that name (a new password, role or agencies)."""
        username = username.strip()
        if not username or any(ch.isspace() for ch in username):
            raise UserError("a user name is one word")
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        unknown = [a for a in agencies if a not in SYSTEMS]
        if unknown or not agencies:
            raise UserError(f"agencies must be among {', '.join(SYSTEMS)} (got "
                            f"{', '.join(agencies) or 'none'})")
        if len(password) < 12:
            raise UserError("a password needs at least 12 characters")
        with self._open() as con:
            con.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?, 0)",
                        [username, role, ",".join(agencies), hash_password(password), now()])
            con.execute("DELETE FROM sessions WHERE username = ?", [username])
        return User(username, role, tuple(agencies))

    def known(self, username: str) -> bool:
        """Whether a user of that name exists (the audit keeps a failed login's name only
        then)."""
        with self._open() as con:
            return con.execute("SELECT count(*) FROM users WHERE username = ?",
                               [username]).fetchone()[0] > 0

    def login(self, username: str, password: str) -> tuple[str, Session] | None:
        """A new session token for a right password (None otherwise, the failure counted).
        A locked user name gets None even with the right password.

        Each attempt is counted as a failure before its password is checked, in the same
        transaction that reads the count (SQLite's write lock serialises them): guesses sent
        at once cannot all pass the lockout while the slow hash runs."""
        since = (datetime.now() - timedelta(minutes=self.config.lockout.minutes)) \
            .isoformat(sep=" ", timespec="seconds")
        with self._open() as con:
            failed = con.execute("SELECT count(*) FROM failures WHERE username = ? AND at >= ?",
                                 [username, since]).fetchone()[0]
            if failed >= self.config.lockout.failures:
                return None
            con.execute("INSERT INTO failures VALUES (?, ?)", [username, now()])
            row = con.execute("SELECT role, agencies, password FROM users WHERE username = ? "
                              "AND NOT disabled", [username]).fetchone()
        # one hash whether or not the name exists, so that timing does not tell which do
        if not (_verify(password, row[2] if row else _unknown_user_hash()) and row):
            return None
        with self._open() as con:
            con.execute("DELETE FROM failures WHERE username = ?", [username])
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        [_token_hash(token), username, csrf, now(), now()])
        return token, Session(User(username, row[0], tuple(row[1].split(","))), csrf)

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token (its last use updated), or None when absent,
        ended, too old or idle too long."""
        if not token:
            return None
        key = _token_hash(token)
        with self._open() as con:
            row = con.execute("SELECT s.username, s.csrf, s.created_at, s.seen_at, u.role, "
                              "u.agencies FROM sessions s JOIN users u USING (username) "
                              "WHERE s.token_hash = ? AND NOT u.disabled", [key]).fetchone()
            if row is None:
                return None
            created, seen = (datetime.fromisoformat(row[2]), datetime.fromisoformat(row[3]))
            limits = self.config.sessions
            if (datetime.now() - created > timedelta(hours=limits.hours)
                    or datetime.now() - seen > timedelta(minutes=limits.idle_minutes)):
                con.execute("DELETE FROM sessions WHERE token_hash = ?", [key])
                return None
            con.execute("UPDATE sessions SET seen_at = ? WHERE token_hash = ?", [now(), key])
        return Session(User(row[0], row[4], tuple(row[5].split(","))), row[1])

    def logout(self, token: str | None) -> None:
        if token:
            with self._open() as con:
                con.execute("DELETE FROM sessions WHERE token_hash = ?", [_token_hash(token)])
