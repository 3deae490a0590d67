"""configs/publish.yaml: how many versions to keep and the gates a run must pass."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from linkage.config import CONFIG_DIR, Strict, load_config

PUBLISH_CONFIG = CONFIG_DIR / "publish.yaml"


class RejectRate(Strict):
    max: float = Field(default=0.05, ge=0, le=1)
    max_increase: float = Field(default=0.02, ge=0, le=1)


class Bounds(Strict):
    """This run's count over the last published run's must lie in [min_ratio, max_ratio];
    counts under `min_count` in both runs are too small to say anything."""

    min_ratio: float = Field(default=0.8, ge=0)
    max_ratio: float = Field(default=1.25, gt=0)
    min_count: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min_ratio > self.max_ratio:
            raise ValueError("need min_ratio <= max_ratio")
        return self


class Gates(Strict):
    sources_present: bool = True
    reject_rate: RejectRate = RejectRate()
    staged_records: Bounds = Bounds()
    persons: Bounds = Bounds()
    families: Bounds = Bounds()
    lists: Bounds = Bounds(min_ratio=0.5, max_ratio=2.0, min_count=20)


class PublishConfig(Strict):
    keep_versions: int = Field(default=3, ge=1)
    gates: Gates = Gates()


def load_publish_config(path: str | Path | None = None) -> PublishConfig:
    return load_config(Path(path) if path else PUBLISH_CONFIG, PublishConfig)
