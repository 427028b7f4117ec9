"""Delivery time in minutes from order features: a generated regression workflow for the
fidelity bench (copied into a project as `pipeline.py`, then edited step by step).

Friedman-style signal (a sine of a product, a square, linear terms) plus a zone effect and
a heavy right tail; histogram gradient boosting; primary metric rmse (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import train_test_split

import ghostrun as gr

HERE = Path(__file__).resolve().parent
TARGET = "minutes"
SEED = 11


@dataclass
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


@gr.source(sample_by="order_id")
def orders(path: str = "data/orders.csv") -> pd.DataFrame:
    """One row per delivered order: distances, load, weather, zone, the minutes it took."""
    return pd.read_csv(HERE / path)


@gr.op
def features(orders: pd.DataFrame,
             clip_quantile: float = gr.knob(0.999, low=0.9, high=1.0)) -> pd.DataFrame:
    """Numeric model table: clipped distance, rush-hour flag, zone as its mean minutes."""
    df = orders.copy()
    df["distance_km"] = df["distance_km"].clip(upper=df["distance_km"].quantile(clip_quantile))
    df["rush_hour"] = df["hour"].between(7, 9) | df["hour"].between(16, 18)
    df["zone_code"] = df["zone"].astype("category").cat.codes
    return df.drop(columns=["order_id", "zone"])


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> Split:
    """A seeded hold-out split: every version is scored on the same orders."""
    X_train, X_test, y_train, y_test = train_test_split(
        features.drop(columns=[TARGET]), features[TARGET], test_size=test_size,
        random_state=SEED,
    )
    return Split(X_train, X_test, y_train, y_test)


@gr.op
def model(split: Split) -> Any:
    """Histogram gradient boosting, fixed rounds (no early stopping), 80% features per split."""
    reg = HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=0.0,
        max_features=0.8,
        early_stopping=False,
        random_state=SEED,
    )
    return reg.fit(split.X_train, split.y_train)


@gr.metric(goal="min")
def rmse(model: Any, split: Split) -> float:
    """Root mean squared error in minutes on the hold-out orders: the primary metric."""
    return float(np.sqrt(mean_squared_error(split.y_test, model.predict(split.X_test))))


@gr.metric(goal="min")
def mae(model: Any, split: Split) -> float:
    return float(mean_absolute_error(split.y_test, model.predict(split.X_test)))
