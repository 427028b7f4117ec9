"""JSON for the wire: compact UTF-8, never a bare NaN, tolerant of numpy and friends.

Results and event payloads are built from metrics and timings that are often numpy scalars
or NaN; `json.dumps` would reject the former and write the latter as `NaN`, which is not
JSON. The fast path tries the plain encoder first, so ordinary payloads pay nothing extra.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

_SCALARS = (str, int, bool, type(None))


def dumps(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON; non-finite floats become null, unknown objects strings."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(
            _plain(value, 0), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    return text.encode("utf-8")


_MAX_DEPTH = 200


def _plain(value: Any, depth: int) -> Any:
    """`value` rebuilt from JSON-native types only."""
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply to encode as JSON")
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_key(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_plain(v, depth + 1) for v in items]
    return _plain(_convert(value), depth + 1)


def _convert(value: Any) -> Any:
    """One step towards a JSON-native value for types json does not know."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # numpy scalars and arrays, to Python numbers and lists
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _key(key: Any) -> str | int | float | bool | None:
    """A dict key json accepts."""
    if isinstance(key, _SCALARS):
        return key
    plain = _plain(key, 0)
    return plain if isinstance(plain, _SCALARS) else str(plain)
