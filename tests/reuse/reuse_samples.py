"""Sample values of every kind the store and `digest` handle, shared by the reuse tests.

Imported both by the tests and by subprocesses (cross-process digest stability, concurrent
saves), so everything here is deterministic and defined at module level (picklable).
`print_digests()` prints the digest of every sample as JSON (run in a subprocess).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import types
from collections import OrderedDict, namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

Point = namedtuple("Point", ["x", "y"])


@dataclasses.dataclass(frozen=True)
class Split:
    X: pd.DataFrame
    y: np.ndarray
    note: str = "holdout"


class TaggedFrame(pd.DataFrame):
    """A DataFrame subclass: stored whole (its extra behaviour may depend on more state)."""

    @property
    def _constructor(self) -> type[TaggedFrame]:
        return TaggedFrame


def scale(values: Any, factor: float = 2.0) -> Any:
    return values * factor


def every_dtype_frame(rows: int = 6) -> pd.DataFrame:
    """One column per dtype family pandas 3 users meet, with missing values where allowed."""
    rng = np.random.default_rng(7)
    words = ["apple", "kiwi", None, "fig", "plum", "pear"][:rows]
    base = {
        "f64": rng.normal(size=rows),
        "f32": rng.normal(size=rows).astype("float32"),
        "f16": np.arange(rows, dtype="float16"),
        "i8": np.arange(rows, dtype="int8"),
        "i64": np.arange(rows, dtype="int64") * 10**12,
        "u32": np.arange(rows, dtype="uint32"),
        "bool": np.arange(rows) % 2 == 0,
        "dt_ns": pd.date_range("2021-03-01", periods=rows, freq="h", unit="ns"),
        "dt_s": pd.date_range("2021-03-01", periods=rows, freq="D", unit="s"),
        "dt_tz": pd.date_range("2021-03-01", periods=rows, freq="h", tz="Europe/Paris"),
        "td": pd.to_timedelta(np.arange(rows), unit="s"),
        "cat": pd.Categorical(["a", "b", "a", None, "c", "b"][:rows]),
        "cat_ord": pd.Categorical(["lo", "hi"] * (rows // 2), ordered=True),
        "cat_int": pd.Categorical(np.arange(rows) % 3),
        "str": pd.array(words, dtype="str"),
        "string_arrow": pd.array(words, dtype=pd.StringDtype("pyarrow")),
        "string_python": pd.array(words, dtype=pd.StringDtype("python")),
        "obj_str": pd.Series(words, dtype=object),
        "obj_mixed": np.array(["a", 1, 2.5, None, (1, 2), b"x"][:rows], dtype=object),
        "Int64": pd.array([1, None, 3, 4, None, 6][:rows], dtype="Int64"),
        "UInt8": pd.array([1, 2, None, 4, 5, 6][:rows], dtype="UInt8"),
        "Float64": pd.array([0.5, None, 1.5, 2.5, 3.5, 4.5][:rows], dtype="Float64"),
        "boolean": pd.array([True, None, False, True, False, None][:rows], dtype="boolean"),
        "arrow_i64": pd.array([1, None, 3, 4, 5, 6][:rows], dtype="int64[pyarrow]"),
        "arrow_f64": pd.array([1.5, 2.5, None, 4.5, 5.5, 6.5][:rows], dtype="double[pyarrow]"),
        "arrow_list": pd.array(
            [[1], None, [2, 3], [], [4], [5]][:rows], dtype=pd.ArrowDtype(pa.list_(pa.int64()))
        ),
        "period": pd.period_range("2021-01", periods=rows, freq="M"),
        "interval": pd.interval_range(0, rows),
        "complex": np.arange(rows) + 1j,
        "sparse": pd.arrays.SparseArray([0, 0, 1, 0, 2, 0][:rows]),
    }
    return pd.DataFrame(base)


def _fitted_models() -> dict[str, Any]:
    import lightgbm
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return {
        "sklearn_model": LogisticRegression().fit(X, y),
        "lightgbm_model": lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y),
    }


def frames() -> dict[str, pd.DataFrame]:
    numeric = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5), "c": np.arange(5) > 2})
    return {
        "frame_numeric": numeric,
        "frame_every_dtype": every_dtype_frame(),
        "frame_duplicate_names": pd.DataFrame([[1, 2.5, "x"]], columns=["a", "a", "b"]),
        "frame_multiindex_columns": pd.DataFrame(
            np.arange(6).reshape(2, 3),
            columns=pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1)], names=["k", "n"]),
        ),
        "frame_nonstring_labels": pd.DataFrame(
            {0: [1.0], 2.5: [2.0], ("t", 1): [3.0], pd.Timestamp("2020-01-01"): [4.0]}
        ),
        "frame_multiindex_rows": numeric.set_index(["b", "c"]),
        "frame_datetime_index": numeric.set_index(pd.date_range("2020", periods=5, freq="D")),
        "frame_string_index": numeric.set_axis(list("vwxyz")).rename_axis("letter"),
        "frame_named_columns": numeric.rename_axis("feature", axis=1),
        "frame_attrs": numeric.copy().pipe(_with_attrs),
        "frame_no_rows": numeric.iloc[:0],
        "frame_unique_labels_only": numeric.set_flags(allows_duplicate_labels=False),
        "frame_no_columns": pd.DataFrame(index=range(3)),
        "frame_fortran": pd.DataFrame(np.asfortranarray(np.arange(12.0).reshape(4, 3))),
    }


def _with_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["source"] = "census"
    return frame


def series() -> dict[str, pd.Series]:
    return {
        "series_int": pd.Series(np.arange(4), name="n"),
        "series_str_indexed": pd.Series(["a", None, "c"], index=[10, 20, 30], dtype="str"),
        "series_tuple_name": pd.Series([1.5, 2.5], name=("a", 1)),
        "series_categorical": pd.Series(pd.Categorical(["x", "y", "x"]), name="cat"),
        "series_object": pd.Series([1, "a", None], dtype=object),
        "series_tz": pd.Series(pd.date_range("2020", periods=3, tz="UTC")),
    }


def arrays() -> dict[str, np.ndarray]:
    grid = np.arange(24.0).reshape(4, 6)
    return {
        "array_c": grid,
        "array_fortran": np.asfortranarray(grid),
        "array_strided": grid[:, ::2],
        "array_0d": np.array(3.5),
        "array_empty": np.zeros((0, 3), dtype="int16"),
        "array_bool_3d": np.arange(24).reshape(2, 3, 4) % 3 == 0,
        "array_datetime": np.array(["2020-01-01", "NaT"], dtype="datetime64[ns]"),
        "array_structured": np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        "array_object": np.array(["a", None, 1], dtype=object),
        "array_strings": np.array(["a", "bc"]),
    }


def scalars_and_containers() -> dict[str, Any]:
    return {
        "none": None,
        "true": True,
        "int": 7,
        "bigint": 2**100,
        "float": 1.5,
        "negative_zero": -0.0,
        "nan": float("nan"),
        "complex": 1 + 2j,
        "str": "text ✓",
        "bytes": b"\x00\x01",
        "bytearray": bytearray(b"ab"),
        "np_float32": np.float32(1.5),
        "np_int64": np.int64(3),
        "np_datetime": np.datetime64("2020-01-01T00:00"),
        "list": [1, "a", [2.0, None]],
        "tuple": (1, 2),
        "nested": {"frame": pd.DataFrame({"a": [1, 2]}), "arr": np.arange(3), "k": [1, (2, 3)]},
        "ordered_dict": OrderedDict([("b", 1), ("a", 2)]),
        "set": {"alpha", "beta", "gamma", "delta"},
        "frozenset": frozenset({1, 2, 3}),
        "namedtuple": Point(1, 2),
        "dataclass": Split(pd.DataFrame({"a": [1.0]}), np.array([0, 1])),
        "namespace": types.SimpleNamespace(b=1, a="x"),
        "timestamp": pd.Timestamp("2021-01-01", tz="UTC"),
        "decimal": decimal.Decimal("1.10"),
        "date": datetime.date(2020, 1, 1),
        "function": scale,
    }


def samples() -> dict[str, Any]:
    """Every sample, by name."""
    return {**frames(), **series(), **arrays(), **scalars_and_containers(), **_fitted_models()}


def save_repeatedly(root: str, key: str, times: int) -> str:
    """Save the every-dtype frame `times` times under `key` (for concurrent-save tests)."""
    from ghostrun.reuse import Store, digest

    store = Store(Path(root))
    frame = every_dtype_frame()
    value_digest = digest(frame)
    for _ in range(times):
        store.save(key, frame, value_digest, op="features", seconds=0.1)
        pd.testing.assert_frame_equal(store.load(key), frame, check_exact=True)
    return value_digest.hex


def print_digests() -> None:
    from ghostrun.reuse import digest

    print(json.dumps({name: digest(value).hex for name, value in samples().items()}))
