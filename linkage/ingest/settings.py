"""Rules for the ingest as a whole (`configs/ingest.yaml`), validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from linkage.config import CONFIG_DIR, Strict, load_config

INGEST_CONFIG = CONFIG_DIR / "ingest.yaml"


class SharedAddress(Strict):
    # at least two: with one, every address anyone gives would be "shared". No default here:
    # the value lives in configs/ingest.yaml alone.
    min_groups: Annotated[int, Field(ge=2)]


class IngestSettings(Strict):
    shared_address: SharedAddress


def load_ingest_settings(path: str | Path | None = None) -> IngestSettings:
    """`path`, or configs/ingest.yaml."""
    return load_config(Path(path) if path else INGEST_CONFIG, IngestSettings)
