"""Diabetes progression after one year, with gradient boosting instead of a linear model.

scikit-learn's diabetes data (442 patients, 10 baseline variables). A first draft with
LightGBM's usual settings. Primary metric: rmse on a validation split (goal "min").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from benchrows import bench_split, dev_rows
from lightgbm import LGBMRegressor
from sklearn.datasets import load_diabetes
from sklearn.metrics import mean_squared_error

import ghostrun as gr

SEED = 1


@gr.source(sample=False)
def patients() -> pd.DataFrame:
    return dev_rows(load_diabetes(as_frame=True, scaled=False).frame)


@gr.op
def features(patients: pd.DataFrame) -> pd.DataFrame:
    df = patients.copy()
    df["sex"] = (df["sex"] == 2).astype(float)
    df["bmi_x_bp"] = df["bmi"] * df["bp"]
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> dict:
    X = features.drop(columns=["target"])
    y = features["target"]
    X_train, X_test, y_train, y_test = bench_split(X, y, test_size=test_size, random_state=SEED)
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict) -> LGBMRegressor:
    reg = LGBMRegressor(
        n_estimators=200, learning_rate=0.1, num_leaves=31, min_child_samples=20,
        random_state=SEED, n_jobs=1, verbose=-1,
    )  # fmt: skip
    return reg.fit(split["X_train"], split["y_train"])


@gr.metric(goal="min")
def rmse(model: LGBMRegressor, split: dict) -> float:
    predictions = model.predict(split["X_test"])
    return float(np.sqrt(mean_squared_error(split["y_test"], predictions)))
