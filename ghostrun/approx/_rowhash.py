"""64-bit hashes of row identities, and the seeded uniforms that sampling compares.

A value's hash depends on the value alone, never on the process or machine (no Python
`hash()`, no `PYTHONHASHSEED`): a vectorised murmur3 finaliser for numbers and instants,
pandas' SipHash with a fixed key for strings. Values that pandas would join as equal hash
alike across dtypes: 5 as int8/int32/int64/uint/Int64/bool-free int[pyarrow], 5.0 as a
float; a string as object, python or pyarrow string; a categorical and its values; an
instant in any unit or time zone (as the UTC instant). Every missing value (None, NaN, NA,
NaT) hashes to one constant, as pandas joins missing keys to each other. In a column of mixed
types, strings and numbers hash as above and other objects by `str()` (so they must print
the same in every process), apart from the string of the same text. Distinct values may
collide (about 2^-64 per pair); for sampling that only ties their fates together.

`uniforms` salts those hashes with a seed and maps them to [0, 1): a row is kept at
fraction f when its uniform is below f, so a smaller fraction keeps a subset (nesting) and
another seed draws an independent subset.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
import xxhash
from pandas.api import types as ptypes

MISSING = np.uint64(0x6A09E667F3BCC908)
_INT = np.uint64(0x3C6EF372FE94F82B)
_FLOAT = np.uint64(0xA54FF53A5F1D36F1)
_INSTANT = np.uint64(0x510E527FADE682D1)
_DURATION = np.uint64(0x9B05688C2B3E6C1F)
_TEXT = np.uint64(0x5BE0CD19137E2179)
_TUPLE = np.uint64(0x1F83D9ABFB41BD6B)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STRING_KEY = "ghostrun.rowhash"  # pandas' SipHash key: exactly 16 characters
_REPEAT_PROBE = 4096  # values probed to decide whether factorising strings pays


def _fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place on a fresh uint64 array (wraps by design)."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def uniforms(hashes: np.ndarray, seed: int) -> np.ndarray:
    """One float in [0, 1) per hash, a fixed function of (hash, seed)."""
    salt = xxhash.xxh3_64_intdigest(f"ghostrun.sample:{seed}".encode())
    mixed = _fmix64(hashes ^ np.uint64(salt))
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def position_hashes(n_rows: int) -> np.ndarray:
    """The hashes of positions 0..n-1 (equal to those of a default RangeIndex)."""
    return _tagged(np.arange(n_rows, dtype=np.int64).view(np.uint64), _INT)


def hash_values(values: Any) -> np.ndarray:
    """A uint64 hash per element of a 1-d array, Index, MultiIndex, Series or ExtensionArray."""
    if isinstance(values, pd.MultiIndex):
        return _hash_multiindex(values)
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array
    if isinstance(values.dtype, np.dtype):
        values = np.asarray(values)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _take_codes(np.asarray(values.codes), hash_values(values.categories))
    return _hash_plain(values)


def _hash_plain(values: Any) -> np.ndarray:
    dtype = values.dtype
    if ptypes.is_bool_dtype(dtype) or ptypes.is_integer_dtype(dtype):
        return _hash_ints(values)
    if ptypes.is_float_dtype(dtype):
        return _hash_floats(values)
    if ptypes.is_datetime64_any_dtype(dtype):
        return _hash_instants(pd.DatetimeIndex(values))
    if ptypes.is_timedelta64_dtype(dtype):
        return _hash_durations(pd.TimedeltaIndex(values))
    return _hash_objects(values)


def _tagged(bits: np.ndarray, tag: np.uint64) -> np.ndarray:
    return _fmix64(bits ^ tag)


def _with_missing(hashes: np.ndarray, missing: np.ndarray | None) -> np.ndarray:
    if missing is not None and missing.any():
        hashes[missing] = MISSING
    return hashes


def _take_codes(codes: np.ndarray, level_hashes: np.ndarray) -> np.ndarray:
    """Hashes of coded values; code -1 (missing) picks the appended MISSING."""
    extended = np.append(level_hashes, MISSING)
    taken: np.ndarray = extended[codes]
    return taken


def _hash_ints(values: Any) -> np.ndarray:
    unsigned = ptypes.is_unsigned_integer_dtype(values.dtype)
    target = np.uint64 if unsigned else np.int64
    if isinstance(values, np.ndarray):
        data, missing = values.astype(target, copy=False), None
    else:
        data = values.to_numpy(dtype=target, na_value=0)
        missing = np.asarray(pd.isna(values))
    return _with_missing(_tagged(data.view(np.uint64), _INT), missing)


def _hash_floats(values: Any) -> np.ndarray:
    """Integral floats hash as the integer (5.0 like 5); other floats by their bits."""
    if isinstance(values, np.ndarray):
        x = values.astype(np.float64, copy=False)
    else:
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(x)
    integral = ~missing & (np.floor(x) == x) & (np.abs(x) < 2.0**63)
    as_int = np.where(integral, x, 0.0).astype(np.int64).view(np.uint64)
    pre = np.where(integral, as_int ^ _INT, x.view(np.uint64) ^ _FLOAT)
    return _with_missing(_fmix64(pre), missing)


def _hash_instants(index: pd.DatetimeIndex) -> np.ndarray:
    """By the UTC instant: `asi8` of a zoned index counts from the epoch in UTC."""
    return _with_missing(_tagged(_nanoseconds(index), _INSTANT), np.asarray(index.isna()))


def _hash_durations(index: pd.TimedeltaIndex) -> np.ndarray:
    return _with_missing(_tagged(_nanoseconds(index), _DURATION), np.asarray(index.isna()))


def _nanoseconds(index: pd.DatetimeIndex | pd.TimedeltaIndex) -> np.ndarray:
    try:
        index = index.as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta):
        pass  # beyond ns range: hash in the data's own unit (still deterministic)
    return np.asarray(index.asi8).view(np.uint64)


_OBJECT_KINDS = {
    "integer": "number",
    "boolean": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "datetime": "instant",
    "datetime64": "instant",
    "timedelta": "duration",
    "timedelta64": "duration",
    "string": "string",
    "bytes": "string",
    "empty": "string",
}


def _hash_objects(values: Any) -> np.ndarray:
    """Object and string arrays: typed by their content, then hashed as that type."""
    kind = _OBJECT_KINDS.get(ptypes.infer_dtype(values, skipna=True), "other")
    try:
        if kind == "number":
            return _hash_numbers(values)
        if kind == "instant":
            return _hash_instants(pd.DatetimeIndex(values))
        if kind == "duration":
            return _hash_durations(pd.TimedeltaIndex(values))
    except (TypeError, ValueError, OverflowError):
        pass  # e.g. mixed time zones or ints beyond 64 bits: fall back to the text
    if kind == "string":
        return _hash_strings(values)
    return _hash_mixed(np.asarray(values, dtype=object))


def _hash_numbers(values: Any) -> np.ndarray:
    numbers = pd.array(np.asarray(values, dtype=object))
    if not ptypes.is_numeric_dtype(numbers.dtype):
        raise TypeError("numbers beyond 64 bits")
    return _hash_plain(numbers)


def _hash_mixed(objects: np.ndarray) -> np.ndarray:
    """Element by element: strings as strings, numbers as numbers, the rest by `str()`."""
    is_text = np.fromiter((isinstance(v, (str, bytes)) for v in objects), bool, len(objects))
    is_number = np.fromiter(
        (isinstance(v, numbers.Number) and not isinstance(v, bool) for v in objects),
        bool,
        len(objects),
    )
    other = ~(is_text | is_number)
    hashes = np.empty(len(objects), dtype=np.uint64)
    hashes[is_text] = _hash_strings(objects[is_text])
    hashes[is_number] = _hash_numbers_or_text(objects[is_number])
    hashes[other] = _text_hashes(objects[other])
    return hashes


def _hash_numbers_or_text(objects: np.ndarray) -> np.ndarray:
    try:
        return _hash_numbers(objects)
    except (TypeError, ValueError, OverflowError):
        return _text_hashes(objects)  # e.g. ints beyond 64 bits, complex numbers


def _text_hashes(objects: np.ndarray) -> np.ndarray:
    """Hashes of `str(value)`, kept apart from strings of the same text; missing stays MISSING."""
    missing = np.asarray(pd.isna(objects), dtype=bool)
    text = np.array([str(v) for v in objects], dtype=object)
    hashes = _tagged(_hash_strings(text), _TEXT)
    return _with_missing(hashes, missing)


def _hash_strings(values: Any) -> np.ndarray:
    missing = np.asarray(pd.isna(values))
    if _repetitive(values):
        codes, uniques = pd.factorize(values)
        hashes = _take_codes(codes, _siphash(np.asarray(uniques, dtype=object)))
    else:
        objects = np.asarray(values, dtype=object)
        if missing.any():
            objects = np.where(missing, "", objects)
        hashes = _siphash(objects)
    return _with_missing(hashes, missing)


def _siphash(objects: np.ndarray) -> np.ndarray:
    hashed = pd.util.hash_array(objects, hash_key=_STRING_KEY, categorize=False)
    return np.asarray(hashed, dtype=np.uint64)


def _repetitive(values: Any) -> bool:
    """Whether a strided probe finds fewer than half of its values distinct."""
    n = len(values)
    if n <= _REPEAT_PROBE:
        return False
    probe = values[:: n // _REPEAT_PROBE][:_REPEAT_PROBE]
    return len(pd.unique(probe)) < len(probe) // 2


def _hash_multiindex(index: pd.MultiIndex) -> np.ndarray:
    """Order-sensitive combination of the hashes of each level's value."""
    combined = np.full(len(index), _TUPLE, dtype=np.uint64)
    for level, codes in zip(index.levels, index.codes, strict=True):
        level_hashes = _take_codes(np.asarray(codes), hash_values(level))
        combined = _fmix64(combined * _GOLDEN + level_hashes)
    return combined
