"""Rules for the ingest as a whole (`configs/ingest.yaml`), validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from linkage.config import CONFIG_DIR, load_config

INGEST_CONFIG = CONFIG_DIR / "ingest.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharedAddress(_Strict):
    # at least two: with one, every address anyone gives would be "shared"
    min_groups: Annotated[int, Field(ge=2)] = 3


class IngestSettings(_Strict):
    shared_address: SharedAddress = SharedAddress()


def load_ingest_settings(path: str | Path | None = None) -> IngestSettings:
    """`path`, or configs/ingest.yaml."""
    return load_config(Path(path) if path else INGEST_CONFIG, IngestSettings)
