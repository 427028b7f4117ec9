"""Row identity hashes: equal keys hash alike across dtypes, distinct keys apart."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ghostrun.approx._rowhash import MISSING, hash_values, position_hashes, uniforms

INTS = [3, -1, 0, 2**40]
STRINGS = ["a", "", "ünïcode", "long " * 20]
INSTANTS = ["2020-01-01T00:00:00", "1999-12-31T23:59:59.500"]

SAME: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
    ("int32-int64", lambda: np.array([3, -1, 0], dtype="int32"), lambda: np.array([3, -1, 0])),
    ("uint8-int64", lambda: np.array([3, 0], dtype="uint8"), lambda: np.array([3, 0])),
    ("nullable-int", lambda: pd.array(INTS, dtype="Int64"), lambda: np.array(INTS)),
    ("arrow-int", lambda: pd.array(INTS, dtype="int64[pyarrow]"), lambda: np.array(INTS)),
    ("integral-floats", lambda: np.array(INTS, dtype=float), lambda: np.array(INTS)),
    ("float32-float64", lambda: np.array([0.5, 3.0], "float32"), lambda: np.array([0.5, 3.0])),
    ("nullable-float", lambda: pd.array([0.25, 7.0], dtype="Float64"), lambda: [0.25, 7.0]),
    ("bool-int", lambda: np.array([True, False]), lambda: np.array([1, 0])),
    ("object-ints", lambda: np.array(INTS, dtype=object), lambda: np.array(INTS)),
    ("object-mixed-numbers", lambda: np.array([1, 2.5], dtype=object), lambda: [1.0, 2.5]),
    ("categorical-ints", lambda: pd.Categorical(INTS), lambda: np.array(INTS)),
    ("int-index", lambda: pd.Index(INTS), lambda: np.array(INTS)),
    ("range-index", lambda: pd.RangeIndex(5), lambda: position_hashes(5)),
    ("str-object", lambda: pd.array(STRINGS, dtype="str"), lambda: np.array(STRINGS, object)),
    ("python-str", lambda: pd.array(STRINGS, dtype=pd.StringDtype("python")), lambda: STRINGS),
    ("arrow-str", lambda: pd.array(STRINGS, dtype=pd.ArrowDtype(pa.string())), lambda: STRINGS),
    ("categorical-str", lambda: pd.Categorical(STRINGS), lambda: STRINGS),
    (
        "datetime-units",
        lambda: np.array(INSTANTS, dtype="datetime64[ms]"),
        lambda: pd.to_datetime(INSTANTS, format="ISO8601"),
    ),
    (
        "datetime-tz-is-utc",
        lambda: (
            pd.to_datetime(INSTANTS, format="ISO8601").tz_localize("UTC").tz_convert("Asia/Tokyo")
        ),
        lambda: pd.to_datetime(INSTANTS, format="ISO8601"),
    ),
    (
        "arrow-timestamp",
        lambda: pd.array(
            pd.to_datetime(INSTANTS, format="ISO8601"), dtype="timestamp[us][pyarrow]"
        ),
        lambda: pd.to_datetime(INSTANTS, format="ISO8601"),
    ),
    (
        "object-datetimes",
        lambda: np.array([datetime.datetime(2020, 1, 1)], dtype=object),
        lambda: pd.to_datetime(INSTANTS[:1], format="ISO8601"),
    ),
    (
        "timedelta-units",
        lambda: np.array([1, 2], dtype="timedelta64[s]"),
        lambda: pd.to_timedelta([1, 2], unit="s"),
    ),
]


def as_hashes(make: Callable[[], Any]) -> np.ndarray:
    value = make()
    if isinstance(value, np.ndarray) and value.dtype == np.uint64:
        return value
    if isinstance(value, list):
        value = pd.array(value)
    return hash_values(value)


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_equal_keys_hash_alike_across_dtypes(
    left: Callable[[], Any], right: Callable[[], Any]
) -> None:
    np.testing.assert_array_equal(as_hashes(left), as_hashes(right))


MISSINGS: list[tuple[str, Callable[[], Any]]] = [
    ("nan", lambda: np.array([np.nan, 1.0])),
    ("none-object", lambda: np.array([None, "a"], dtype=object)),
    ("na-nullable-int", lambda: pd.array([None, 1], dtype="Int64")),
    ("na-str", lambda: pd.array([None, "a"], dtype="str")),
    ("nat", lambda: np.array(["NaT", "2020-01-01"], dtype="datetime64[ns]")),
    ("na-categorical", lambda: pd.Categorical([None, "a"])),
    ("na-arrow-int", lambda: pd.array([None, 1], dtype="int64[pyarrow]")),
    ("all-missing-categorical", lambda: pd.Categorical([None, None])),
]


@pytest.mark.parametrize("make", [c[1] for c in MISSINGS], ids=[c[0] for c in MISSINGS])
def test_every_missing_value_hashes_to_one_constant(make: Callable[[], Any]) -> None:
    hashes = hash_values(make())
    assert hashes[0] == MISSING
    assert hashes.dtype == np.uint64


DISTINCT: list[tuple[str, Callable[[], Any]]] = [
    ("ints", lambda: np.arange(200_000)),
    ("floats", lambda: np.arange(200_000) / 7.0),
    ("strings", lambda: np.array([f"k{i}" for i in range(200_000)], dtype=object)),
    ("multiindex", lambda: pd.MultiIndex.from_product([range(400), [f"s{i}" for i in range(500)]])),
    ("mixed-kinds", lambda: np.array([1, "1", 1.5, "1.5", b"x", (1, 2)], dtype=object)),
]


@pytest.mark.parametrize("make", [c[1] for c in DISTINCT], ids=[c[0] for c in DISTINCT])
def test_distinct_keys_hash_apart(make: Callable[[], Any]) -> None:
    hashes = hash_values(make())
    assert len(np.unique(hashes)) == len(hashes)


def test_mixed_columns_hash_each_kind_as_its_own_dtype() -> None:
    mixed = hash_values(np.array(["a", 7, None, 2.5, (1, 2)], dtype=object))
    assert mixed[0] == hash_values(pd.array(["a"], dtype="str"))[0]
    assert mixed[1] == hash_values(np.array([7]))[0]
    assert mixed[2] == MISSING
    assert mixed[3] == hash_values(np.array([2.5]))[0]
    assert mixed[4] != hash_values(pd.array(["(1, 2)"], dtype="str"))[0]


def test_multiindex_order_matters() -> None:
    ab = pd.MultiIndex.from_tuples([("a", "b")])
    ba = pd.MultiIndex.from_tuples([("b", "a")])
    assert hash_values(ab)[0] != hash_values(ba)[0]


def test_repeated_strings_hash_as_they_do_one_by_one() -> None:
    # long, low-cardinality arrays are factorised first; the hashes must not change
    values = pd.array([f"v{i % 50}" if i % 13 else None for i in range(30_000)], dtype="str")
    whole = hash_values(values)
    for i in (0, 1, 13, 49, 29_999):
        assert whole[i] == hash_values(values[i : i + 1])[0]


def test_uniforms_are_in_the_unit_interval_and_flat() -> None:
    u = uniforms(position_hashes(400_000), seed=0)
    assert u.min() >= 0.0 and u.max() < 1.0
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    assert np.abs(counts - 20_000).max() < 5 * np.sqrt(20_000)


def test_uniforms_depend_on_the_seed_not_on_python_hash() -> None:
    h = position_hashes(1000)
    np.testing.assert_array_equal(uniforms(h, 5), uniforms(h.copy(), 5))
    assert not np.array_equal(uniforms(h, 5), uniforms(h, 6))
    assert not np.array_equal(uniforms(h, 0), uniforms(h, -1))
