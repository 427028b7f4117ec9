"""Which of three cultivars? A random forest on 13 chemical measurements of Italian wines.

scikit-learn's wine data (178 wines). A first draft: a small, shallow forest. Primary
metric: log loss on a stratified validation split (goal "min"); accuracy alongside.
"""

from __future__ import annotations

import pandas as pd
from benchrows import bench_split, dev_rows
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, log_loss

import ghostrun as gr

SEED = 0


@gr.source(sample=False)
def wines() -> pd.DataFrame:
    return dev_rows(load_wine(as_frame=True).frame)


@gr.op
def features(wines: pd.DataFrame) -> pd.DataFrame:
    """The measurements plus two ratios winemakers use."""
    df = wines.copy()
    df["phenol_ratio"] = df["flavanoids"] / df["total_phenols"]
    df["colour_per_hue"] = df["color_intensity"] / df["hue"]
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.3) -> dict:
    X = features.drop(columns=["target"])
    y = features["target"]
    X_train, X_test, y_train, y_test = bench_split(
        X, y, test_size=test_size, stratify=y, random_state=SEED
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict) -> RandomForestClassifier:
    clf = RandomForestClassifier(
        n_estimators=50, max_depth=3, min_samples_leaf=5, random_state=SEED, n_jobs=1
    )
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="min")
def logloss(model: RandomForestClassifier, split: dict) -> float:
    proba = model.predict_proba(split["X_test"])
    return float(log_loss(split["y_test"], proba, labels=model.classes_))


@gr.metric(goal="max")
def accuracy(model: RandomForestClassifier, split: dict) -> float:
    return float(accuracy_score(split["y_test"], model.predict(split["X_test"])))
