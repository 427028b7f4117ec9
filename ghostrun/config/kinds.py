"""The kinds of value a setting takes: how each is checked, read from text, and written back.

A `Kind` bundles a checker for Python/TOML values, a parser for the text of an environment
variable or flag, and how the value is shown in TOML and `--help`. This module knows
nothing about `Settings`; the fields there each name one of the kinds below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COUNT",
    "INPUTS",
    "MODULES",
    "OPTIONAL_STR",
    "NON_NEGATIVE",
    "SECONDS",
    "SIZE",
    "STR",
    "Expected",
    "Kind",
    "choice",
    "expected_phrase",
    "parse_size",
]


@dataclass(frozen=True)
class Kind:
    """How one type of setting is checked, read from text, and written back.

    `check` takes a Python/TOML value and returns it normalised, `parse` reads the text of
    an environment variable or flag; both raise ValueError (`Expected` to say more than
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


class Expected(ValueError):
    """A ValueError whose message is a more precise 'expected' phrase for the error."""


def expected_phrase(kind: Kind, exc: ValueError) -> str:
    """What an error should say `kind` expects, given the ValueError its checker raised."""
    return str(exc) if isinstance(exc, Expected) else kind.expected


def _check_str(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value


def _check_optional_str(value: object) -> str | None:
    return None if value is None else _check_str(value)


def choice(*options: str) -> Kind:
    """One of `options`, spelled exactly."""
    def check(value: object) -> str:
        if value not in options:
            raise ValueError
        return str(value)

    return Kind(
        expected="one of " + ", ".join(f'"{o}"' for o in options),
        check=check,
        parse=check,
        metavar="[" + "|".join(options) + "]",
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


def _check_seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError
    return float(value)


def _check_non_negative(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError
    return float(value)


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
            raise Expected("a table whose keys are parameter names")
    try:
        return {name: _check_json(v) for name, v in value.items()}
    except ValueError:
        raise Expected("a table of JSON-like values (strings, numbers, booleans, arrays, "
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
        raise Expected("NAME=VALUE with NAME a parameter name")
    return name.strip(), _json_or_text(raw)


STR = Kind("a non-empty string", _check_str, _check_str, "TEXT")
OPTIONAL_STR = Kind("a non-empty string", _check_optional_str, _check_str, "TEXT")
SIZE = Kind('a size in bytes (an integer, or a string like "2GiB" or "500MB")',
            _check_size, _check_size, "SIZE", show=_format_size)
COUNT = Kind("a whole number of at least 1", _check_count,
             lambda text: _check_count(int(text)), "N")
SECONDS = Kind("a number of seconds above 0", _check_seconds,
                lambda text: _check_seconds(float(text)), "SECONDS")
NON_NEGATIVE = Kind("a number of at least 0", _check_non_negative,
                     lambda text: _check_non_negative(float(text)), "NUMBER")
MODULES = Kind("a list of package names", _check_modules,
               lambda text: _check_modules([p.strip() for p in text.split(",") if p.strip()]),
               "NAMES", show=list, cli_hint="Comma-separated.")
INPUTS = Kind("a table of input names to values", _check_inputs,
              lambda text: _check_inputs(json.loads(text)), "NAME=VALUE",
              item=_parse_input_item, merge=True,
              cli_hint="Repeatable; VALUE is read as JSON when it parses, else as text.")
