"""What one `Settings` field declares, and what is derived from it.

A field's metadata holds a `Spec` (help text, kind, flag spelling, TOML example) under the
key "setting"; `setting` builds such a field. Everything else here reads one field: its
default, its flag, its environment variable, and its value checked by its kind.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, dataclass, field
from typing import Any

from ghostrun.config.kinds import Kind, expected_phrase
from ghostrun.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "Spec",
    "checked",
    "default",
    "env_var",
    "flag",
    "invalid",
    "setting",
    "spec",
]

ENV_PREFIX = "GHOSTRUN_"


@dataclass(frozen=True)
class Spec:
    """What a `Settings` field's metadata carries under the key "setting"."""

    help: str
    kind: Kind
    flag: str | None = None  # when the flag is not simply --field-name
    example: Any = None  # written commented out when the value is unset (None)
    pinned: bool = False  # always written by `to_toml_text`, even at its default


def setting(default: Any, help: str, kind: Kind, **extra: Any) -> Any:
    """A dataclass field for one setting, with its `Spec` in the metadata; `extra` holds
    the optional `Spec` fields (flag, example, pinned)."""
    meta = {"setting": Spec(help, kind, **extra)}
    if isinstance(default, dict):
        # hash=False: a dict cannot be hashed, and Settings should stay hashable
        return field(default_factory=lambda: dict(default), hash=False, metadata=meta)
    return field(default=default, metadata=meta)


def spec(f: Field[Any]) -> Spec:
    found: Spec = f.metadata["setting"]
    return found


def default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def checked(f: Field[Any], value: Any, label: str) -> Any:
    """`value` normalised by the field's kind, or a ConfigError saying what `label` needs."""
    kind = spec(f).kind
    try:
        return kind.check(value)
    except ValueError as exc:
        raise invalid(label, expected_phrase(kind, exc), value) from None


def invalid(label: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{label} must be {expected}, got {value!r}.")


def flag(f: Field[Any]) -> str:
    return spec(f).flag or "--" + f.name.replace("_", "-")


def env_var(f: Field[Any]) -> str:
    return ENV_PREFIX + f.name.upper()
