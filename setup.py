"""One build step that pyproject.toml cannot declare: ship `configs/` inside the wheel.

The repository's `configs/` is where analysts edit the rules, and it sits beside the packages,
not inside one, so package data cannot name it. A wheel built from here carries a copy as
`linkage/configs/`; `linkage.config.CONFIG_DIR` reads that copy when famlink is installed and
`configs/` itself in a checkout (or an editable install), so there is one place to edit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONFIGS = Path(__file__).resolve().parent / "configs"


class BuildWithConfigs(build_py):
    """`build_py` that also puts the repository's configs into the built `linkage` package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads configs/ in place
            return
        target = Path(self.build_lib) / "linkage" / "configs"
        shutil.rmtree(target, ignore_errors=True)  # a config deleted here leaves no stale copy
        shutil.copytree(CONFIGS, target, ignore=shutil.ignore_patterns("*~", ".*"))


setup(cmdclass={"build_py": BuildWithConfigs})
