"""Settings written as a commented TOML config file: what `Settings.to_toml_text` returns.

Takes the fields with their values rather than a `Settings`, so it needs nothing from
the settings module (which imports this one).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import Field
from typing import Any

from ghostrun.config.spec import default, spec
from ghostrun.errors import ConfigError

__all__ = ["toml_text"]


def toml_text(entries: Iterable[tuple[Field[Any], Any]], table: str | None) -> str:
    """A config file with one commented entry per (field, value), under `[table]` when
    given, else at the top level."""
    lines = [f"[{table}]", ""] if table else []
    for f, value in entries:
        lines += _toml_entry(f, value)
    return "\n".join(lines).rstrip("\n") + "\n"


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
    field_spec = spec(f)
    lines = textwrap.wrap(field_spec.help, 86, initial_indent="# ", subsequent_indent="# ")
    if value is None or (value == {} and field_spec.example is not None):
        lines.append(f"# {f.name} = {_toml_value(field_spec.example)}")
    else:
        line = f"{f.name} = {_toml_value(field_spec.kind.show(value))}"
        at_default = value == default(f) and not field_spec.pinned
        lines.append("# " + line if at_default else line)
    return [*lines, ""]
