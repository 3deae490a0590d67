"""`pip install .` (not editable) gives a famlink that runs from any folder (issue 13, item 6):
the configs ship inside the wheel, every import is a declared dependency, the licences go along.

The wheel is built and installed offline, with the build backend and the dependencies of the
environment running the tests: into a fresh virtual environment that sees those dependencies
through a path file, but neither the repository nor its editable install.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from helpers import CONFIGS, ROOT, read_csv

PACKAGES = ("linkage", "flows", "synthetic_data", "webapp")
# What building the wheel reads: a clone holds these (and tests, benchmarks the wheel leaves out)
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "configs",
                *PACKAGES)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra: str | None = None) -> set[str]:
    """The distributions pyproject requires, or those of one optional `extra`."""
    requirements = PROJECT["optional-dependencies"][extra] if extra else PROJECT["dependencies"]
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", req)[0]) for req in requirements}


# An optional part of the package and the extra that installs what it imports: it imports
# those only inside functions, and says which extra to install when they are missing.
OPTIONAL = {"linkage/engines/spark.py": "spark"}


def _third_party_modules() -> dict[str, str]:
    """Top-level modules the packages import, and the packages whose files they read through
    `package_dir("...")` (no import, the same need), each with a file that uses it."""
    own = set(PACKAGES)
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "package_dir" \
                        and node.args and isinstance(node.args[0], ast.Constant):
                    names = [node.args[0].value]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared() -> None:
    """A module imported but not declared works in the developer's environment and fails on a
    fresh machine (pydantic was one). The optional Spark engine may import its extra's
    packages, inside its functions only: `import linkage.engines.spark` works without them."""
    providers = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, where in _third_party_modules().items():
        distributions = {_canonical(d) for d in providers.get(module, [module])}
        extra = OPTIONAL.get(where)
        if distributions & _declared() or (extra and distributions & _declared(extra)
                                           and module not in _top_level_imports(where)):
            continue
        undeclared[module] = where
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"
    assert "spark" in PROJECT["optional-dependencies"]["dev"][0]  # the tests run both engines


def _top_level_imports(path: str) -> set[str]:
    """The top-level packages module `path` imports when it is itself imported."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` builds, from a copy of the sources (a build writes build/ and
    *.egg-info beside them, which must not race another run in the repository)."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [path] = out.glob("famlink-*.whl")
    return path


def test_the_wheel_carries_the_configs_licences_and_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for path in sorted(CONFIGS.rglob("*.yaml")):
            packaged = f"linkage/configs/{path.relative_to(CONFIGS).as_posix()}"
            assert archive.read(packaged) == path.read_bytes(), packaged
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = {_canonical(re.match(r"Requires-Dist: ([A-Za-z0-9._-]+)", line)[1])
                    for line in archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:") and "extra ==" not in line}
    info = metadata.rsplit("/", 1)[0]
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/linkage/assets/vega/LICENSE",
            "linkage/assets/vega/LICENSE"} <= names
    assert "linkage/reference/nicknames_hispanic.csv" in names
    assert not any(n.startswith(("tests/", "configs/", "benchmarks/")) for n in names)
    assert requires == _declared() and "pydantic" in requires


def test_installed_famlink_runs_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    """synth, ingest, link, families and report, run by the installed command in a folder
    that is not the repository."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies, as a plain path: the .pth files there (the editable install's hook)
    # are not run, so the repository stays out of sight.
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(args, capture_output=True, text=True, cwd=elsewhere, env=env,
                              timeout=300)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
        return done

    where = run(str(python), "-c", "import linkage.config as c; print(c.__file__, c.CONFIG_DIR)")
    module, configs = where.stdout.split()
    assert module.startswith(purelib) and configs == f"{purelib}/linkage/configs"
    famlink = str(venv / "bin" / "famlink")
    run(famlink, "synth", "--persons", "200", "--out", "data")
    run(famlink, "ingest", "--data", "data", "--db", "famlink.duckdb")
    run(famlink, "link", "--db", "famlink.duckdb")
    run(famlink, "families", "--db", "famlink.duckdb")
    run(famlink, "report", "families", "--db", "famlink.duckdb", "--out", "families.csv")
    assert read_csv(elsewhere / "families.csv")
