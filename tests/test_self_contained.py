"""No test reads anything outside the repository, so that `git clone` + `make test` passes with
nothing beside the clone (issue 13, item 6).

Two checks: this module scans the tests' source for paths that leave the repository (what
DuckDB or a subprocess would read, which no Python hook sees), and `helpers.
guard_the_repository_edge` (installed by conftest.py) makes every run of the suite fail a test
that opens a file beside the repository.
"""

from __future__ import annotations

import ast
import re
import tempfile
from pathlib import Path

import pytest
from helpers import ROOT, ReadOutsideRepository

TESTS = ROOT / "tests"
# The first folder of an absolute path a test may name: the system's, never a person's or a
# project's (/work, /home, /Users, /mnt...).
SYSTEM_FOLDERS = {"tmp", "dev", "proc", "sys", "usr", "bin", "etc"}


def _web_routes() -> set[str]:
    """The first segments of the web app's own URLs (`/review/pair/...`): a test of the app
    names them, and they are no folder."""
    from webapp.app import create_app

    app = create_app(Path("unused.duckdb"))  # creates nothing until a request comes
    routes = [r for item in app.routes
              for r in getattr(getattr(item, "original_router", None), "routes", [item])]
    return {route.path.split("/")[1] for route in routes if route.path.strip("/")}


URL_SEGMENTS = _web_routes()
ABSOLUTE = re.compile(r"^(/(?P<top>[^/\s]+)/|[A-Za-z]:[\\/]|~)")


# A line that names the outside in order to keep tests away from it (the guard) says so.
ON_PURPOSE = "# outside on purpose"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of docstring nodes: prose may name where a fixture came from."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _parent_chain(node: ast.AST) -> int:
    """How many `.parent` steps end at `node` (`x.parent.parent` -> 2)."""
    steps = 0
    while isinstance(node, ast.Attribute) and node.attr == "parent":
        steps, node = steps + 1, node.value
    return steps


def escapes(source: str, depth: int) -> list[str]:
    """Where a test module's source leaves the repository. `depth`: how many folders below
    tests/ the module lies (a `.parents[depth + 1]` of its own path is the repository)."""
    tree = ast.parse(source)
    # docstrings, and the text after a placeholder in an f-string (f"{folder}/x" is relative)
    prose = _docstrings(tree) | {id(part) for node in ast.walk(tree)
                                 if isinstance(node, ast.JoinedStr) for part in node.values[1:]}
    on_purpose = {number for number, text in enumerate(source.splitlines(), 1)
                  if ON_PURPOSE in text}
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if line in on_purpose:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in prose:
            text = node.value
            match = ABSOLUTE.match(text)
            if text == ".." or text.startswith(("../", "..\\")) or "/../" in text:
                found.append(f"line {line}: {text!r} climbs out of a folder")
            elif match and match["top"] not in SYSTEM_FOLDERS | URL_SEGMENTS:
                found.append(f"line {line}: {text!r} is an absolute path")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "parents" and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, int) and node.slice.value > depth + 1:
            found.append(f"line {line}: .parents[{node.slice.value}] is above the repository")
        elif isinstance(node, ast.Attribute) and node.attr == "parent":
            if isinstance(node.value, ast.Name) and node.value.id == "ROOT":
                found.append(f"line {line}: ROOT.parent is beside the repository")
            elif _parent_chain(node) == depth + 3:  # once per chain, at the step that leaves
                # (a module's path, .parent: its folder; depth + 2 steps: the repository)
                found.append(f"line {line}: {depth + 3} x .parent may leave the repository")
        elif isinstance(node, ast.Attribute) and node.attr in ("home", "expanduser"):
            found.append(f"line {line}: .{node.attr} reads a person's folder")
    return found


def test_no_test_names_a_path_outside_the_repository() -> None:
    problems = []
    for path in sorted(TESTS.rglob("*.py")):
        if "fixtures" in path.relative_to(TESTS).parts or path == Path(__file__):
            continue  # data, not tests; and this module, which spells out each way out
        depth = len(path.relative_to(TESTS).parts) - 1
        problems += [f"{path.relative_to(ROOT)} {problem}"
                     for problem in escapes(path.read_text(encoding="utf-8"), depth)]
    assert not problems, "tests reach outside the repository:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [
    'FIXTURES = ROOT.parent / "shared" / "fixtures"',
    'FIXTURES = Path(__file__).resolve().parents[2] / "shared"',
    'FIXTURES = Path(__file__).parent.parent.parent / "shared"',
    'data = Path("../shared/fixtures/tanf")',
    'data = Path("/work/shared/fixtures/tanf")',
    'data = Path.home() / "extracts"',
])
def test_the_scan_finds_each_way_out(source: str) -> None:
    assert escapes(source, depth=0)


@pytest.mark.parametrize("source", [
    'FIXTURES = ROOT / "tests" / "fixtures"',
    'ROOT = Path(__file__).resolve().parents[1]',
    'ROOT = Path(__file__).parent.parent',
    'out = Path("/tmp") / "x"; sep = "/"; inside = f"{out}/licenses/LICENSE"',
    'parent = ROOT.parent  # outside on purpose: the guard',
    '"""Copied from ../shared/fixtures/tanf/ (provenance, not a read)."""',
])
def test_the_scan_lets_the_repository_be(source: str) -> None:
    assert escapes(source, depth=0) == []


@pytest.mark.skipif(ROOT.parent == Path(ROOT.anchor), reason="nothing lies beside the repository")
@pytest.mark.skipif(ROOT.parent in (Path(ROOT.anchor),
                                    Path(tempfile.gettempdir()).resolve()),
                    reason="a clone at the top of a disk or in the temporary folder itself: "
                           "the source scan alone guards (helpers.guard_the_repository_edge)")
def test_opening_a_file_beside_the_repository_fails_the_test() -> None:
    """The guard conftest.py installs: a read beside the clone fails even when the file is
    there (on a developer's machine ../shared exists; in a fresh clone it would not)."""
    with pytest.raises(ReadOutsideRepository, match="outside the repository"):
        (ROOT.parent / "shared" / "fixtures" / "README.md").read_text()
    with pytest.raises(ReadOutsideRepository):
        sorted((ROOT.parent / "shared").iterdir())
    assert (ROOT / "README.md").read_text()  # the repository itself stays open
