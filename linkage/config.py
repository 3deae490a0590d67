"""Load YAML configuration files and validate them against pydantic models.

Every rule and threshold lives in `configs/`; an analyst edits those files by hand, so a mistake
must come back as one line naming the file, the key and the value, not as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

# The rules are edited in the repository's configs/; a wheel carries a copy of them inside the
# package (setup.py puts it there), since an installed famlink has no repository beside it.
_PACKAGED_CONFIGS = Path(__file__).resolve().parent / "configs"
_CHECKOUT_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _config_dir() -> Path:
    """The installed copy when famlink was installed from a wheel, else the checkout's configs/
    (a source checkout or an editable install, where editing configs/ takes effect at once)."""
    return _PACKAGED_CONFIGS if _PACKAGED_CONFIGS.is_dir() else _CHECKOUT_CONFIGS


CONFIG_DIR = _config_dir()

Model = TypeVar("Model", bound=BaseModel)


class Strict(BaseModel):
    """A config section: an unknown key is an error (a typo must not pass as a default), and
    the loaded values do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A configuration file that cannot be used, with every problem found in it."""


def _lookup(data: object, loc: tuple[int | str, ...]) -> object:
    for key in loc:
        in_dict = isinstance(data, dict) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and key < len(data)
        if in_dict or in_list:
            data = data[key]
        else:
            return "<missing>"
    return data


def load_config(path: str | Path, model: type[Model]) -> Model:
    """Read `path` and validate it as `model`, raising ConfigError that names file, key, value."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"])
            value = _lookup(data, err["loc"])
            lines.append(f"{path}: {key} = {value!r}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from None
