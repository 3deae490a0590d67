"""The web app under test: an app over a copy of the published work folder, its users (one
per role and agency that the tests need), and a logged-in client for each."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from linkage.access.settings import load_access_config, stores
from linkage.access.users import Users
from webapp.app import create_app

PASSWORD = "correct horse battery"
USERS = {"admin": ("admin", ["cw"]), "cs_liaison": ("liaison", ["cs"]),
         "cw_liaison": ("liaison", ["cw"]), "hmis_staff": ("program_staff", ["hmis"]),
         "analyst": ("analyst", ["tanf"])}


def web_workdir(published: Path, tmp_path: Path) -> Path:
    """A copy of the published work folder (links kept), with the users of USERS."""
    workdir = tmp_path / "work"
    shutil.copytree(published.parent, workdir, symlinks=True)
    db = workdir / "famlink.duckdb"
    store = Users(stores(db)[0], load_access_config())
    for name, (role, agencies) in USERS.items():
        store.add(name, role, agencies, PASSWORD)
    return db


def client(db: Path) -> TestClient:
    # https: the session cookie is Secure, and a browser sends it over HTTPS (or to
    # localhost) only
    return TestClient(create_app(db), base_url="https://testserver")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(c: TestClient, username: str, password: str = PASSWORD):  # noqa: ANN201
    page = c.get("/login")
    return c.post("/login", data={"username": username, "password": password,
                                  "csrf_token": csrf_of(page.text)}, follow_redirects=False)


def logged_in(db: Path, username: str) -> TestClient:
    c = client(db)
    assert login(c, username).status_code == 303
    return c
