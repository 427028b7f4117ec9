"""Byte formats of blobs: one Arrow IPC column, one `.npy` array, or one pickle.

Each codec turns a value into a list of bytes-like chunks (written one after the other,
so a large array is never copied into one big bytes object) and back from the payload
read off disk. Codecs are recorded per blob, so every format ever written stays readable:

- `arrow`: an uncompressed single-column Arrow IPC file (written until compression came);
- `arrow-lz4`: the same with LZ4-compressed buffers (Arrow IPC's own body compression,
  which the reader undoes by itself), written for every Arrow column now;
- `npy`: a `.npy` file; `npy-lz4`: the same with its data LZ4-compressed (large arrays);
- `joblib`: a joblib pickle; `pickle`: a plain pickle (plain values such as metrics, and
  the skeleton of a composite value).

The Arrow and `.npy` codecs live in `_arraycodecs`, imported on first use: they need
numpy, pandas and pyarrow, which reading a plain pickle (a cached metric) does not.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from typing import Any

ARROW = "arrow"
ARROW_LZ4 = "arrow-lz4"
NPY = "npy"
NPY_LZ4 = "npy-lz4"
JOBLIB = "joblib"
PICKLE = "pickle"
ARRAY_CODECS = frozenset({ARROW, ARROW_LZ4, NPY, NPY_LZ4})
CODECS = ARRAY_CODECS | {JOBLIB, PICKLE}


class Unstorable(Exception):
    """A value cannot be written (typically it cannot be pickled); the reason is the message."""


def import_for(codecs: Iterable[str]) -> None:
    """Import what `codecs` need, in the calling thread, before blobs are encoded or decoded
    on worker threads: first imports of pyarrow/pandas from several threads at once can
    deadlock on Python's per-module import locks (seen: a run hung for good)."""
    wanted = set(codecs)
    if wanted & ARRAY_CODECS:
        from ghostrun.reuse import _arraycodecs  # noqa: F401
    if JOBLIB in wanted:
        import joblib  # noqa: F401


def encode(codec: str, value: Any) -> list[Any]:
    """Serialise `value` with `codec` into chunks; Unstorable if that is impossible."""
    if codec in ARRAY_CODECS:
        from ghostrun.reuse import _arraycodecs

        return _arraycodecs.encode(codec, value)
    if codec == PICKLE:
        return [pickle.dumps(value, protocol=5)]
    return _encode_joblib(value)


def decode(codec: str, payload: memoryview) -> Any:
    """Read back what `encode(codec, ...)` wrote."""
    if codec in ARRAY_CODECS:
        from ghostrun.reuse import _arraycodecs

        return _arraycodecs.decode(codec, payload)
    if codec == JOBLIB:
        import joblib  # on first use: a run that reads only metrics never needs it

        return joblib.load(io.BytesIO(payload))
    if codec == PICKLE:
        return pickle.loads(payload)
    raise ValueError(f"unknown codec {codec!r}")


def _encode_joblib(value: Any) -> list[Any]:
    import joblib

    stream = io.BytesIO()
    try:
        joblib.dump(value, stream)
    except Exception as exc:  # whatever pickling raises, the value cannot be stored
        raise Unstorable(f"{type(exc).__name__}: {exc}") from exc
    return [stream.getbuffer()]
