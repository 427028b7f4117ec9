"""Settings: declared once, read from a file, the environment and command-line flags.

Every setting is one field of `Settings`; its metadata holds the help text and the kind of
value it takes. TOML keys, environment variables and click options are all derived from
the fields, so adding a setting means adding one field (STYLE.md: no setting declared
twice).

Where settings come from, highest priority first (`_resolve`):

1. a command-line flag, `--kebab-case` (`--run-timeout 60`; `--input NAME=VALUE` for
   `inputs`, repeatable);
2. an environment variable `GHOSTRUN_<NAME>` (`GHOSTRUN_RUN_TIMEOUT=60`); an empty
   variable counts as unset; `inputs` is a JSON object there, `estimator_modules` a
   comma-separated list;
3. the project's config file: `ghostrun.toml` with the settings as *top-level keys*, or
   the `[tool.ghostrun]` table of `pyproject.toml`. If a project has both, ghostrun.toml
   wins and `[tool.ghostrun]` is ignored (with a logged warning);
4. the field's default.

TOML keys are the field names with underscores (`run_timeout = 60`). `inputs` is merged
key by key across sources with the same priority, so `--input path=small.csv` replaces one
input and keeps the others from the file. Values are checked wherever they come from; a
wrong one raises `ConfigError` naming the source, the key and what is expected.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
import re
import textwrap
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from ghostrun.errors import ConfigError
from ghostrun.workflow.types import Goal

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "NotifyMode",
    "Settings",
    "config_file",
    "display_path",
    "find_project_root",
    "load_settings",
    "overrides_from_click",
    "parse_size",
    "settings_options",
]

CONFIG_FILE = "ghostrun.toml"
PYPROJECT = "pyproject.toml"
ENV_PREFIX = "GHOSTRUN_"
NotifyMode = Literal["auto", "desktop", "notify-send", "off"]

_log = logging.getLogger(__name__)
_F = TypeVar("_F", bound=Callable[..., Any])
_GiB = 1024**3


# --- kinds of values -----------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """How one type of setting is checked, read from text, and written back.

    `check` takes a Python/TOML value and returns it normalised, `parse` reads the text of
    an environment variable or flag; both raise ValueError (`_Expected` to say more than
    `expected`). `show` turns a value into its TOML-friendly form.
    """

    expected: str
    check: Callable[[Any], Any]
    parse: Callable[[str], Any]
    metavar: str
    show: Callable[[Any], Any] = lambda value: value
    item: Callable[[str], tuple[str, Any]] | None = None  # repeatable NAME=VALUE flag
    merge: bool = False  # tables merge key by key across sources
    cli_hint: str = ""


class _Expected(ValueError):
    """A ValueError whose message is a more precise 'expected' phrase for the error."""


def _expected(kind: _Kind, exc: ValueError) -> str:
    return str(exc) if isinstance(exc, _Expected) else kind.expected


def _check_str(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value


def _check_optional_str(value: object) -> str | None:
    return None if value is None else _check_str(value)


def _choice(*options: str) -> _Kind:
    def check(value: object) -> str:
        if value not in options:
            raise ValueError
        return str(value)

    return _Kind(
        expected="one of " + ", ".join(f'"{o}"' for o in options),
        check=check,
        parse=check,
        metavar="[" + "|".join(options) + "]",
    )


def _seconds(*, positive: bool) -> _Kind:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0 or (positive and seconds == 0):
            raise ValueError
        return seconds

    return _Kind(
        expected="a number of seconds" + (" greater than 0" if positive else " (0 or more)"),
        check=check,
        parse=lambda text: check(float(text)),
        metavar="SECONDS",
        show=lambda s: int(s) if float(s).is_integer() else s,
    )


_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)
_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB")


def parse_size(text: str) -> int:
    """Bytes from `2GiB`, `500MB`, `1.5G`, `1024`: binary for K/M/G/T, KiB..., decimal
    for KB, MB, GB, TB (as `ls`, Docker and the JVM read a bare letter); case-insensitive."""
    match = _SIZE_RE.fullmatch(text)
    if match is None:
        raise ValueError
    unit = match.group(2).lower()
    if unit in ("", "b"):
        factor = 1
    else:
        power = "kmgt".find(unit[0]) + 1
        if power == 0 or unit[1:] not in ("", "i", "ib", "b"):
            raise ValueError
        factor = (1000 if unit[1:] == "b" else 1024) ** power
    return round(float(match.group(1)) * factor)


def _format_size(size: int) -> int | str:
    """`2GiB` rather than 2147483648 where the size is a whole number of a binary unit."""
    for power in range(len(_SIZE_UNITS), 0, -1):
        if size and size % 1024**power == 0:
            return f"{size // 1024**power}{_SIZE_UNITS[power - 1]}"
    return size


def _check_size(value: object) -> int:
    if isinstance(value, str):
        return parse_size(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError
    return value


def _check_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError
    return value


def _check_modules(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError
    for name in value:
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise ValueError
    return tuple(value)


def _check_json(value: object) -> Any:
    """A deep copy of a JSON-like value; ValueError for anything JSON cannot hold."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list | tuple):
        return [_check_json(v) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _check_json(v) for k, v in value.items()}
    raise ValueError


def _check_inputs(value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise _Expected("a table whose keys are parameter names")
    try:
        return {name: _check_json(v) for name, v in value.items()}
    except ValueError:
        raise _Expected("a table of JSON-like values (strings, numbers, booleans, arrays, "
                        "tables)") from None


def _json_or_text(text: str) -> Any:
    """The JSON value `text` spells (strictly: no NaN), else `text` itself."""
    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(text, parse_constant=no_constants)
    except ValueError:
        return text


def _parse_input_item(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise _Expected("NAME=VALUE with NAME a parameter name")
    return name.strip(), _json_or_text(raw)


_STR = _Kind("a non-empty string", _check_str, _check_str, "TEXT")
_OPTIONAL_STR = _Kind("a non-empty string", _check_optional_str, _check_str, "TEXT")
_SIZE = _Kind('a size in bytes (an integer, or a string like "2GiB" or "500MB")',
              _check_size, _check_size, "SIZE", show=_format_size)
_COUNT = _Kind("a whole number of at least 1", _check_count,
               lambda text: _check_count(int(text)), "N")
_MODULES = _Kind("a list of package names", _check_modules,
                 lambda text: _check_modules([p.strip() for p in text.split(",") if p.strip()]),
                 "NAMES", show=list, cli_hint="Comma-separated.")
_INPUTS = _Kind("a table of input names to values", _check_inputs,
                lambda text: _check_inputs(json.loads(text)), "NAME=VALUE",
                item=_parse_input_item, merge=True,
                cli_hint="Repeatable; VALUE is read as JSON when it parses, else as text.")


@dataclass(frozen=True)
class _Spec:
    """What a `Settings` field's metadata carries under the key "setting"."""

    help: str
    kind: _Kind
    flag: str | None = None  # when the flag is not simply --field-name
    example: Any = None  # written commented out when the value is unset (None)
    pinned: bool = False  # always written by `to_toml_text`, even at its default


def _setting(default: Any, help: str, kind: _Kind, **spec: Any) -> Any:
    meta = {"setting": _Spec(help, kind, **spec)}
    if isinstance(default, dict):
        # hash=False: a dict cannot be hashed, and Settings should stay hashable
        return field(default_factory=lambda: dict(default), hash=False, metadata=meta)
    return field(default=default, metadata=meta)


def _spec(f: Field[Any]) -> _Spec:
    spec: _Spec = f.metadata["setting"]
    return spec


# --- the settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """All of ghostrun's settings for one project; see the module docstring for sources.

    Values are checked and normalised on construction (sizes become bytes, seconds
    floats, lists tuples), so `Settings(storage_budget="500MB")` works and a wrong value
    fails here rather than deep inside the daemon.
    """

    workflow: str = _setting(
        "pipeline.py", "Path of the workflow module, relative to the project root.",
        _STR, pinned=True)
    metric: str | None = _setting(
        None, "Name of the primary metric operator: needed for undecorated (Hamilton-style) "
        "modules, and overrides the decorators' choice.", _OPTIONAL_STR, example="auc")
    goal: Goal = _setting(
        "max", "Whether the primary metric is better higher (max) or lower (min).",
        _choice("max", "min"))
    inputs: Mapping[str, Any] = _setting(
        {}, "Values for the external inputs of Hamilton-style modules (parameters that name "
        "no operator and have no default).", _INPUTS, flag="--input",
        example={"data_path": "data/train.csv"})
    storage_budget: int = _setting(
        2 * _GiB, "Disk space the result cache under .ghostrun/cache may use.", _SIZE)
    memory_budget: int = _setting(
        1 * _GiB, "Memory the run worker may use to keep recent intermediates hot.", _SIZE)
    run_timeout: float = _setting(
        900.0, "Seconds one run may take before its worker is stopped and replaced.",
        _seconds(positive=True))
    run_memory_limit: int = _setting(
        8 * _GiB, "Memory a run worker may use before it is stopped and replaced.", _SIZE)
    quiet_period: float = _setting(
        20.0, "Seconds without a save before idle-time exploration starts.",
        _seconds(positive=False))
    notify: NotifyMode = _setting(
        "auto", "Where results are announced: auto (desktop, else notify-send, else the log "
        "only), desktop, notify-send, or off.", _choice("auto", "desktop", "notify-send", "off"))
    estimator_modules: tuple[str, ...] = _setting(
        ("sklearn", "xgboost", "lightgbm"), "Packages whose estimator constructors' literal "
        "keyword arguments count as implicit knobs.", _MODULES)
    min_sample_rows: int = _setting(
        1500, "Fewest rows an approximate run samples; smaller sources are never sampled.",
        _COUNT)
    cluster: str | None = _setting(
        None, "Address of an existing Dask scheduler for exploration trials; local worker "
        "processes when unset.", _OPTIONAL_STR, example="tcp://127.0.0.1:8786")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _checked(f, getattr(self, f.name), f"Settings.{f.name}")
            object.__setattr__(self, f.name, value)

    def to_toml_text(self, table: str | None = "tool.ghostrun") -> str:
        """These settings as a commented config file (what `ghostrun init` writes).

        Values equal to their default are written commented out, so a better default in a
        later release still reaches the project; `workflow` is always written. Pass
        `table=None` for ghostrun.toml's top-level form.
        """
        lines = [f"[{table}]", ""] if table else []
        for f in fields(self):
            lines += _toml_entry(f, getattr(self, f.name))
        return "\n".join(lines).rstrip("\n") + "\n"


def _default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def _checked(f: Field[Any], value: Any, label: str) -> Any:
    """`value` normalised by the field's kind, or a ConfigError saying what `label` needs."""
    kind = _spec(f).kind
    try:
        return kind.check(value)
    except ValueError as exc:
        raise _invalid(label, _expected(kind, exc), value) from None


def _invalid(label: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{label} must be {expected}, got {value!r}.")


def _flag(f: Field[Any]) -> str:
    return _spec(f).flag or "--" + f.name.replace("_", "-")


def _env_var(f: Field[Any]) -> str:
    return ENV_PREFIX + f.name.upper()


def _unknown_key(label: str, key: str) -> ConfigError:
    names = [f.name for f in fields(Settings)]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "known settings: " + ", ".join(names) + "."
    return ConfigError(f"{label} has no setting '{key}'; {hint}")


# --- sources -----------------------------------------------------------------------------


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
            values[key] = _checked(by_name[key], value, f"{label} {key}")
        elif top_level and key in ("ghostrun", "tool") and isinstance(value, dict):
            raise ConfigError(f"{label} settings go at the top level of {CONFIG_FILE}; "
                              f"remove the [{key}...] header.")
        else:
            raise _unknown_key(label, key)
    return values


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for f in fields(Settings):
        text = environ.get(_env_var(f), "")
        if not text:
            continue
        kind = _spec(f).kind
        try:
            values[f.name] = kind.parse(text)
        except ValueError as exc:
            label = f"environment variable {_env_var(f)}"
            raise _invalid(label, _expected(kind, exc), text) from None
    return values


def _override_values(overrides: Mapping[str, object]) -> dict[str, Any]:
    by_name = {f.name: f for f in fields(Settings)}
    values = {}
    for key, value in overrides.items():
        if key not in by_name:
            raise _unknown_key("the command line", key)
        values[key] = _checked(by_name[key], value, f"option {_flag(by_name[key])}")
    return values


def _resolve(f: Field[Any], layers: Sequence[Mapping[str, Any]]) -> Any:
    """One setting's value: the first layer that sets it wins (flag, then environment,
    then file), else the default. `inputs` merges key by key with the same priority."""
    given = [layer[f.name] for layer in layers if f.name in layer]
    if not given:
        return _default(f)
    if _spec(f).kind.merge:
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


# --- click ------------------------------------------------------------------------------


class _SettingType(click.ParamType):
    """Parses a flag's text with the setting's own parser, so flags, environment and file
    accept the same spellings; a bad value is a usage error (exit 2)."""

    def __init__(self, kind: _Kind) -> None:
        self.name = kind.metavar
        self._kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return (self._kind.item or self._kind.parse)(value)
        except ValueError as exc:
            self.fail(f"must be {_expected(self._kind, exc)}, got {value!r}", param, ctx)


def _help_default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list | tuple):
        return ",".join(value)
    if isinstance(value, Mapping):
        return "none" if not value else json.dumps(value)
    return str(value)


def _option(f: Field[Any]) -> Callable[[_F], _F]:
    spec = _spec(f)
    default = _default(f)
    shown = _help_default(None if default is None else spec.kind.show(default))
    help_text = " ".join(filter(None, [spec.help, spec.kind.cli_hint,
                                       f"[env: {_env_var(f)}; default: {shown}]"]))
    return click.option(
        _flag(f), f.name, type=_SettingType(spec.kind), default=None,
        multiple=spec.kind.item is not None, metavar=spec.kind.metavar, help=help_text,
    )


def settings_options(command: _F) -> _F:
    """Adds one option per setting to a click command; pair with `overrides_from_click`.

    Options default to None (or `()` for `--input`) so "not given" stays distinguishable
    from a value equal to the default, and the environment and file still apply.
    """
    for f in reversed(fields(Settings)):
        command = _option(f)(command)
    return command


def overrides_from_click(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pops the settings' options out of a command's `kwargs`; returns those given."""
    overrides = {}
    for f in fields(Settings):
        value = kwargs.pop(f.name, None)
        if value is None or value == ():
            continue
        overrides[f.name] = dict(value) if _spec(f).kind.item else value
    return overrides


# --- TOML rendering ------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise ConfigError(f"{value!r} cannot be written in TOML (it has no null); "
                      "remove it or give it a value.")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_entry(f: Field[Any], value: Any) -> list[str]:
    """Help as a comment, then `key = value`, commented out when at its default."""
    spec = _spec(f)
    lines = textwrap.wrap(spec.help, 86, initial_indent="# ", subsequent_indent="# ")
    if value is None or (value == {} and spec.example is not None):
        lines.append(f"# {f.name} = {_toml_value(spec.example)}")
    else:
        line = f"{f.name} = {_toml_value(spec.kind.show(value))}"
        at_default = value == _default(f) and not spec.pinned
        lines.append("# " + line if at_default else line)
    return [*lines, ""]
