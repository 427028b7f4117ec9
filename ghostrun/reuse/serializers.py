"""How each kind of value is cut into blobs and put back together.

- DataFrame: one blob per column plus one small "frame" blob (joblib) holding the index,
  the column labels (any hashable, duplicates and MultiIndex columns included: columns
  are kept by position), the dtypes (as text), `attrs` and flags. A column blob's id is
  the column's content hash (dtype + values, not its name), so a column shared by two
  frames, renamed, or repeated is stored once, and a save skips encoding any column
  already stored.
- Series: the same, with a single column.
- numpy array: one `.npy` blob, LZ4-compressed from 1 MiB (object arrays and ndarray
  subclasses: joblib).
- Anything else that holds DataFrames, Series or large arrays (a train/test split as a
  dataclass or tuple, a dict of frames): a *composite*, whose skeleton is pickled with
  each of those replaced by a reference, and each of those stored as above, so their
  columns are compressed and shared with other entries like any frame's. A train/test
  split of a feature table that changed in one column shares every other column with the
  previous version's split.
- Anything else, and DataFrame/Series subclasses: one joblib blob.

Column format: one single-column Arrow IPC file, LZ4-compressed, for every dtype Arrow
round-trips exactly (numbers, bool, datetimes with or without zone, timedeltas,
categoricals, nullable Int/Float/boolean, Arrow-backed strings and primitives); plain numpy
columns are written without pandas' schema metadata and read back with `to_numpy`, which
keeps the per-column cost low for wide frames. Other columns (object, complex, period,
interval, sparse, python-backed strings) are joblib pickles of the column's array.

Arrow IPC or Parquet? Measured on 1M-row frames (~110-125 MiB in memory), one file per
column, warm page cache; read = read every file, verify its checksum, build the DataFrame:

    data                         format            size       write     read
    random floats + wide ints    Arrow IPC         125 MiB    199 ms     76 ms
                                 IPC + lz4          97 MiB    279 ms     69 ms
                                 Parquet snappy     86 MiB    375 ms    106 ms
    low-cardinality columns      Arrow IPC         108 MiB    152 ms   44-70 ms
                                 IPC + lz4          50 MiB    362 ms     90 ms
                                 Parquet snappy     16 MiB    283 ms  98-130 ms

Arrow IPC reads 1.4-2.2x faster than Parquet and writes about 1.9x faster, and pyarrow
rebuilds pandas dtypes from it exactly. Which compression, measured on the replay
benchmark's feature table (500k rows, 45 columns: 26 float, 7 int, 2 bool, 10 category;
138 MB in memory), encode and decode only, best of 3 on a busy 2-core machine:

    codec              size      write     read
    none             138.5 MB    0.05 s    0.03 s
    lz4               53.8 MB    0.28 s    0.08 s
    zstd level -1     37.0 MB    0.37 s    0.15 s
    zstd level 1      29.0 MB    0.56 s    0.29 s
    zstd level 3      25.7 MB    0.70 s    0.18 s

LZ4 cuts the size 2.6x for about 0.25 s per 140 MB written and 0.05 s read; zstd would
cut another 1.5-1.9x at twice the write and 2-3x the read time, on the path of every
rerun the user waits for. With column dedup across versions, LZ4 keeps the replay
session's cache well inside its budget (issue 3: at most 3x the raw data), so LZ4 it is.

Frames and Series are handled in `_tables`, imported when a value is one: a run that
stores and loads only plain values (metrics) never imports pandas or pyarrow here
(`reuse.loaded`).
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ghostrun.reuse._codecs import JOBLIB, NPY, NPY_LZ4, PICKLE, Unstorable, encode
from ghostrun.reuse.digest import Digest
from ghostrun.reuse.loaded import loaded_types

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Part", "Plan", "Unstorable", "assemble", "plan"]

FRAME = "dataframe"
SERIES = "series"
NDARRAY = "ndarray"
OBJECT = "object"
COMPOSITE = "composite"
KINDS = frozenset({FRAME, SERIES, NDARRAY, OBJECT, COMPOSITE})

COMPRESS_FROM = 1 << 20  # bytes: smaller arrays are not worth compressing
NESTED_FROM = 1 << 20  # bytes: smaller frames and arrays stay inside a composite's pickle
MAX_NESTED = 64  # more nested values than this: one joblib blob (fewer files)


class Mismatch(Exception):
    """Blobs decoded fine but do not fit together (wrong dtype, wrong count)."""


@dataclass(frozen=True)
class Part:
    """One blob of a value. `id` is set when known before encoding (a column content hash),
    so an already stored blob is reused without calling `encode`."""

    codec: str
    encode: Callable[[], list[Any]]
    id: str | None = None


@dataclass(frozen=True)
class Plan:
    kind: str
    parts: tuple[Part, ...]


def plan(value: object, digest: Digest) -> Plan:
    """Decide how `value` is stored; Unstorable if it cannot be."""
    kind = type(value)
    if kind in _table_types():
        from ghostrun.reuse import _tables

        return _tables.plan(value, digest)
    if kind in _array_types() and not value.dtype.hasobject:  # type: ignore[attr-defined]
        return Plan(NDARRAY, (_array_part(value),))  # type: ignore[arg-type]
    if _plain(value):
        return Plan(OBJECT, (part(PICKLE, value),))
    return _composite_plan(value) or Plan(OBJECT, (part(JOBLIB, value),))


def _table_types() -> tuple[type, ...]:
    """DataFrame and Series (exactly: subclasses are pickled whole), if pandas is imported."""
    return loaded_types("pandas", "DataFrame", "Series")


def _array_types() -> tuple[type, ...]:
    return loaded_types("numpy", "ndarray")


_PLAIN_TYPES = (type(None), bool, int, float, complex, str, bytes)


def _plain(value: object, depth: int = 0) -> bool:
    """Numbers, strings and small containers of them (a metric, a dict of metrics): a
    plain pickle, which reads back without importing joblib."""
    if type(value) in _PLAIN_TYPES:
        return True
    if depth > 3 or type(value) not in (tuple, list, dict):
        return False
    items = list(value.items()) if type(value) is dict else list(value)  # type: ignore[attr-defined]
    if len(items) > 1000:
        return False
    flat = [x for item in items for x in (item if type(value) is dict else (item,))]
    return all(_plain(x, depth + 1) for x in flat)


def _array_part(array: np.ndarray) -> Part:
    return part(NPY_LZ4 if array.nbytes >= COMPRESS_FROM else NPY, array)


def part(codec: str, value: Any, blob_id: str | None = None) -> Part:
    """A blob that `codec` encodes from `value` when it is written."""
    return Part(codec, functools.partial(encode, codec, value), blob_id)


def _composite_plan(value: object) -> Plan | None:
    """A value holding frames, series or large arrays: its skeleton pickled with those
    replaced by references, and each of them stored as its own kind. None when it holds
    none (or too many, or the skeleton cannot be pickled): then it is one joblib blob."""
    stream = io.BytesIO()
    pickler = _Extracting(stream)
    try:
        pickler.dump(value)
    except _TooMany:
        return None
    except Exception:  # noqa: BLE001 - joblib will try, and say why it cannot
        return None
    if not pickler.found:
        return None
    plans = [plan(nested, _NO_DIGEST) for nested in pickler.found]
    layout = [(p.kind, len(p.parts)) for p in plans]
    skeleton = part(PICKLE, (layout, stream.getvalue()))
    return Plan(COMPOSITE, (skeleton, *(blob for p in plans for blob in p.parts)))


_NO_DIGEST = Digest(hex="")  # nested values: column ids are hashed from the columns


class _TooMany(Exception):
    pass


class _Extracting(pickle.Pickler):
    """Pickles a value with each exact DataFrame, Series and large numeric array replaced
    by its index in `found` (a value met twice gets one index: sharing is kept)."""

    def __init__(self, stream: io.BytesIO):
        super().__init__(stream, protocol=5)
        self.found: list[Any] = []
        self._index: dict[int, int] = {}
        self._tables, self._arrays = _table_types(), _array_types()  # once: called per object

    def persistent_id(self, obj: Any) -> int | None:
        if not _nested(obj, self._tables, self._arrays):
            return None
        index = self._index.get(id(obj))
        if index is None:
            if len(self.found) >= MAX_NESTED:
                raise _TooMany
            index = self._index[id(obj)] = len(self.found)
            self.found.append(obj)
        return index


def _nested(obj: Any, tables: tuple[type, ...], arrays: tuple[type, ...]) -> bool:
    kind = type(obj)
    if kind in tables:
        from ghostrun.reuse import _tables

        return _tables.nbytes(obj) >= NESTED_FROM
    if kind in arrays:
        return not obj.dtype.hasobject and obj.nbytes >= NESTED_FROM
    return False


class _Restoring(pickle.Unpickler):
    def __init__(self, data: bytes, values: list[Any]):
        super().__init__(io.BytesIO(data))
        self.values = values

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, int) or not 0 <= pid < len(self.values):
            raise Mismatch(f"composite refers to nested value {pid!r}")
        return self.values[pid]


def _assemble_composite(parts: list[Any]) -> object:
    layout, data = parts[0]
    values, position = [], 1
    for kind, count in layout:
        if kind not in (FRAME, SERIES, NDARRAY) or position + count > len(parts):
            raise Mismatch("composite layout does not match its blobs")
        values.append(assemble(kind, parts[position : position + count]))
        position += count
    if position != len(parts):
        raise Mismatch("composite has blobs its layout does not name")
    return _Restoring(data, values).load()


def assemble(kind: str, parts: list[Any]) -> object:
    """Rebuild a value from its decoded blobs, in plan order; Mismatch if they do not fit."""
    if kind == COMPOSITE:
        return _assemble_composite(parts)
    if kind in (NDARRAY, OBJECT):
        if len(parts) != 1:
            raise Mismatch(f"{kind} entry has {len(parts)} blobs")
        return parts[0]
    from ghostrun.reuse import _tables

    return _tables.assemble(kind, parts)
