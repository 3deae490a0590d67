"""The web app's door: login, sessions, CSRF, lockout, roles, headers and the audit trail."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from webapp_helpers import PASSWORD, client, csrf_of, logged_in, login, web_workdir

from linkage.access.audit import Audit
from linkage.access.settings import stores


@pytest.fixture
def db(published: Path, tmp_path: Path) -> Path:
    return web_workdir(published, tmp_path)


@pytest.mark.parametrize("path", ["/", "/review", "/people", "/lists", "/admin/audit",
                                  "/lists/no/such/page", "/review/pair/x"])
def test_a_stranger_is_sent_to_login(db: Path, path: str) -> None:
    response = client(db).get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_login_sets_a_safe_session_and_logout_ends_it(db: Path) -> None:
    c = client(db)
    response = login(c, "cs_liaison")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    home = c.get("/")
    assert home.status_code == 200 and "cs_liaison" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["cache-control"] == "no-store"
    c = logged_in(db, "cs_liaison")
    c.post("/logout", data={"csrf_token": csrf_of(c.get("/").text)})
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_login_form_needs_its_csrf_token(db: Path) -> None:
    c = client(db)
    c.get("/login")
    forged = c.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "csrf_token": "forged"}, follow_redirects=False)
    # refused: back to the form, saying why, and no session
    assert forged.headers["location"] == "/login?stale=1"
    assert "was stale" in c.get("/login?stale=1").text
    assert "famlink_session" not in forged.headers.get("set-cookie", "")


def test_repeated_failures_lock_the_account(db: Path) -> None:
    c = client(db)
    for _ in range(5):
        assert login(c, "cw_liaison", "wrong password!").headers["location"] == \
            "/login?failed=1"
    # the right password, too late: locked for configs/access.yaml's lockout.minutes
    assert login(c, "cw_liaison").headers["location"] == "/login?failed=1"
    assert login(c, "cs_liaison").headers["location"] == "/"  # another user is not locked
    actions = [e.action for e in Audit(stores(db)[1]).entries()]
    assert actions.count("login_failed") == 6 and "login" in actions
    # a name that is no user's (a password typed into the wrong field) is not kept
    login(c, "correct horse battery")
    names = [e.username for e in Audit(stores(db)[1]).entries() if e.action == "login_failed"]
    assert "correct horse battery" not in names and "(not a user name)" in names


def test_roles_reach_only_their_pages(db: Path) -> None:
    analyst = logged_in(db, "analyst")
    assert analyst.get("/admin/audit").status_code == 403
    page = analyst.get("/")
    assert "/admin/audit" not in page.text and "/review" not in page.text
    admin = logged_in(db, "admin")
    audit = admin.get("/admin/audit")
    assert audit.status_code == 200 and "analyst" in audit.text and "refused" in audit.text


def test_users_are_added_with_a_password_from_stdin_and_audit_exported(db: Path,
                                                                         tmp_path: Path) -> None:
    famlink = [sys.executable, "-c", "from flows.cli import main; main()"]
    added = subprocess.run([*famlink, "users", "add", "new_liaison", "--role", "liaison",
                            "--agency", "hmis,tanf", "--db", str(db)], input="a long passphrase\n",
                           capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    assert added.returncode == 0, added.stderr
    assert "a long passphrase" not in (stores(db)[0]).read_bytes().decode("latin-1")
    assert oct(stores(db)[0].stat().st_mode)[-3:] == "600"
    short = subprocess.run([*famlink, "users", "add", "x", "--role", "liaison", "--agency",
                            "cw", "--db", str(db)], input="short\n", capture_output=True,
                           text=True, cwd=ROOT, env=os.environ.copy())
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    assert login(client(db), "new_liaison", "a long passphrase").headers["location"] == "/"
    exported = subprocess.run([*famlink, "audit", "--db", str(db), "--since", "2000-01-01"],
                              capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows and rows[-1]["username"] == "new_liaison" and rows[-1]["action"] == "login"


def test_the_audit_trail_is_append_only(db: Path) -> None:
    import sqlite3

    login(client(db), "admin")
    con = sqlite3.connect(stores(db)[1])
    for statement in ("UPDATE audit SET username = 'someone else'", "DELETE FROM audit",
                      "INSERT OR REPLACE INTO audit VALUES (1, '', 'x', '', 'login', '', '', '')",
                      "REPLACE INTO audit VALUES (1, '', 'x', '', 'login', '', '', '')"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(statement)


def test_a_failing_page_logs_no_value(db: Path, monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    """An error inside a page (a database error quoting a row, say) gives an error page; the
    log names its kind and the page, never its message."""
    import webapp.admin

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("planted SSN 123-45-6789 of JANE PLANTED")

    monkeypatch.setattr(webapp.admin, "render", broken)
    c = logged_in(db, "admin")
    with caplog.at_level("DEBUG"):
        response = c.get("/admin/audit")
    assert response.status_code == 500 and "something went wrong" in response.text
    assert "PLANTED" not in response.text and "PLANTED" not in caplog.text
    assert "ValueError on /admin/audit" in caplog.text


def test_files_the_cli_writes_are_private(tmp_path: Path) -> None:
    """Whatever the shell's umask: files 0600, folders 0700."""
    famlink = [sys.executable, "-c", "import os; os.umask(0o022); "
               "from flows.cli import main; main()"]
    done = subprocess.run([*famlink, "synth", "--persons", "50", "--out", str(tmp_path / "s")],
                          capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    modes = {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "s").rglob("*")}
    assert modes <= {"0o600", "0o700"}, modes


def test_a_burst_of_guesses_cannot_pass_the_lockout(db: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    """Guesses sent at once: only as many as the lockout allows are checked against the hash,
    and the right password among the later ones does not log in."""
    from concurrent.futures import ThreadPoolExecutor

    import linkage.access.users as users_module
    from linkage.access.settings import load_access_config
    from linkage.access.users import Users

    checked = []
    real = users_module._verify
    monkeypatch.setattr(users_module, "_verify",
                        lambda password, stored: checked.append(1) or real(password, stored))
    store = Users(stores(db)[0], load_access_config())
    guesses = [f"wrong guess {i}!" for i in range(19)] + [PASSWORD]
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda p: store.login("cw_liaison", p), guesses))
    assert len(checked) == 5  # configs/access.yaml: lockout.failures
    assert results[-1] is None or results.count(None) >= 19


def test_an_unknown_name_costs_one_hash_like_a_known_one(db: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import hashlib

    import linkage.access.users as users_module
    from linkage.access.settings import load_access_config
    from linkage.access.users import Users

    store = Users(stores(db)[0], load_access_config())
    users_module._unknown_user_hash()  # made once, before the attempts
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(users_module.hashlib, "scrypt",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    store.login("admin", "wrong password!!")
    known = len(calls)
    store.login("nobody_here", "wrong password!!")
    assert len(calls) - known == known == 1
