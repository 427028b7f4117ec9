"""Deterministic sample data for the sampling tests, shared with subprocesses.

`print_kept()` prints, as JSON, an xxh3 digest of the positions each case keeps; the
cross-process test runs it under different `PYTHONHASHSEED`s and compares.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import xxhash

from ghostrun.approx import SampleSpec, sample

ROW_ID = "rid"


def frame(n: int, *, index: pd.Index | None = None, seed: int = 0) -> pd.DataFrame:
    """A frame with a row id column, a few dtypes, and (by default) a RangeIndex."""
    rng = np.random.default_rng(seed)
    out = pd.DataFrame(
        {
            ROW_ID: np.arange(n, dtype=np.int64),
            "x": rng.normal(size=n),
            "k": rng.integers(0, max(1, n // 10), size=n),
            "s": pd.array([f"c{i % 97}" for i in range(n)], dtype="str"),
        }
    )
    if index is not None:
        out.index = index
    return out


def string_index(n: int) -> pd.Index:
    return pd.Index([f"row-{i:07d}" for i in range(n)], name="row")


def kept_ids(sampled: Any) -> np.ndarray:
    """The row ids (original positions) of the rows a sampled frame kept."""
    return np.asarray(sampled[ROW_ID], dtype=np.int64)


def _cases() -> dict[str, Callable[[], Any]]:
    n = 20_000
    return {
        "range-index": lambda: sample(frame(n), SampleSpec(0.2, seed=3)).value,
        "string-index": lambda: sample(frame(n, index=string_index(n)), SampleSpec(0.2)).value,
        "sample-by-int": lambda: sample(frame(n), SampleSpec(0.2, sample_by="k")).value,
        "sample-by-str": lambda: sample(frame(n), SampleSpec(0.2, seed=9, sample_by="s")).value,
        "multiindex": lambda: (
            sample(
                frame(n, index=pd.MultiIndex.from_arrays([np.arange(n) % 7, string_index(n)])),
                SampleSpec(0.2),
            ).value
        ),
        "datetime-index": lambda: (
            sample(
                frame(n, index=pd.date_range("2020-01-01", periods=n, freq="min", tz="UTC")),
                SampleSpec(0.2),
            ).value
        ),
    }


def kept_digests() -> dict[str, str]:
    return {
        name: xxhash.xxh3_64_hexdigest(kept_ids(make()).astype("<i8").tobytes())
        for name, make in _cases().items()
    }


def print_kept() -> None:
    print(json.dumps(kept_digests(), sort_keys=True))
