"""DataFrames and Series as blobs: one blob per column plus a small layout blob
(`serializers` describes the format and why).

Imported by `serializers` only when a value is a frame or a Series, so storing and loading
plain values never imports pandas or pyarrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ghostrun.reuse._codecs import ARROW_LZ4, JOBLIB, Unstorable
from ghostrun.reuse._columns import column_digest, dtype_token
from ghostrun.reuse._hasher import Unhashable
from ghostrun.reuse.digest import Digest
from ghostrun.reuse.serializers import FRAME, SERIES, Mismatch, Part, Plan, part

_MASKED_DTYPES = (
    pd.BooleanDtype,
    pd.Int8Dtype,
    pd.Int16Dtype,
    pd.Int32Dtype,
    pd.Int64Dtype,
    pd.UInt8Dtype,
    pd.UInt16Dtype,
    pd.UInt32Dtype,
    pd.UInt64Dtype,
    pd.Float32Dtype,
    pd.Float64Dtype,
)


def plan(value: pd.DataFrame | pd.Series, digest: Digest) -> Plan:
    if type(value) is pd.DataFrame:
        return _frame_plan(value, digest)
    return _series_plan(value, digest)


def nbytes(value: pd.DataFrame | pd.Series) -> int:
    """Bytes in memory (shallow), as composite values decide what to store apart."""
    return int(np.sum(value.memory_usage(index=True, deep=False)))


def _column_ids(columns: Sequence[pd.Series], digest: Digest) -> list[str]:
    if digest.columns is not None and len(digest.columns) == len(columns):
        return list(digest.columns)
    try:
        return [column_digest(column)[0] for column in columns]
    except Unhashable as exc:
        raise Unstorable(str(exc)) from exc


def _column_parts(columns: Sequence[pd.Series], digest: Digest) -> list[Part]:
    ids = _column_ids(columns, digest)
    return [
        part(ARROW_LZ4 if arrow_safe(column.dtype) else JOBLIB, _unwrap(column.array), blob_id)
        for column, blob_id in zip(columns, ids, strict=True)
    ]


def _frame_plan(frame: pd.DataFrame, digest: Digest) -> Plan:
    columns = [frame.iloc[:, position] for position in range(frame.shape[1])]
    meta = {
        "index": frame.index,
        "columns": frame.columns,
        "dtypes": [dtype_token(column.dtype) for column in columns],
        "attrs": frame.attrs,
        "allows_duplicate_labels": frame.flags.allows_duplicate_labels,
    }
    return Plan(FRAME, (part(JOBLIB, meta), *_column_parts(columns, digest)))


def _series_plan(series: pd.Series, digest: Digest) -> Plan:
    meta = {
        "index": series.index,
        "name": series.name,
        "dtypes": [dtype_token(series.dtype)],
        "attrs": series.attrs,
        "allows_duplicate_labels": series.flags.allows_duplicate_labels,
    }
    return Plan(SERIES, (part(JOBLIB, meta), *_column_parts([series], digest)))


def _unwrap(array: Any) -> Any:
    # A numpy-backed column's `.array` wraps an ndarray; its dtype object differs from the
    # Series' dtype, so compare and pickle the plain ndarray instead.
    if type(array) is pd.arrays.NumpyExtensionArray:  # not its subclass StringArray
        return array.to_numpy()
    return array


def arrow_safe(dtype: Any) -> bool:
    """True for dtypes that a single-column Arrow IPC file gives back exactly."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "biufmM"
    if isinstance(dtype, pd.CategoricalDtype):
        return arrow_safe(dtype.categories.dtype)
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        strings = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        return bool(pa.types.is_primitive(kind) or strings)
    return isinstance(dtype, (pd.DatetimeTZDtype, *_MASKED_DTYPES))


def assemble(kind: str, parts: list[Any]) -> pd.DataFrame | pd.Series:
    """A frame (FRAME) or a Series (SERIES) from its layout blob and column blobs."""
    meta, arrays = parts[0], [_unwrap(array) for array in parts[1:]]
    if not isinstance(meta, dict) or len(arrays) != len(meta.get("dtypes", ())):
        raise Mismatch("frame layout blob does not match its columns")
    for array, token in zip(arrays, meta["dtypes"], strict=True):
        if dtype_token(array.dtype) != token or len(array) != len(meta["index"]):
            raise Mismatch(f"a column came back as {array.dtype}, expected {token}")
    # An explicit dtype everywhere: pandas 3 would otherwise turn object strings into "str".
    if kind == SERIES:
        array = arrays[0]
        series = pd.Series(
            array, index=meta["index"], name=meta["name"], dtype=array.dtype, copy=False
        )
        return _finish(series, meta)
    if arrays:
        columns = {i: pd.Series(a, dtype=a.dtype, copy=False) for i, a in enumerate(arrays)}
        frame = pd.DataFrame(columns, copy=False)
        frame.index = meta["index"]
    else:
        frame = pd.DataFrame(index=meta["index"])
    frame.columns = meta["columns"]
    return _finish(frame, meta)


def _finish(value: pd.Series | pd.DataFrame, meta: dict[str, Any]) -> pd.Series | pd.DataFrame:
    value.attrs = meta["attrs"]
    if not meta["allows_duplicate_labels"]:
        value = value.set_flags(allows_duplicate_labels=False)
    return value
