"""Malignant or benign? XGBoost on the Wisconsin breast cancer measurements.

Each tumour has 30 measurements: the mean, standard error and worst value of ten cell
nucleus properties. `features` adds a few shape ratios a pathologist would recognise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

import ghostrun as gr

SEED = 0
TARGET = "malignant"


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Division that yields 0 where the denominator is 0 (a few concavity values are)."""
    return (numerator / denominator.where(denominator != 0)).fillna(0.0)


@gr.source(sample=False)
def tumours() -> pd.DataFrame:
    """The 569 tumours; the label is flipped so that 1 means malignant."""
    frame = load_breast_cancer(as_frame=True).frame
    frame[TARGET] = 1 - frame.pop("target")
    return frame


@gr.op
def features(tumours: pd.DataFrame,
             shape_features: bool = gr.knob(True, choices=[True, False]),
             drop_error_columns: bool = False) -> pd.DataFrame:
    """Measurements plus shape ratios: irregular, fast-growing cells look different."""
    df = tumours.copy()
    if shape_features:
        df["worst_to_mean_area"] = ratio(df["worst area"], df["mean area"])
        df["roundness"] = ratio(4 * np.pi * df["mean area"], df["mean perimeter"] ** 2)
        df["concave_share"] = ratio(df["worst concave points"], df["worst concavity"])
    if drop_error_columns:
        df = df.drop(columns=[c for c in df.columns if c.endswith(" error")])
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.3) -> dict[str, pd.DataFrame]:
    """Stratified split; the class balance (37% malignant) is kept on both sides."""
    X = features.drop(columns=[TARGET])
    y = features[TARGET]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=SEED
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict, max_depth: int = gr.knob(3, low=1, high=8)) -> XGBClassifier:
    """Shallow boosted trees: 400 training rows do not support deep ones."""
    clf = XGBClassifier(
        n_estimators=150,
        learning_rate=0.1,
        max_depth=max_depth,
        subsample=0.9,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=SEED,
        n_jobs=1,
    )
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="max")
def auc(model: XGBClassifier, split: dict) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))


@gr.metric(goal="max")
def accuracy(model: XGBClassifier, split: dict) -> float:
    return float(accuracy_score(split["y_test"], model.predict(split["X_test"])))
