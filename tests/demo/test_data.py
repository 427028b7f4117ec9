"""The generated demo data behaves like real census data and is reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ghostrun.demo.data import KEY, LABEL, make_census, make_orders, write_demo_data

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week",
           "num_dependents", "years_in_job", "investment_income", "credit_score",
           "commute_km", LABEL]
TEXT = ["workclass", "education", "marital_status", "occupation", "job_title",
        "relationship", "race", "sex", "native_country", "city", "signup_date"]


@pytest.fixture(scope="module")
def census() -> pd.DataFrame:
    return make_census(20_000, seed=0)


def test_same_seed_same_table_other_seed_other_table() -> None:
    pd.testing.assert_frame_equal(make_census(3_000, seed=5), make_census(3_000, seed=5))
    pd.testing.assert_frame_equal(make_orders(3_000, seed=5), make_orders(3_000, seed=5))
    assert not make_census(3_000, seed=5).equals(make_census(3_000, seed=6))


def test_columns_and_dtypes(census: pd.DataFrame) -> None:
    assert census.shape == (20_000, 23)
    assert list(census.columns[:1]) == [KEY] and census[KEY].is_unique
    assert set(NUMERIC + TEXT + [KEY]) == set(census.columns)
    for col in NUMERIC + [KEY]:
        assert pd.api.types.is_numeric_dtype(census[col]), col
    for col in TEXT:
        assert pd.api.types.is_string_dtype(census[col]), col
    for col in ["age", "hours_per_week", "num_dependents", "years_in_job", KEY]:
        assert pd.api.types.is_integer_dtype(census[col]), col


def test_realistic_messiness(census: pd.DataFrame) -> None:
    missing = census.isna().mean()
    for col in ["workclass", "occupation", "investment_income", "credit_score",
                "commute_km", "signup_date", "native_country"]:
        assert 0.005 < missing[col] < 0.25, col
    assert missing[[KEY, "age", LABEL]].sum() == 0
    assert census["capital_gain"].median() == 0 and census["capital_gain"].skew() > 5
    assert census["city"].nunique() > 300  # high cardinality, with a long tail
    assert (census["city"].value_counts() < 10).sum() > 100
    dates = pd.to_datetime(census["signup_date"], format="%Y-%m-%d")  # ISO strings
    assert dates.min() >= pd.Timestamp("2012-01-01") and dates.max() <= pd.Timestamp("2025-01-01")
    titles = census["job_title"].dropna()
    assert titles.nunique() > 500 and titles.str.contains(r"(?i)\bsr\b|senior").any()
    assert (titles != titles.str.strip()).any()  # stray whitespace, as typed


def test_label_balance(census: pd.DataFrame) -> None:
    assert 0.2 < census[LABEL].mean() < 0.4
    assert set(census[LABEL].unique()) == {0, 1}


def test_orders_join_on_the_customer_key(census: pd.DataFrame) -> None:
    orders = make_orders(len(census), seed=0)
    assert orders["order_id"].is_unique
    assert orders[KEY].isin(census[KEY]).all()
    assert 0.7 < orders[KEY].nunique() / len(census) < 0.95  # some never ordered
    assert orders["order_date"].is_monotonic_increasing
    spend = orders.groupby(KEY)["amount"].sum().reindex(census[KEY], fill_value=0.0)
    by_label = spend.groupby(census[LABEL].to_numpy()).mean()
    assert by_label[1] > 1.3 * by_label[0]  # the join carries signal


def test_write_demo_data_round_trips(tmp_path: Path) -> None:
    paths = write_demo_data(tmp_path / "data", n_rows=1_500, seed=2)
    assert set(paths) == {"census", "orders"}
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["census.csv", "orders.csv"]
    back = pd.read_csv(paths["census"])
    expected = make_census(1_500, seed=2)
    assert back.shape == expected.shape and back[KEY].equals(expected[KEY])
    np.testing.assert_allclose(back["capital_gain"], expected["capital_gain"])


@pytest.mark.parametrize("bad", [0, -5])
def test_rejects_empty_tables(bad: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        make_census(bad)
    with pytest.raises(ValueError, match="at least one"):
        make_orders(bad)


def test_quick_lightgbm_gets_a_sane_auc(census: pd.DataFrame) -> None:
    X = census.drop(columns=[KEY, LABEL, "job_title", "signup_date"])
    X = X.astype({c: "category" for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])})
    X_train, X_test, y_train, y_test = train_test_split(
        X, census[LABEL], test_size=0.25, random_state=0, stratify=census[LABEL]
    )
    model = LGBMClassifier(n_estimators=150, learning_rate=0.05, num_leaves=15,
                           random_state=0, n_jobs=1, verbose=-1)  # shared cores: one thread
    model.fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    assert 0.75 < auc < 0.97
