"""Diabetes progression after one year: a regularised linear model on clinical features.

A small, fast regression workflow. The primary metric is `rmse` (goal "min"), so
ghostrun's verdicts and suggestions prefer lower values here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import ghostrun as gr

SEED = 3
SERUM = ["s1", "s2", "s3", "s4", "s5", "s6"]
INTERACTIONS = [("bmi", "bp"), ("bmi", "s5"), ("age", "bp"), ("bp", "s5")]


@dataclass(frozen=True)
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def pairwise_products(df: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Products of standardised columns, so interaction terms share one scale."""
    z = (df - df.mean()) / df.std()
    return pd.DataFrame({f"{a}_x_{b}": z[a] * z[b] for a, b in pairs}, index=df.index)


@gr.source(sample=False)
def patients() -> pd.DataFrame:
    """Ten baseline variables per patient and the progression score (`target`)."""
    return load_diabetes(as_frame=True, scaled=False).frame


@gr.op
def features(patients: pd.DataFrame,
             interactions: bool = gr.knob(True, choices=[True, False]),
             squared_bmi: bool = True) -> pd.DataFrame:
    """Clinical features: sex as 0/1, BMI curvature, a few known interactions."""
    df = patients.copy()
    df["sex"] = (df["sex"] == 2).astype(float)
    if squared_bmi:
        df["bmi_sq"] = (df["bmi"] - df["bmi"].mean()) ** 2
    if interactions:
        df = df.join(pairwise_products(df, INTERACTIONS))
    df["serum_mean"] = df[SERUM].mean(axis=1)
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> Split:
    """A seeded hold-out split: every version is scored on the same 111 patients."""
    X_train, X_test, y_train, y_test = train_test_split(
        features.drop(columns=["target"]), features["target"],
        test_size=test_size, random_state=SEED,
    )
    return Split(X_train, X_test, y_train, y_test)


@gr.op
def model(split: Split, log_targets: bool = False) -> TransformedTargetRegressor:
    """Scaled ridge regression; with `log_targets` it fits log(progression) and maps back."""
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=1.0, fit_intercept=True))
    func, inverse = (np.log, np.exp) if log_targets else (None, None)
    reg = TransformedTargetRegressor(regressor=pipe, func=func, inverse_func=inverse)
    return reg.fit(split.X_train, split.y_train)


@gr.op
def predictions(model: TransformedTargetRegressor, split: Split) -> np.ndarray:
    """Hold-out predictions, shared by both metrics."""
    return model.predict(split.X_test)


@gr.metric(goal="min")
def rmse(predictions: np.ndarray, split: Split) -> float:
    return float(np.sqrt(mean_squared_error(split.y_test, predictions)))


@gr.metric(goal="max")
def r2(predictions: np.ndarray, split: Split) -> float:
    return float(r2_score(split.y_test, predictions))
