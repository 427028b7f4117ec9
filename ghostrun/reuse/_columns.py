"""Content hashes of one column (a Series' or an Index's values), from its raw buffers.

A column hash covers the dtype, the length and the values, never the column's name or
its index: it is the id under which the store keeps the column, so a renamed or repeated
column is stored once. Each storage layout pandas uses is hashed from its own buffers:

- numpy dtypes: the array's bytes (NaT is a fixed bit pattern, so it needs no care);
- categoricals: codes + the categories' own column hash + the `ordered` flag;
- tz-aware datetimes: the int64 epoch values (the zone is in the dtype);
- masked nullable dtypes (Int64, Float64, boolean): mask + values with masked slots zeroed;
- Arrow-backed arrays (pandas 3 "str", `string[pyarrow]`, `ArrowDtype`): the Arrow buffers,
  offsets rebased so a sliced array hashes like a fresh one;
- object columns holding only strings (and missing values): via Arrow, with the kind of
  each missing value (None, NaN, NA) kept apart; any other object column is pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ghostrun.reuse._hasher import Hasher

_NULL_CODES: dict[type, int] = {type(None): 1, float: 2, np.float64: 3, type(pd.NA): 4}
_STRING_OR_NULL = frozenset({str, *_NULL_CODES})
_MASKED_ARRAYS = (pd.arrays.BooleanArray, pd.arrays.IntegerArray, pd.arrays.FloatingArray)


def dtype_token(dtype: Any) -> str:
    """A text naming a dtype exactly (`str(dtype)` alone confuses the string dtypes)."""
    if isinstance(dtype, np.dtype):
        return f"numpy:{dtype.str}:{dtype.descr if dtype.names else ''}"
    if isinstance(dtype, pd.StringDtype):
        return f"string:{dtype.storage}:{dtype.na_value!r}"
    if isinstance(dtype, pd.CategoricalDtype):
        return f"category:ordered={dtype.ordered}"
    kind = type(dtype)
    return f"{kind.__module__}.{kind.__qualname__}:{dtype}"


def column_digest(values: pd.Series | pd.Index) -> tuple[str, int]:
    """Hash one column's dtype, length and values; returns (hex, bytes hashed)."""
    hasher = Hasher("column")
    hasher.text(dtype_token(values.dtype))
    hasher.integer(len(values))
    feed_array(hasher, values.array, values.dtype)
    return hasher.hexdigest(), hasher.nbytes


def feed_array(hasher: Hasher, array: Any, dtype: Any) -> None:
    """Feed a pandas array's values, picking the cheapest exact route for its layout."""
    if isinstance(dtype, np.dtype):
        values = np.asarray(array)
        if dtype.kind == "O":
            feed_objects(hasher, values)
        else:
            hasher.array(values)
    elif isinstance(dtype, pd.CategoricalDtype):
        hasher.array(np.asarray(array.codes))
        hasher.text(column_digest(dtype.categories)[0])
    elif isinstance(dtype, pd.DatetimeTZDtype):
        hasher.array(array.asi8)
    elif isinstance(array, _MASKED_ARRAYS):
        _feed_masked(hasher, array)
    elif hasattr(array, "__arrow_array__"):
        feed_arrow(hasher, array.__arrow_array__())
    else:
        hasher.pickled(array)


def _feed_masked(hasher: Hasher, array: Any) -> None:
    # The values under masked slots are arbitrary; zero them so equal content hashes equal.
    data: np.ndarray = array._data
    mask: np.ndarray = array._mask
    if mask.any():
        data = np.where(mask, np.zeros(1, dtype=data.dtype), data)
    hasher.array(mask)
    hasher.array(data)


def feed_arrow(hasher: Hasher, data: pa.Array | pa.ChunkedArray) -> None:
    """Feed an Arrow array's content, independent of how it is chunked or sliced."""
    if isinstance(data, pa.ChunkedArray):
        data = data.chunk(0) if data.num_chunks == 1 else data.combine_chunks()
    if isinstance(data, pa.ExtensionArray):
        data = data.storage
    kind = data.type
    hasher.text(str(kind))
    hasher.integer(data.null_count)
    if data.null_count:
        hasher.array(data.is_null().to_numpy(zero_copy_only=False))
    if len(data) == 0 or pa.types.is_null(kind):
        return
    if pa.types.is_boolean(kind):
        hasher.array(data.fill_null(False).to_numpy(zero_copy_only=False))
    elif _is_binary_like(kind):
        _feed_arrow_binary(hasher, data)
    elif pa.types.is_primitive(kind):
        width = kind.bit_width // 8
        values = np.frombuffer(data.buffers()[1], dtype=np.uint8)
        hasher.raw(values[data.offset * width : (data.offset + len(data)) * width])
    else:
        hasher.pickled(data)


def _is_binary_like(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _feed_arrow_binary(hasher: Hasher, data: pa.Array) -> None:
    buffers = data.buffers()
    wide = pa.types.is_large_string(data.type) or pa.types.is_large_binary(data.type)
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[data.offset : data.offset + len(data) + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    hasher.array(offsets - offsets[0] if start else offsets)
    if buffers[2] is None:
        hasher.raw(b"")
    else:
        hasher.raw(memoryview(buffers[2])[start:end])


def feed_objects(hasher: Hasher, values: np.ndarray) -> None:
    """Feed an object array: strings (with missing values) fast via Arrow, else pickled."""
    flat = values.reshape(-1)
    kinds = set(map(type, flat))
    if kinds <= {str}:
        hasher.text("strings")
        feed_arrow(hasher, pa.array(flat, type=pa.large_string()))
        return
    if str in kinds and kinds <= _STRING_OR_NULL:
        missing = pd.isna(flat)
        if set(map(type, flat[~missing])) == {str}:
            hasher.text("strings-with-missing")
            hasher.raw(bytes(_NULL_CODES[type(v)] for v in flat[missing]))
            feed_arrow(hasher, pa.array(flat, type=pa.large_string(), from_pandas=True))
            return
    hasher.text("pickle")
    hasher.pickled(values)
