# ruff: noqa: B008  (gr.knob in a default is the workflow API; a frozen copy of the demo)
"""Who earns over 50k? A census-style workflow for trying ghostrun.

Edit anything below and save: ghostrun reruns only what your edit touched, first on a
sample, and tells you within seconds whether the AUC moved. Things worth trying:
`min_count` in `features`, `num_leaves` or `learning_rate` in `model`, dropping a column
in `features`, or another aggregate in `customer_orders`.

The data (`data/census.csv`, `data/orders.csv`) is generated on the first run if missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

import ghostrun as gr

PROJECT = Path(__file__).resolve().parent
DEMO_ROWS = 200_000
LABEL = "income_over_50k"
SEED = 42
AS_OF = pd.Timestamp("2025-01-01")  # "today" for tenure and recency, fixed for repeatability
CATEGORICAL = ["workclass", "marital_status", "occupation", "relationship", "race", "sex",
               "native_country", "city"]
# seniority read off free-text job titles: first match wins, otherwise 1 (no qualifier)
SENIORITY = [
    (4, r"\b(?:head|chief|director|vp)\b"),
    (3, r"\b(?:lead|principal|staff)\b"),
    (2, r"\b(?:senior|sr)\b"),
    (0, r"\b(?:junior|jr|trainee|intern)\b"),
]


@dataclass
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def _data_file(path: str) -> Path:
    """Resolve `path` against the project folder; write the demo tables if it is missing."""
    file = Path(path) if Path(path).is_absolute() else PROJECT / path
    if not file.exists():
        from ghostrun.demo.data import write_demo_data

        write_demo_data(file.parent, n_rows=DEMO_ROWS)
    return file


def _title_features(titles: pd.Series) -> pd.DataFrame:
    """Seniority level and part-time flag parsed from titles like 'Sr. Accountant - PT'."""
    clean = titles.fillna("").str.lower().str.replace(r"[^a-z ]+", " ", regex=True)
    seniority = pd.Series(1, index=titles.index)
    for level, pattern in reversed(SENIORITY):
        seniority = seniority.mask(clean.str.contains(pattern), level)
    part_time = clean.str.contains(r"\bpart time\b|\bpt\b")
    return pd.DataFrame({"seniority": seniority.where(titles.notna()), "part_time": part_time})


@gr.source(sample_by="customer_id")
def raw(path: str = "data/census.csv") -> pd.DataFrame:
    """One row per customer: demographics, work, money, and the label."""
    return pd.read_csv(_data_file(path))


@gr.source(sample_by="customer_id")
def orders(orders_path: str = "data/orders.csv") -> pd.DataFrame:
    """Every order of every customer; sampled by customer so joins keep matching rows."""
    return pd.read_csv(_data_file(orders_path), parse_dates=["order_date"])


@gr.op
def customer_orders(orders: pd.DataFrame,
                    recent_days=gr.knob(365, low=30, high=1825, log=True)) -> pd.DataFrame:
    """Purchase behaviour per customer: how much, how often, how recently, on what."""
    recent = orders["order_date"] >= AS_OF - pd.Timedelta(days=recent_days)
    per_order = orders.assign(
        recent_amount=orders["amount"].where(recent, 0.0),
        travel=orders["category"].eq("travel"),
    )
    agg = per_order.groupby("customer_id").agg(
        n_orders=("order_id", "size"),
        total_spend=("amount", "sum"),
        avg_order=("amount", "mean"),
        recent_spend=("recent_amount", "sum"),
        travel_share=("travel", "mean"),
        return_rate=("returned", "mean"),
        last_order=("order_date", "max"),
    )
    agg["days_since_order"] = (AS_OF - agg.pop("last_order")).dt.days
    return agg.reset_index()


@gr.op
def joined(raw: pd.DataFrame, customer_orders: pd.DataFrame) -> pd.DataFrame:
    """Census rows with their order aggregates; customers without orders get zeros."""
    out = raw.merge(customer_orders, on="customer_id", how="left", validate="one_to_one")
    no_orders = ["n_orders", "total_spend", "recent_spend"]
    out[no_orders] = out[no_orders].fillna(0.0)
    return out


@gr.op
def features(joined: pd.DataFrame,
             min_count=gr.knob(50, low=1, high=2000, log=True)) -> pd.DataFrame:
    """The model's table: parsed titles, tenure, log money, rare cities pooled."""
    df = joined.copy()
    df = df.join(_title_features(df["job_title"]))
    signup = pd.to_datetime(df["signup_date"], format="%Y-%m-%d")
    df["tenure_years"] = (AS_OF - signup).dt.days / 365.25
    for col in ["capital_gain", "capital_loss", "investment_income", "total_spend"]:
        df[col] = np.log1p(df[col])
    city_counts = df["city"].map(df["city"].value_counts())
    df["city"] = df["city"].where(city_counts >= min_count, "other")
    for col in CATEGORICAL:
        df[col] = df[col].astype("category")
    return df.drop(columns=["customer_id", "job_title", "signup_date", "education"])


@gr.op
def split(features: pd.DataFrame, test_size=0.25) -> Split:
    """Stratified hold-out split, fixed by SEED so every version is scored on the same rows."""
    X = features.drop(columns=[LABEL])
    y = features[LABEL]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=SEED, stratify=y
    )
    return Split(X_train, X_test, y_train, y_test)


@gr.op
def model(split: Split,
          num_leaves=gr.knob(31, low=4, high=256, log=True),
          min_child_samples=gr.knob(20, low=5, high=1000, log=True)) -> LGBMClassifier:
    """Gradient-boosted trees; LightGBM reads the pandas categoricals natively."""
    clf = LGBMClassifier(
        num_leaves=num_leaves,
        min_child_samples=min_child_samples,
        learning_rate=0.03,
        n_estimators=800,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=SEED,
        verbose=-1,
    )
    return clf.fit(split.X_train, split.y_train)


@gr.metric(goal="max")
def auc(model: LGBMClassifier, split: Split) -> float:
    """Ranking quality on the hold-out rows: the number the demo tries to raise."""
    return float(roc_auc_score(split.y_test, model.predict_proba(split.X_test)[:, 1]))


@gr.metric(goal="min")
def logloss(model: LGBMClassifier, split: Split) -> float:
    """Calibration on the hold-out rows: AUC can rise while probabilities get worse."""
    return float(log_loss(split.y_test, model.predict_proba(split.X_test)[:, 1]))
