"""The web app in a real browser (issue 15, "Done when"): Playwright drives Debian's chromium
(apt, never a downloaded browser) through the real server, as a liaison and then an admin would
use it: log in, review and decide a pair with the keyboard, find a person, open them and a
family, open a list and download it, then read the audit, which shows each step. On every page
the content security policy holds (no console error, no violation) and the pair page draws its
chart under it. A screenshot of each page goes to build/screenshots/ (git-ignored).

One browser, one page, one flow: the whole module takes seconds once the `published` fixture
is built. It skips only where chromium is not installed; `make test` installs it (as root)."""

from __future__ import annotations

import csv
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from helpers import ROOT
from webapp_helpers import PASSWORD, web_workdir

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; `make test` "
                "installs it when run as root)", allow_module_level=True)

import uvicorn  # noqa: E402

from webapp.app import create_app  # noqa: E402

SCREENSHOTS = ROOT / "build" / "screenshots"
# http://127.0.0.1, not https: the session cookie is Secure, and Chromium treats loopback
# (localhost and 127.0.0.0/8) as a secure context, so it stores and sends Secure cookies
# over plain http there; the flow below logs in through it, which proves it.
HOST = "127.0.0.1"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def served(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The real server (uvicorn, as `famlink serve` runs it) over a copy of the published work
    folder, on a free port bound before it starts (no race for the port); and the person and
    family the flow looks for, read before the server opens the warehouse."""
    db = web_workdir(published, tmp_path_factory.mktemp("browser"))
    with duckdb.connect(str(db), read_only=True) as con:
        person_id, first, last, family_id = con.execute("""
            SELECT p.person_id, r.first_name_raw, r.last_name_raw, m.family_id
            FROM staged.person_records r JOIN linked.persons p USING (record_id)
            JOIN families.members m ON m.record_id = r.record_id
            WHERE r.system = 'cw' AND r.first_name IS NOT NULL AND r.last_name IS NOT NULL
            ORDER BY p.person_id, m.family_id LIMIT 1""").fetchone()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), access_log=False,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield {"url": f"http://{HOST}:{port}", "person_id": person_id, "first_name": first,
           "last_name": last, "family_id": family_id}
    server.should_exit = True
    thread.join(10)
    sock.close()


class Browser:
    """One chromium page, with what its console said and a screenshot helper."""

    def __init__(self, page, base: str) -> None:  # noqa: ANN001
        self.page, self.base, self.shots = page, base, 0
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"{page.url}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))

    def go(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)

    def shot(self, name: str, full_page: bool = True) -> None:
        self.shots += 1
        self.page.screenshot(path=SCREENSHOTS / f"{self.shots:02d}-{name}.png",
                             full_page=full_page)

    def login(self, username: str) -> None:
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        # (the form's token is the one its page set: a request of the browser's own, like
        # /favicon.ico, must not have replaced it on the way)
        with self.page.expect_navigation():
            self.page.click("form.login button[type=submit]")
        # the Secure session cookie was kept over http://127.0.0.1: the home page, not /login
        assert self.page.url == self.base + "/", self.page.url
        assert username in self.page.inner_text("header .who")

    def logout(self) -> None:
        with self.page.expect_navigation():
            self.page.click("form.logout button[type=submit]")
        assert self.page.url.startswith(self.base + "/login")


@pytest.fixture(scope="module")
def browser(served: dict) -> Iterator[Browser]:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_api.sync_playwright() as p:
        # --no-sandbox: the tests may run as root (CI), where chromium's sandbox refuses to start
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox"])
        context = chromium.new_context(accept_downloads=True,
                                       viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            yield Browser(page, served["url"])
        finally:
            context.close()
            chromium.close()


def test_a_liaison_and_an_admin_through_the_app(served: dict, browser: Browser,
                                                tmp_path: Path) -> None:
    b, page = browser, browser.page

    b.go("/review")  # not logged in: every page but /login sends the browser there
    assert page.url == b.base + "/login"
    b.shot("login")
    b.login("cw_liaison")
    b.shot("home")

    # the review queue, then its first pair
    page.click("header nav a[href='/review']")
    page.wait_for_url(b.base + "/review")
    assert page.locator("table.queue tbody tr").count() > 0
    b.shot("review-queue")
    first = page.locator("table.queue tbody tr a[href^='/review/pair/']").first
    pair_path = first.get_attribute("href")
    first.click()
    page.wait_for_url(b.base + pair_path)
    # the waterfall chart, drawn by Vega under the CSP (no inline script, no eval)
    page.wait_for_selector("#waterfall canvas, #waterfall svg", state="attached")
    assert "could not be drawn" not in page.inner_text("#waterfall")
    b.shot("review-pair")

    # a note typed with the keys m, n and u in it decides nothing
    note = "Not the same: a sibling, checked with the case manager"
    page.locator("#note").press_sequentially(note)
    page.keyboard.press("u")
    page.wait_for_timeout(300)  # a decision would have navigated by now
    assert page.url == b.base + pair_path
    assert page.input_value("#note") == note + "u"
    page.fill("#note", note)
    # out of the note, the key n decides "not the same person" and opens the next pair
    page.click("h1")
    with page.expect_navigation():
        page.keyboard.press("n")
    assert page.url != b.base + pair_path
    b.shot("review-next")
    b.go(pair_path)  # the decision was stored, with the note and the reviewer
    earlier = page.inner_text("h2:has-text('Earlier decisions') + table")
    assert "cw_liaison" in earlier and "not the same person" in earlier and note in earlier
    b.shot("review-decided")

    # find a person by name (a POST form: nothing typed goes into the URL)
    page.click("header nav a[href='/people']")
    page.wait_for_url(b.base + "/people")
    page.fill("input[name=last_name]", served["last_name"])
    page.fill("input[name=first_name]", served["first_name"])
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.url == b.base + "/people"
    person_link = page.locator(f"a[href='/people/{served['person_id']}']")
    assert person_link.count() == 1
    b.shot("people-search")
    person_link.click()
    page.wait_for_url(b.base + f"/people/{served['person_id']}")
    assert served["person_id"] in page.inner_text("h1")
    b.shot("person")
    page.click(f"a[href='/families/{served['family_id']}']")
    page.wait_for_url(b.base + f"/families/{served['family_id']}")
    b.shot("family")
    b.logout()

    # an admin opens a list and downloads it as CSV
    b.login("admin")
    page.click("header nav a[href='/lists']")
    page.wait_for_url(b.base + "/lists")
    b.shot("lists")
    page.click("a[href='/lists/joint_families']")
    page.wait_for_url(b.base + "/lists/joint_families")
    columns = [c.strip() for c in page.locator("table.data thead th").all_inner_texts()][1:]
    assert "family_id" in columns
    b.shot("list", full_page=False)  # a whole page of rows: seconds and megabytes
    with page.expect_download() as download_info:
        page.click("button[name=format][value=csv]")
    download = download_info.value
    assert download.suggested_filename == "joint_families.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["new", *columns] and len(rows) > 1

    # the audit shows every step, by whom
    page.click("header nav a[href='/admin/audit']")
    page.wait_for_url(b.base + "/admin/audit")
    b.shot("audit")
    cells = page.locator("table.data tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")
    steps = {(who, action) for _seq, _at, who, _role, action, *_ in cells}
    liaison = {"login", "view_queue", "view_pair", "decide", "search", "view_person",
               "view_family", "logout"}
    admin = {"login", "view_list", "download"}
    assert {("cw_liaison", a) for a in liaison} | {("admin", a) for a in admin} <= steps
    what = {(action, target) for _s, _a, _w, _r, action, target, _detail, _f in cells}
    assert {("view_person", served["person_id"]), ("view_family", served["family_id"]),
            ("view_list", "joint_families"), ("download", "joint_families")} <= what
    details = {(action, detail) for _s, _a, _w, _r, action, _t, detail, _f in cells}
    pair_id = pair_path.rsplit("/", 1)[1]
    assert {("view_pair", pair_id), ("decide", "no_match")} <= details
    audit_text = page.inner_text("table.data")
    assert served["last_name"] not in audit_text  # the search is audited by kind, not value

    # no page broke the content security policy (or raised any other error)
    assert not b.errors, "\n".join(b.errors)
    # and the console would have said so: an inline script is refused, and reported
    page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.inlineRan = true"; document.body.append(s); }""")
    page.wait_for_timeout(100)
    assert page.evaluate("window.inlineRan") is None
    assert any("Content Security Policy" in e for e in b.errors), b.errors
    assert len(list(SCREENSHOTS.glob("*.png"))) == b.shots
