"""JSON encoding of knob values and change details that keeps tuples as tuples.

Plain JSON turns tuples into lists and refuses non-string dict keys, and knob values are
often tuples (`hidden_layer_sizes=(64, 32)`). Tagged objects fix that:
`{"$tuple": [...]}`, `{"$dict": [[key, value], ...]}` (for dicts whose keys are not all
plain strings), `{"$repr": "..."}` for anything else, which decodes to its repr string,
the same as a caller that passed `repr(value)` itself. NaN and infinities are kept.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from typing import Any


def encode(value: Any) -> Any:
    """A JSON-able form of `value` that `decode` turns back into an equal value."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$dict": [[encode(key), encode(item)] for key, item in value.items()]}
    return {"$repr": repr(value)}


def decode(data: Any) -> Any:
    """The inverse of `encode`."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        tag, inner = next(iter(data.items()))
        if tag == "$tuple":
            return tuple(decode(item) for item in inner)
        if tag == "$dict":
            return {decode(key): decode(item) for key, item in inner}
        if tag == "$repr":
            return inner
    return {key: decode(item) for key, item in data.items()}


def dumps(value: Any) -> str:
    """Encode and serialise in one step; key order is kept."""
    return json.dumps(encode(value), separators=(",", ":"))


def loads(text: str) -> Any:
    """Parse and decode in one step."""
    return decode(json.loads(text))
