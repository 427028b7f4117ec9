"""`sample` on single frames, series and arrays: determinism, seeds, nesting, floors, shape."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ghostrun.approx import SampleResult, SampleSpec, effective_fraction, sample
from tests.approx.approx_samples import ROW_ID, frame, kept_digests, kept_ids, string_index

REPO = Path(__file__).resolve().parents[2]

# Pinned: the rows each case keeps on every machine. A change here changes which rows every
# approximate run sees (and so invalidates paired comparisons with older runs): do it only
# on purpose.
GOLDEN = {
    "datetime-index": "9054a2080632b368",
    "multiindex": "43e732fc40c86cef",
    "range-index": "4704af48ece9b61e",
    "sample-by-int": "8a15c6b942422f45",
    "sample-by-str": "374c2cbccc74a87b",
    "string-index": "f05983bbe9e6dffd",
}


def binomial_ok(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(count - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1


# --- determinism -------------------------------------------------------------------------


def test_same_rows_in_this_process_as_pinned() -> None:
    assert kept_digests() == GOLDEN


@pytest.mark.parametrize("hashseed", ["0", "12345", "random"])
def test_same_rows_in_another_process(hashseed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    code = "from tests.approx.approx_samples import print_kept; print_kept()"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert json.loads(out) == kept_digests()


def test_repeated_calls_keep_the_same_rows() -> None:
    data = frame(30_000)
    first = sample(data, SampleSpec(0.1, seed=5)).value
    second = sample(data.copy(), SampleSpec(0.1, seed=5)).value
    pd.testing.assert_frame_equal(first, second)


# --- seeds, uniformity and nesting -------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.7], ids=lambda f: f"f={f}")
def test_kept_count_matches_fraction(fraction: float) -> None:
    n = 100_000
    result = sample(frame(n), SampleSpec(fraction, min_rows=0))
    assert result.sampled and result.rows_before == n
    assert binomial_ok(result.rows_after, n, fraction)
    assert len(result.value) == result.rows_after


@pytest.mark.parametrize(
    ("fraction", "by"),
    [(0.3, None), (0.5, None), (0.3, "k")],
    ids=["index-0.3", "index-0.5", "key-0.3"],
)
def test_other_seeds_draw_independent_subsets(fraction: float, by: str | None) -> None:
    n = 200_000
    data = frame(n)
    kept = [
        set(kept_ids(sample(data, SampleSpec(fraction, seed=s, sample_by=by, min_rows=0)).value))
        for s in (0, 1, 2, 1_000_003)
    ]
    units = n if by is None else data["k"].nunique()
    for i in range(len(kept)):
        for j in range(i + 1, len(kept)):
            overlap = len(kept[i] & kept[j])
            # by key, whole keys are shared: compare on the share of rows, with key noise
            tolerance = 5 * np.sqrt(fraction**2 * (1 - fraction**2) / units) * n + 1
            assert abs(overlap - fraction**2 * n) <= tolerance, (i, j, overlap)
            assert kept[i] != kept[j]


@pytest.mark.parametrize("by", [None, "k", "s"], ids=["index", "int-key", "str-key"])
def test_smaller_fraction_keeps_a_subset(by: str | None) -> None:
    data = frame(50_000, index=string_index(50_000))
    fractions = [0.01, 0.05, 0.2, 0.5, 0.9, 1.0]
    kept = [
        set(kept_ids(sample(data, SampleSpec(f, seed=7, sample_by=by, min_rows=0)).value))
        for f in fractions
    ]
    for smaller, larger in zip(kept, kept[1:], strict=False):
        assert smaller <= larger
        assert len(smaller) < len(larger)


def test_nesting_holds_through_the_min_rows_floor() -> None:
    data = frame(40_000)
    spec = SampleSpec(0.001, seed=2)  # raised to 1500 / 40000
    floor = set(kept_ids(sample(data, spec).value))
    larger = set(kept_ids(sample(data, dataclasses.replace(spec, fraction=0.2)).value))
    assert floor <= larger


# --- row identity is the index label -----------------------------------------------------


def test_a_row_keeps_its_fate_when_other_rows_and_columns_change() -> None:
    n = 30_000
    before = frame(n, index=string_index(n))
    after = before.assign(x=before["x"] * 2, extra=1.0).iloc[::3]  # rows dropped, cols added
    after = after.sample(frac=1.0, random_state=1)  # and shuffled
    spec = SampleSpec(0.1, seed=4, min_rows=0)
    kept_before = set(kept_ids(sample(before, spec).value))
    kept_after = set(kept_ids(sample(after, spec).value))
    assert kept_after == kept_before & set(after[ROW_ID])


def test_a_default_index_and_positions_keep_the_same_rows() -> None:
    data = frame(20_000)
    spec = SampleSpec(0.2, seed=8)
    from_frame = kept_ids(sample(data, spec).value)
    from_array = sample(data[[ROW_ID]].to_numpy(), spec).value[:, 0]
    np.testing.assert_array_equal(from_frame, from_array)


def test_duplicate_labels_share_their_fate() -> None:
    n = 20_000
    data = frame(n, index=pd.Index(np.arange(n) // 4))
    kept = sample(data, SampleSpec(0.2, min_rows=0)).value
    assert (kept.index.value_counts() == 4).all()


# --- the min_rows floor and small tables -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FloorCase:
    id: str
    rows: int
    spec: SampleSpec
    sampled: bool
    fraction: float


FLOOR_CASES = [
    FloorCase("at-min-rows", 1500, SampleSpec(0.1), False, 1.0),
    FloorCase("below-min-rows", 900, SampleSpec(0.1), False, 1.0),
    FloorCase("one-above-min-rows", 1501, SampleSpec(0.1), True, 1500 / 1501),
    FloorCase("raised-to-floor", 100_000, SampleSpec(0.001), True, 0.015),
    FloorCase("above-floor", 100_000, SampleSpec(0.2), True, 0.2),
    FloorCase("custom-floor", 10_000, SampleSpec(0.01, min_rows=500), True, 0.05),
    FloorCase("no-floor", 1000, SampleSpec(0.3, min_rows=0), True, 0.3),
]


@pytest.mark.parametrize("case", FLOOR_CASES, ids=[c.id for c in FLOOR_CASES])
def test_min_rows_floor(case: FloorCase) -> None:
    data = frame(case.rows)
    result = sample(data, case.spec)
    assert result.sampled is case.sampled
    assert result.fraction == pytest.approx(case.fraction)
    assert effective_fraction(case.rows, case.spec) == pytest.approx(case.fraction)
    assert result.rows_before == case.rows
    if case.sampled:
        assert binomial_ok(result.rows_after, case.rows, case.fraction)
    else:
        assert result.value is data and result.rows_after == case.rows


# --- unchanged values ----------------------------------------------------------------------


UNCHANGED: list[tuple[str, Callable[[], Any], SampleSpec]] = [
    ("fraction-1-frame", lambda: frame(10_000), SampleSpec(1.0)),
    ("fraction-1-by-key", lambda: frame(10_000), SampleSpec(1, sample_by="k")),
    ("fraction-1-array", lambda: np.arange(10_000), SampleSpec(1.0)),
    ("empty-frame", lambda: frame(0), SampleSpec(0.1, min_rows=0)),
    ("empty-frame-by-key", lambda: frame(0), SampleSpec(0.1, sample_by="k", min_rows=0)),
    ("empty-array", lambda: np.empty((0, 3)), SampleSpec(0.1)),
    ("empty-series", lambda: pd.Series([], dtype="float64"), SampleSpec(0.5, min_rows=0)),
    ("small-series", lambda: pd.Series(range(100)), SampleSpec(0.1)),
    ("scalar", lambda: 3.5, SampleSpec(0.1)),
    ("string", lambda: "not rows", SampleSpec(0.1)),
    ("zero-dim-array", lambda: np.array(5.0), SampleSpec(0.1)),
    ("dict-of-scalars", lambda: {"a": 1, "b": "two"}, SampleSpec(0.1)),
]


@pytest.mark.parametrize(
    ("make", "spec"), [c[1:] for c in UNCHANGED], ids=[c[0] for c in UNCHANGED]
)
def test_values_left_whole_are_the_same_object(make: Callable[[], Any], spec: SampleSpec) -> None:
    value = make()
    result = sample(value, spec)
    assert result.value is value
    assert result.sampled is False
    assert result.rows_after == result.rows_before


# --- what a sample keeps -----------------------------------------------------------------


def rich_frame(n: int, index: pd.Index) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            ROW_ID: np.arange(n),
            "i8": rng.integers(-100, 100, n).astype("int8"),
            "f32": rng.normal(size=n).astype("float32"),
            "cat": pd.Categorical(
                rng.choice(["lo", "mid"], n), categories=["lo", "mid", "hi"], ordered=True
            ),
            "s": pd.array([f"v{i}" if i % 11 else None for i in range(n)], dtype="str"),
            "nullable": pd.array([i if i % 5 else None for i in range(n)], dtype="Int64"),
            "when": pd.date_range("2021-01-01", periods=n, freq="h", tz="Europe/Paris"),
            "flag": rng.random(n) < 0.5,
            "obj": np.array([{"i": i} for i in range(n)], dtype=object),
        },
        index=index,
    ).rename_axis(columns="features")


N = 12_000
INDEXES = {
    "range": pd.RangeIndex(N),
    "shuffled-ints": pd.Index(np.random.default_rng(2).permutation(N) * 3, name="id"),
    "strings": string_index(N),
    "floats": pd.Index(np.arange(N) / 4.0),
    "multi": pd.MultiIndex.from_arrays([np.arange(N) % 13, string_index(N)], names=["g", "r"]),
    "datetimes": pd.DatetimeIndex(pd.date_range("2000-01-01", periods=N, freq="D"), name="t"),
}


@pytest.mark.parametrize("index", list(INDEXES.values()), ids=list(INDEXES))
def test_sample_keeps_dtypes_categories_columns_labels_and_order(index: pd.Index) -> None:
    data = rich_frame(N, index)
    result = sample(data, SampleSpec(0.1, seed=1))
    kept = result.value
    assert 0 < len(kept) < N
    assert list(kept.columns) == list(data.columns) and kept.columns.name == "features"
    pd.testing.assert_series_equal(kept.dtypes, data.dtypes)
    assert list(kept["cat"].cat.categories) == ["lo", "mid", "hi"]
    assert kept["cat"].cat.ordered
    positions = kept[ROW_ID].to_numpy()
    assert (np.diff(positions) > 0).all()  # original order
    pd.testing.assert_frame_equal(kept, data.iloc[positions])  # labels and values as they were


def test_series_are_sampled_by_their_index_like_frames() -> None:
    data = frame(20_000, index=string_index(20_000))
    spec = SampleSpec(0.1, seed=6)
    series = sample(data[ROW_ID], spec).value
    assert isinstance(series, pd.Series) and series.name == ROW_ID
    np.testing.assert_array_equal(series.to_numpy(), kept_ids(sample(data, spec).value))


def test_arrays_are_sampled_along_the_first_axis() -> None:
    cube = np.arange(20_000 * 6, dtype=np.float32).reshape(20_000, 3, 2)
    result = sample(cube, SampleSpec(0.1))
    assert result.value.shape[1:] == (3, 2) and result.value.dtype == np.float32
    rows = result.value[:, 0, 0].astype(int) // 6
    np.testing.assert_array_equal(result.value, cube[rows])


def test_only_the_index_is_hashed_not_the_columns() -> None:
    class Opaque:
        def __str__(self) -> str:
            raise AssertionError("a column value was hashed")

        __repr__ = __str__

        def __hash__(self) -> int:
            raise AssertionError("a column value was hashed")

    data = frame(5_000).assign(opaque=[Opaque() for _ in range(5_000)])
    kept = sample(data, SampleSpec(0.2, min_rows=0)).value
    assert all(isinstance(v, Opaque) for v in kept["opaque"])
    assert isinstance(sample(data, SampleSpec(0.2, sample_by="k", min_rows=0)), SampleResult)
