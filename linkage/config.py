"""Load YAML configuration files and validate them against pydantic models.

Every rule and threshold lives in `configs/`; an analyst edits those files by hand, so a mistake
must come back as one line naming the file, the key and the value, not as a traceback.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar

import duckdb
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

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


# SQL in configs: each fragment is pasted into famlink's own statements, so each must be what
# its place takes and nothing more. A fragment that closed a parenthesis and began a statement
# of its own (`x); COPY (SELECT ssn ...) TO 'file'`) would run when the config is checked.


def _outside_literals(text: str) -> str:
    """`text` with its string literals and quoted names blanked (what is code), or a
    ValueError for a comment or a quote left open."""
    code, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                if text[i + 1:i + 2] == quote:  # '' or "" inside: the quote itself
                    i += 1
                else:
                    quote = ""
            code.append(" ")
        elif ch in "'\"":
            quote = ch
            code.append(" ")
        elif text[i:i + 2] in ("--", "/*"):
            raise ValueError("a comment is not allowed in a SQL fragment")
        else:
            code.append(ch)
        i += 1
    if quote:
        raise ValueError(f"a {quote} is left open")
    return "".join(code)


def _nesting(code: str, commas: bool) -> None:
    """No `;`; parentheses never closed before they open; with `commas`, no comma outside
    them (one expression, not a list)."""
    depth = 0
    for ch in code:
        if ch == ";":
            raise ValueError("';' is not allowed: one expression (or query), not statements")
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            raise ValueError("a ')' closes what the fragment did not open")
        if ch == "," and depth == 0 and commas:
            raise ValueError("a comma outside parentheses: one expression, not a list")
    if depth:
        raise ValueError("a '(' is left open")


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB of famlink's own for parsing: never DuckDB's default connection,
    which a caller's `duckdb.sql(...)` may be using."""
    return duckdb.connect()


def _parsed(sql: str) -> dict:
    """DuckDB's parse of one SELECT statement (its own parser: what it accepts, it runs)."""
    rows = _parser().cursor().execute("SELECT json_serialize_sql(?)", [sql]).fetchall()
    tree = json.loads(rows[0][0])
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        message = str(tree.get("error_message", "not one SELECT")).splitlines()[0]
        raise ValueError(f"not valid SQL here: {message}")
    return tree["statements"][0]["node"]


def one_expression(text: str) -> str:
    """A SQL fragment that is one expression (a condition, a value), or a ValueError."""
    _nesting(_outside_literals(text), commas=True)
    node = _parsed(f"SELECT ({text})")
    if len(node.get("select_list", [])) != 1 or node["from_table"]["type"] != "EMPTY":
        raise ValueError("not one SQL expression")
    return text


def one_query(text: str) -> str:
    """A SQL fragment that is one SELECT query (read as a subquery), or a ValueError."""
    _nesting(_outside_literals(text), commas=False)
    _parsed(text)
    return text


SqlExpression = Annotated[str, AfterValidator(one_expression)]
SqlQuery = Annotated[str, AfterValidator(one_query)]
