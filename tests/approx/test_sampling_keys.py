"""`sample_by`: universe sampling keeps joins matching; bad specs and missing keys say the fix."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ghostrun.approx import SampleError, SampleSpec, effective_fraction, sample
from ghostrun.approx._rowhash import hash_values, uniforms
from ghostrun.errors import GhostrunError
from tests.approx.approx_samples import ROW_ID, frame, kept_ids


def tables(n_customers: int, n_orders: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(11)
    customers = pd.DataFrame(
        {"customer_id": np.arange(n_customers), "age": rng.integers(18, 90, n_customers)}
    )
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n_orders),
            "customer_id": rng.integers(0, int(n_customers * 1.1), n_orders),  # some unknown
            "amount": rng.gamma(2.0, 30.0, n_orders),
        }
    )
    return customers, orders


KeyCast = Callable[[pd.Series], Any]


@dataclasses.dataclass(frozen=True)
class JoinCase:
    id: str
    customers_key: KeyCast
    orders_key: KeyCast
    n_customers: int = 20_000
    fraction: float = 0.05


def as_str(s: pd.Series) -> pd.Series:
    return ("cust-" + s.astype("int64").astype(str)).astype("str")


JOIN_CASES = [
    JoinCase("int64-int64", lambda s: s, lambda s: s),
    JoinCase("int32-int64", lambda s: s.astype("int32"), lambda s: s),
    JoinCase("nullable-int64", lambda s: s.astype("Int64"), lambda s: s),
    JoinCase("float-int", lambda s: s.astype("float64"), lambda s: s),
    JoinCase("arrow-int-int", lambda s: s.astype("int64[pyarrow]"), lambda s: s),
    JoinCase("str-str", as_str, as_str),
    JoinCase("str-object", as_str, lambda s: as_str(s).astype(object)),
    JoinCase("categorical-str", lambda s: as_str(s).astype("category"), as_str),
    # the customers table is small: the floor raises its fraction above the orders' one
    JoinCase("floor-differs", lambda s: s, lambda s: s, n_customers=5_000),
]


@pytest.mark.parametrize("case", JOIN_CASES, ids=[c.id for c in JOIN_CASES])
def test_sampling_both_sides_by_the_key_loses_no_join_matches(case: JoinCase) -> None:
    customers, orders = tables(case.n_customers, 200_000)
    customers["customer_id"] = case.customers_key(customers["customer_id"])
    orders["customer_id"] = case.orders_key(orders["customer_id"])
    spec = SampleSpec(case.fraction, seed=3, sample_by="customer_id")
    small_c, small_o = sample(customers, spec), sample(orders, spec)
    assert small_c.sampled and small_o.sampled

    joined = small_o.value.merge(small_c.value, on="customer_id")
    # every order kept whose customer exists finds that customer among the kept ones
    known = small_o.value["customer_id"].isin(customers["customer_id"])
    assert len(joined) == int(known.sum())
    # and the join of the samples is the full join restricted to keys kept by both
    full = orders.merge(customers, on="customer_id")
    fraction = min(small_c.fraction, small_o.fraction)
    keys = uniforms(hash_values(full["customer_id"]), spec.seed) < fraction
    expected = full[keys].sort_values("order_id", ignore_index=True)
    got = joined.sort_values("order_id", ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert binomial_share(len(got), len(full), fraction)


def binomial_share(count: int, n: int, p: float) -> bool:
    return abs(count / n - p) < 0.35 * p  # keys come in clusters: a loose share check


def test_every_row_of_a_key_is_in_or_out_together() -> None:
    data = frame(100_000)
    kept = sample(data, SampleSpec(0.1, seed=1, sample_by="k")).value
    full_counts = data["k"].value_counts()
    kept_counts = kept["k"].value_counts()
    pd.testing.assert_series_equal(kept_counts, full_counts[kept_counts.index])
    assert 0 < kept["k"].nunique() < data["k"].nunique()


def test_the_key_decides_not_the_index() -> None:
    data = frame(50_000)
    spec = SampleSpec(0.1, seed=2, sample_by="k")
    shuffled = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert set(kept_ids(sample(data, spec).value)) == set(kept_ids(sample(shuffled, spec).value))


def test_missing_keys_are_kept_or_dropped_together() -> None:
    data = frame(20_000).assign(k=lambda d: d["k"].where(d[ROW_ID] % 3 != 0))
    nans = data["k"].isna()
    for seed in range(8):
        kept = sample(data, SampleSpec(0.3, seed=seed, sample_by="k")).value
        assert kept["k"].isna().sum() in (0, int(nans.sum()))


KEY_PLACES: list[tuple[str, Callable[[pd.DataFrame], Any]]] = [
    ("column", lambda d: d),
    ("index-level", lambda d: d.set_index("k")),
    ("one-of-a-multiindex", lambda d: d.set_index(["s", "k"])),
    ("series-name", lambda d: d["k"]),
    ("arrow-table", lambda d: pa.Table.from_pandas(d, preserve_index=False)),
]


@pytest.mark.parametrize("shape", [p[1] for p in KEY_PLACES], ids=[p[0] for p in KEY_PLACES])
def test_the_key_may_be_a_column_an_index_level_or_a_series_name(
    shape: Callable[[pd.DataFrame], Any],
) -> None:
    data = frame(30_000)
    spec = SampleSpec(0.1, seed=5, sample_by="k")
    expected = sample(data, spec).value["k"].to_numpy()
    result = sample(shape(data), spec)
    kept = result.value
    if isinstance(kept, pa.Table):
        got = kept.column("k").to_numpy()
    elif isinstance(kept, pd.Series):
        got = kept.to_numpy()
    else:
        got = kept.reset_index()["k"].to_numpy()
    np.testing.assert_array_equal(got, expected)


# --- errors --------------------------------------------------------------------------------


BAD_SPECS: list[tuple[str, dict[str, Any], str]] = [
    ("fraction-zero", {"fraction": 0}, "0 < fraction <= 1"),
    ("fraction-negative", {"fraction": -0.2}, "0 < fraction <= 1"),
    ("fraction-above-one", {"fraction": 1.5}, "0 < fraction <= 1"),
    ("fraction-nan", {"fraction": float("nan")}, "0 < fraction <= 1"),
    ("fraction-text", {"fraction": "0.5"}, "0 < fraction <= 1"),
    ("fraction-bool", {"fraction": True}, "0 < fraction <= 1"),
    ("fraction-none", {"fraction": None}, "0 < fraction <= 1"),
    ("seed-float", {"fraction": 0.5, "seed": 1.5}, "seed must be an integer"),
    ("min-rows-negative", {"fraction": 0.5, "min_rows": -1}, "min_rows must be at least 0"),
    ("sample-by-empty", {"fraction": 0.5, "sample_by": ""}, "sample_by must be a column name"),
    ("sample-by-int", {"fraction": 0.5, "sample_by": 3}, "sample_by must be a column name"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS]
)
def test_a_bad_spec_is_a_clear_value_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        SampleSpec(**kwargs)
    assert isinstance(caught.value, SampleError) and isinstance(caught.value, GhostrunError)


def test_spec_normalises_numbers() -> None:
    spec = SampleSpec(np.float32(0.5), seed=np.int64(3), min_rows=np.int32(10))
    assert (type(spec.fraction), type(spec.seed), type(spec.min_rows)) == (float, int, int)
    assert spec == SampleSpec(0.5, 3, None, 10)
    assert effective_fraction(10, spec) == 1.0


MISSING_KEYS: list[tuple[str, Callable[[], Any], list[str]]] = [
    ("frame", lambda: frame(5_000), ["'customer'", "'rid'", "'x'", "'k'", "'s'"]),
    ("small-frame", lambda: frame(10), ["'customer'", "'rid'"]),
    ("empty-frame", lambda: frame(0), ["'customer'", "'rid'"]),
    ("tuple-frame-array", lambda: (frame(5_000), np.zeros(5_000)), ["'customer'", "'rid'"]),
    ("arrays-only", lambda: (np.zeros((5_000, 2)), np.zeros(5_000)), ["only arrays"]),
    ("typo", lambda: frame(5_000).rename(columns={"k": "customers"}), ["mean 'customers'"]),
]


@pytest.mark.parametrize(
    ("make", "expected"), [c[1:] for c in MISSING_KEYS], ids=[c[0] for c in MISSING_KEYS]
)
def test_a_missing_key_column_names_it_and_the_columns_available(
    make: Callable[[], Any], expected: list[str]
) -> None:
    with pytest.raises(ValueError) as caught:
        sample(make(), SampleSpec(0.1, sample_by="customer"))
    message = str(caught.value)
    assert "sample_by='customer'" in message
    for part in expected:
        assert part in message


def test_a_missing_key_lists_at_most_twenty_columns() -> None:
    wide = pd.DataFrame(np.zeros((3, 50)), columns=[f"c{i}" for i in range(50)])
    with pytest.raises(SampleError, match=r"\(30 more\)") as caught:
        sample(wide, SampleSpec(0.1, sample_by="key"))
    assert "'c19'" in str(caught.value) and "'c20'" not in str(caught.value)


def test_an_ambiguous_key_column_is_an_error() -> None:
    data = pd.concat([frame(5_000)[["k"]], frame(5_000)[["k"]]], axis=1)
    with pytest.raises(SampleError, match="names 2 columns"):
        sample(data, SampleSpec(0.1, sample_by="k"))
