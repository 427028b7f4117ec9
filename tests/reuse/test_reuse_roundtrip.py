"""Every kind of value comes back from the store exactly as it went in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ghostrun.reuse import Store, digest
from ghostrun.reuse._blobs import HEADER_SIZE, BlobDir
from ghostrun.reuse._codecs import decode, encode
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
    arrow = {c for c, codec in by_column.items() if codec == "arrow-lz4"}
    assert {"f64", "i64", "bool", "dt_tz", "cat", "str", "Int64", "boolean", "arrow_i64"} <= arrow
    assert {"obj_mixed", "complex", "sparse", "string_python", "arrow_list"}.isdisjoint(arrow)


def big_frame(rows: int = 200_000, extra: str | None = None) -> pd.DataFrame:
    """A frame above the size from which nested frames get their own blobs."""
    frame = pd.DataFrame({"x": np.arange(rows, dtype=np.float64), "k": np.arange(rows) % 7})
    if extra:
        frame[extra] = np.arange(rows) % 11
    return frame


def test_kinds_and_codecs(store: Store) -> None:
    values = {
        "frame": (pd.DataFrame({"a": [1.0]}), "dataframe", ["joblib", "arrow-lz4"]),
        "series": (pd.Series([1.0]), "series", ["joblib", "arrow-lz4"]),
        "array": (np.arange(3), "ndarray", ["npy"]),
        "big-array": (np.arange(300_000.0), "ndarray", ["npy-lz4"]),
        "objects": (np.array([None]), "object", ["joblib"]),
        "dict": ({"a": 1, "b": [0.5, None]}, "object", ["pickle"]),
        "metric": (0.873, "object", ["pickle"]),
        "model-like": ({"a": np.arange(3)}, "object", ["joblib"]),
        "small-split": (reuse_samples.Split(pd.DataFrame({"a": [1]}), np.arange(3)), "object",
                        ["joblib"]),
        "split": (
            reuse_samples.Split(big_frame(), np.arange(200_000)),
            "composite",
            ["pickle", "joblib", "arrow-lz4", "arrow-lz4", "npy-lz4"],
        ),
    }  # fmt: skip
    for key, (value, kind, expected) in values.items():
        entry = store.save(key, value, digest(value), op="op", seconds=0.0)
        assert entry is not None and entry.kind == kind, key
        assert codecs(store, key) == expected, key
        assert_same(value, store.load(key))


def test_every_codec_ever_written_still_reads() -> None:
    column = pd.array([1, None, 3], dtype="Int64")
    array = np.arange(12.0).reshape(3, 4)
    for codec, value in [("arrow", column), ("arrow-lz4", column), ("npy", array),
                         ("npy-lz4", array)]:  # fmt: skip
        payload = b"".join(bytes(memoryview(c).cast("B")) for c in encode(codec, value))
        back = decode(codec, memoryview(bytearray(payload)))
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value, strict=True)
            assert back.flags.writeable
        else:
            pd.testing.assert_extension_array_equal(back, value)


def test_an_entry_written_uncompressed_still_loads(store: Store) -> None:
    """Caches written before compression came keep working: the codec is per blob."""
    frame = pd.DataFrame({"a": np.arange(5.0), "b": list("vwxyz")})
    store.save("old", frame, digest(frame), op="op", seconds=0.0)
    manifest_path = store.root / "entries" / "old.json"
    manifest = json.loads(manifest_path.read_bytes())
    for blob in manifest["blobs"]:
        if blob[1] == "arrow-lz4":
            path = store.root / "blobs" / blob[0][:2] / blob[0]
            column = decode("arrow-lz4", memoryview(bytearray(path.read_bytes()[HEADER_SIZE:])))
            path.unlink()
            record = BlobDir(store.root / "blobs").put(
                blob[0], "arrow", lambda c=column: encode("arrow", c)
            )
            blob[1], blob[2], blob[3] = record.codec, record.checksum, record.size
    manifest_path.write_text(json.dumps(manifest))
    assert codecs(store, "old")[1:] == ["arrow", "arrow"]
    assert_same(frame, store.load("old"))


def test_composite_keeps_shared_references_and_shares_columns(store: Store) -> None:
    features = big_frame()
    value = {"train": features, "again": features, "y": features["x"]}
    store.save("one", value, digest(value), op="split", seconds=1.0)
    back = store.load("one")
    assert back["train"] is back["again"]
    assert_same(value["train"], back["train"])
    before = store.total_bytes()
    edited = {"train": big_frame(extra="new"), "y": features["x"]}
    store.save("two", edited, digest(edited), op="split", seconds=1.0)
    new_column = store.total_bytes() - before
    assert 0 < new_column < before / 2, "unchanged columns are stored once"
    assert_same(edited["train"], store.load("two")["train"])


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
