"""Stable hashes of text and plain values, used for code fingerprints and cache keys.

Python's `hash()` is salted per process, so nothing persistent may use it; these helpers
give the same hex digest in every process and on every machine.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import json
import math
import pickle
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def hash_parts(*parts: str) -> str:
    """Hash several strings as one; the separator keeps ("ab","c") apart from ("a","bc")."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def stable_repr(value: Any) -> str:
    """A canonical text for a knob value; type-tagged so 1, 1.0, True and "1" differ."""
    return json.dumps(_tagged(value), sort_keys=True, separators=(",", ":"))


def _tagged(value: Any) -> Any:  # noqa: C901 - one branch per plain type is clearest
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value) if math.isfinite(value) else str(value)}
    if isinstance(value, enum.Enum):
        return {"enum": f"{type(value).__qualname__}.{value.name}"}
    if isinstance(value, tuple | list):
        return {type(value).__name__: [_tagged(v) for v in value]}
    if isinstance(value, frozenset | set):
        return {"set": sorted(stable_repr(v) for v in value)}
    if isinstance(value, Mapping):
        return {"dict": sorted((stable_repr(k), _tagged(v)) for k, v in value.items())}
    if isinstance(value, PurePath):
        return {"path": str(value)}
    if isinstance(value, bytes):
        return {"bytes": hashlib.blake2b(value, digest_size=16).hexdigest()}
    return {"object": _object_token(value)}


def _object_token(value: Any) -> str:
    text = repr(value)
    if " at 0x" not in text:
        return f"{type(value).__module__}.{type(value).__qualname__}:{text}"
    try:
        return hashlib.blake2b(pickle.dumps(value, protocol=5), digest_size=16).hexdigest()
    except Exception:  # noqa: BLE001 - unpicklable: fall back to the type only
        return f"{type(value).__module__}.{type(value).__qualname__}"


def to_jsonable(value: Any) -> Any:
    """A JSON-friendly form of a knob value for history and `--json` output.

    It is compared across versions (and processes) to report knob changes, so it must tell
    apart what `stable_repr` tells apart and be the same in every process: tuples stay
    tuples (the history keeps them), and other objects become a text without memory
    addresses or hash-seed-dependent set order.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, tuple):
        return tuple(to_jsonable(v) for v in value)
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return _display_text(value)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _display_text(value: Any) -> str:
    if isinstance(value, frozenset | set):
        inner = ", ".join(sorted(repr(to_jsonable(v)) for v in value))
        if isinstance(value, frozenset):
            return f"frozenset({{{inner}}})" if inner else "frozenset()"
        return f"{{{inner}}}" if inner else "set()"
    if inspect.isfunction(value) or inspect.isclass(value):
        kind = "class" if inspect.isclass(value) else "function"
        return f"<{kind} {value.__module__}.{value.__qualname__}>"
    return _ADDRESS.sub("", repr(value))
