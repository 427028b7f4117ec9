"""The digest routes of numpy and pandas values (see `digest` for what each contributes).

`digest` registers them once numpy is imported (`register`), so that hashing plain values,
as a run that only loads cached metrics does, never imports numpy, pandas or pyarrow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ghostrun.reuse._columns import column_digest, dtype_token, feed_objects
from ghostrun.reuse._hasher import Hasher
from ghostrun.reuse.digest import Digest, _digest, _pickle_digest, _scalar, _type_name


def register(dispatch: Any) -> None:
    """Add the routes to `digest`'s single-dispatch function."""
    dispatch.register(np.generic, _numpy_scalar)
    dispatch.register(np.ndarray, _ndarray)
    dispatch.register(pd.Index, _index)
    dispatch.register(pd.Series, _series)
    dispatch.register(pd.DataFrame, _frame)


def _numpy_scalar(value: np.generic, active: set[int]) -> Digest:
    return _scalar("numpy-scalar:" + dtype_token(value.dtype), value.tobytes())


def _ndarray(value: np.ndarray, active: set[int]) -> Digest:
    if type(value) not in (np.ndarray, np.memmap):
        return _pickle_digest(value)  # masked arrays, matrices: their extra state matters
    hasher = Hasher("ndarray")
    hasher.text(dtype_token(value.dtype))
    hasher.text(repr(value.shape))
    if value.dtype.kind == "O":
        feed_objects(hasher, value)
    else:
        hasher.array(value)
    return Digest(hasher.hexdigest(), nbytes=hasher.nbytes)


def _index(value: pd.Index, active: set[int]) -> Digest:
    hex_, nbytes = index_digest(value)
    return Digest(hex_, nbytes=nbytes)


def _series(value: pd.Series, active: set[int]) -> Digest:
    if type(value) is not pd.Series:
        return _pickle_digest(value)
    column, nbytes = column_digest(value)
    index, index_bytes = index_digest(value.index)
    hasher = Hasher("Series")
    for text in (column, index, _digest(value.name, active).hex, _attrs(value), _flags(value)):
        hasher.text(text)
    return Digest(hasher.hexdigest(), columns=(column,), nbytes=nbytes + index_bytes)


def _frame(value: pd.DataFrame, active: set[int]) -> Digest:
    if type(value) is not pd.DataFrame:
        return _pickle_digest(value)
    hasher = Hasher("DataFrame")
    hasher.text(repr(value.shape))
    labels, total = index_digest(value.columns)
    index, index_bytes = index_digest(value.index)
    for text in (labels, index, _attrs(value), _flags(value)):
        hasher.text(text)
    columns = []
    for position in range(value.shape[1]):
        column, nbytes = column_digest(value.iloc[:, position])
        hasher.text(column)  # the column hash covers its dtype and length
        columns.append(column)
        total += nbytes
    return Digest(hasher.hexdigest(), columns=tuple(columns), nbytes=total + index_bytes)


def _attrs(value: pd.Series | pd.DataFrame) -> str:
    return _digest(value.attrs, set()).hex if value.attrs else ""


def _flags(value: pd.Series | pd.DataFrame) -> str:
    return "" if value.flags.allows_duplicate_labels else "no-duplicate-labels"


def index_digest(index: pd.Index) -> tuple[str, int]:
    """Hash an index: a RangeIndex from start/stop/step alone, any other from its values."""
    hasher = Hasher("index")
    hasher.text(_type_name(type(index)))
    hasher.text(_digest(list(index.names), set()).hex)
    if isinstance(index, pd.RangeIndex):
        for number in (index.start, index.stop, index.step):
            hasher.integer(number)
    elif isinstance(index, pd.MultiIndex):
        for level in range(index.nlevels):
            hasher.text(column_digest(index.get_level_values(level))[0])
    else:
        hasher.text(column_digest(index)[0])
        hasher.text(str(getattr(index, "freqstr", None)))
    return hasher.hexdigest(), hasher.nbytes
