"""Paths and small readers the tests share."""

from __future__ import annotations

import csv
import os
import site
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
# Everything a test reads lives in the repository, so that a clone with nothing beside it passes
# (tests/test_self_contained.py checks it); each folder says where its files come from.
FIXTURES = ROOT / "tests" / "fixtures"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class ReadOutsideRepository(RuntimeError):
    """A test opened a file beside the repository. (Not an OSError, which code under test
    might take for a missing file and carry on.)"""


# Python's audit events that name a file or folder about to be read or written.
_PATH_EVENTS = {"open": 0, "os.listdir": 0, "os.scandir": 0, "glob.glob": 0,
                "glob.glob/2": 0}


def guard_the_repository_edge() -> None:
    """Refuse, for the rest of this process, to open anything under the repository's parent
    folder but outside the repository, the place where a developer's other checkouts and
    ../shared lie. Allowed there: the interpreter and its packages, the temporary folder, and
    hidden folders (~/.cache and the like, when the repository sits in a home folder).

    An audit hook sees Python's own reads only; DuckDB's reads and subprocesses are checked
    by tests/test_self_contained.py, which scans the tests' source. With the repository at the
    top of a disk, nothing lies beside it and there is nothing to guard; with the repository
    in the temporary folder itself (a CI clone in /tmp), every test's own files lie beside
    it, and the source scan alone guards.
    """
    parent = ROOT.parent  # outside on purpose: what the guard keeps tests from
    if parent == Path(parent.anchor) or parent == Path(tempfile.gettempdir()).resolve():
        return
    inside = [str(ROOT) + os.sep]
    for allowed in {sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(),
                    site.getuserbase(), *site.getsitepackages(), *sys.path}:
        allowed = os.path.abspath(allowed or ".")
        if allowed != str(parent):
            inside.append(allowed.rstrip(os.sep) + os.sep)
    beside = str(parent).rstrip(os.sep) + os.sep
    inside_prefixes = tuple(inside)

    def hook(event: str, args: tuple) -> None:
        where = _PATH_EVENTS.get(event)
        if where is None or not isinstance(args[where], (str, bytes, os.PathLike)):
            return
        path = os.path.abspath(os.fsdecode(args[where]))
        if (path.startswith(beside) and not (path + os.sep).startswith(inside_prefixes)
                and not path[len(beside):].startswith(".")):
            raise ReadOutsideRepository(
                f"{path}: a test reached outside the repository {ROOT}; copy what it needs "
                f"into tests/fixtures/ (with its source, commit and licence)")

    sys.addaudithook(hook)
