"""The settings as click options, one per `Settings` field, and back to overrides."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import Field, fields
from typing import Any, TypeVar

import click

from ghostrun.config.kinds import Kind, expected_phrase
from ghostrun.config.settings import Settings
from ghostrun.config.spec import default, env_var, flag, spec

__all__ = ["overrides_from_click", "settings_options"]

_F = TypeVar("_F", bound=Callable[..., Any])


class _SettingType(click.ParamType):
    """Parses a flag's text with the setting's own parser, so flags, environment and file
    accept the same spellings; a bad value is a usage error (exit 2)."""

    def __init__(self, kind: Kind) -> None:
        self.name = kind.metavar
        self._kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return (self._kind.item or self._kind.parse)(value)
        except ValueError as exc:
            self.fail(f"must be {expected_phrase(self._kind, exc)}, got {value!r}", param, ctx)


def _help_default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list | tuple):
        return ",".join(value)
    if isinstance(value, Mapping):
        return "none" if not value else json.dumps(value)
    return str(value)


def _option(f: Field[Any]) -> Callable[[_F], _F]:
    field_spec = spec(f)
    value = default(f)
    shown = _help_default(None if value is None else field_spec.kind.show(value))
    help_text = " ".join(filter(None, [field_spec.help, field_spec.kind.cli_hint,
                                       f"[env: {env_var(f)}; default: {shown}]"]))
    return click.option(
        flag(f), f.name, type=_SettingType(field_spec.kind), default=None,
        multiple=field_spec.kind.item is not None, metavar=field_spec.kind.metavar,
        help=help_text,
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
        overrides[f.name] = dict(value) if spec(f).kind.item else value
    return overrides
