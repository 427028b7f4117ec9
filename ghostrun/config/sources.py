"""Where settings come from: the project root, its config file, the environment, overrides.

`load_settings` reads each source into a layer of checked values, then `_resolve` picks
each setting's value from the layers (flag, then environment, then file, then default;
the full rules are in the `ghostrun.config` docstring).
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

from ghostrun.config.kinds import expected_phrase
from ghostrun.config.settings import Settings
from ghostrun.config.spec import checked, default, env_var, flag, invalid, spec
from ghostrun.errors import ConfigError

__all__ = ["CONFIG_FILE", "PYPROJECT", "config_file", "display_path", "find_project_root",
           "load_settings"]

CONFIG_FILE = "ghostrun.toml"
PYPROJECT = "pyproject.toml"

# The package's logger, as before config.py became a package, so log records and any
# logging configuration keep naming "ghostrun.config".
_log = logging.getLogger("ghostrun.config")


def display_path(path: Path) -> str:
    """`path` relative to the working directory when inside it, else absolute: what a
    user can paste into their editor."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except (ValueError, OSError):  # outside the working directory, or it was deleted
        return str(path.absolute())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{display_path(path)} is not valid TOML: {exc}; "
                          "fix the syntax there.") from None
    except OSError as exc:
        raise ConfigError(f"{display_path(path)} cannot be read: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{display_path(path)} is not UTF-8 text; save it as UTF-8.") from None


def _tool_table(pyproject: Path) -> dict[str, Any] | None:
    """The `[tool.ghostrun]` table of a pyproject.toml, or None when it has none."""
    if not pyproject.is_file():
        return None
    tool = _read_toml(pyproject).get("tool")
    table = tool.get("ghostrun") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{display_path(pyproject)}: tool.ghostrun must be a table "
                          f"([tool.ghostrun]), got {table!r}.")
    return table


def _config_source(root: Path) -> tuple[Path, Mapping[str, Any], str] | None:
    """The config file of `root`, its settings table, and how errors name that table."""
    own = root / CONFIG_FILE
    if own.is_file():
        return own, _read_toml(own), f"{display_path(own)}:"
    pyproject = root / PYPROJECT
    table = _tool_table(pyproject)
    if table is None:
        return None
    return pyproject, table, f"{display_path(pyproject)}: [tool.ghostrun]"


def config_file(root: Path) -> Path | None:
    """The file `root`'s settings come from: ghostrun.toml, else a pyproject.toml with a
    [tool.ghostrun] table, else None."""
    source = _config_source(root)
    return None if source is None else source[0]


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding a ghostrun config; `start`
    itself when there is none (a project that has not run `ghostrun init`)."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        if config_file(directory) is not None:
            return directory
    return start


def _unknown_key(label: str, key: str) -> ConfigError:
    names = [f.name for f in fields(Settings)]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "known settings: " + ", ".join(names) + "."
    return ConfigError(f"{label} has no setting '{key}'; {hint}")


def _file_values(root: Path) -> dict[str, Any]:
    source = _config_source(root)
    if source is None:
        return {}
    path, table, label = source
    top_level = path.name == CONFIG_FILE
    if top_level and _tool_table(root / PYPROJECT) is not None:
        _log.warning("%s and [tool.ghostrun] in %s both exist; using %s only.",
                     CONFIG_FILE, PYPROJECT, CONFIG_FILE)
    by_name = {f.name: f for f in fields(Settings)}
    values = {}
    for key, value in table.items():
        if key in by_name:
            values[key] = checked(by_name[key], value, f"{label} {key}")
        elif top_level and key in ("ghostrun", "tool") and isinstance(value, dict):
            raise ConfigError(f"{label} settings go at the top level of {CONFIG_FILE}; "
                              f"remove the [{key}...] header.")
        else:
            raise _unknown_key(label, key)
    return values


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for f in fields(Settings):
        text = environ.get(env_var(f), "")
        if not text:
            continue
        kind = spec(f).kind
        try:
            values[f.name] = kind.parse(text)
        except ValueError as exc:
            label = f"environment variable {env_var(f)}"
            raise invalid(label, expected_phrase(kind, exc), text) from None
    return values


def _override_values(overrides: Mapping[str, object]) -> dict[str, Any]:
    by_name = {f.name: f for f in fields(Settings)}
    values = {}
    for key, value in overrides.items():
        if key not in by_name:
            raise _unknown_key("the command line", key)
        values[key] = checked(by_name[key], value, f"option {flag(by_name[key])}")
    return values


def _resolve(f: Field[Any], layers: Sequence[Mapping[str, Any]]) -> Any:
    """One setting's value: the first layer that sets it wins (flag, then environment,
    then file), else the default. `inputs` merges key by key with the same priority."""
    given = [layer[f.name] for layer in layers if f.name in layer]
    if not given:
        return default(f)
    if spec(f).kind.merge:
        return {k: v for value in reversed(given) for k, v in value.items()}
    return given[0]


def load_settings(
    root: Path,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings of the project at `root`: `overrides` (flags, by field name) over
    `environ` (default `os.environ`) over the config file over defaults."""
    layers = (
        _override_values(overrides or {}),
        _env_values(os.environ if environ is None else environ),
        _file_values(root),
    )
    return Settings(**{f.name: _resolve(f, layers) for f in fields(Settings)})
