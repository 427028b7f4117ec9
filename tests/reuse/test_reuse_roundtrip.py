"""Every kind of value comes back from the store exactly as it went in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ghostrun.reuse import Store, digest
from tests.reuse import reuse_samples

SAMPLES = reuse_samples.samples()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cache")


def assert_same(expected: Any, actual: Any) -> None:
    assert type(actual) is type(expected)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, expected, check_exact=True, check_flags=True)
        assert actual.attrs == expected.attrs
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(actual, expected, check_exact=True, check_flags=True)
        assert actual.attrs == expected.attrs
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_array_equal(actual, expected, strict=True)
    elif hasattr(expected, "predict"):
        X = np.random.default_rng(0).normal(size=(20, 4))
        np.testing.assert_array_equal(actual.predict_proba(X), expected.predict_proba(X))
    else:
        assert digest(actual) == digest(expected)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_round_trip(store: Store, name: str) -> None:
    value = SAMPLES[name]
    entry = store.save(name, value, digest(value), op="op", seconds=0.5)
    assert entry is not None
    assert_same(value, store.load(name))


@pytest.mark.parametrize("column", list(reuse_samples.every_dtype_frame().columns))
def test_round_trip_each_dtype_as_series(store: Store, column: str) -> None:
    series = reuse_samples.every_dtype_frame()[column]
    store.save("s", series, digest(series), op="op", seconds=0.0)
    assert_same(series, store.load("s"))


def codecs(store: Store, key: str) -> list[str]:
    manifest = json.loads((store.root / "entries" / f"{key}.json").read_bytes())
    return [blob[1] for blob in manifest["blobs"]]


def test_columns_use_arrow_where_exact_and_joblib_elsewhere(store: Store) -> None:
    frame = reuse_samples.every_dtype_frame()
    store.save("f", frame, digest(frame), op="op", seconds=0.0)
    by_column = dict(zip(frame.columns, codecs(store, "f")[1:], strict=True))
    arrow = {c for c, codec in by_column.items() if codec == "arrow"}
    assert {"f64", "i64", "bool", "dt_tz", "cat", "str", "Int64", "boolean", "arrow_i64"} <= arrow
    assert {"obj_mixed", "complex", "sparse", "string_python", "arrow_list"}.isdisjoint(arrow)


def test_kinds_and_codecs(store: Store) -> None:
    values = {
        "frame": (pd.DataFrame({"a": [1.0]}), "dataframe", ["joblib", "arrow"]),
        "series": (pd.Series([1.0]), "series", ["joblib", "arrow"]),
        "array": (np.arange(3), "ndarray", ["npy"]),
        "objects": (np.array([None]), "object", ["joblib"]),
        "dict": ({"a": 1}, "object", ["joblib"]),
    }
    for key, (value, kind, expected) in values.items():
        entry = store.save(key, value, digest(value), op="op", seconds=0.0)
        assert entry is not None and entry.kind == kind
        assert codecs(store, key) == expected


def test_loaded_arrays_are_writable_and_independent(store: Store) -> None:
    array = np.arange(10.0)
    store.save("a", array, digest(array), op="op", seconds=0.0)
    first = store.load("a")
    first[0] = 99.0
    assert store.load("a")[0] == 0.0
    assert array[0] == 0.0


def test_frame_subclass_is_pickled_whole(store: Store) -> None:
    frame = reuse_samples.TaggedFrame({"a": [1, 2]})
    entry = store.save("sub", frame, digest(frame), op="op", seconds=0.0)
    assert entry is not None and entry.kind == "object"
    assert_same(frame, store.load("sub"))
