"""Has she had an affair? Gradient boosting on the 1974 Redbook survey of married women.

statsmodels' bundled `fair` data (6,366 women: marriage rating, age, years married,
children, religiousness, education, her and her husband's occupation). The label is any
time spent in extramarital affairs (`affairs > 0`, a third of the women). A first draft
with LightGBM's usual settings. Primary metric: AUC on a stratified validation split
(goal "max"); log loss alongside.
"""

from __future__ import annotations

import pandas as pd
from benchrows import bench_split, dev_rows
from lightgbm import LGBMClassifier
from sklearn.metrics import log_loss, roc_auc_score
from statsmodels.datasets import fair

import ghostrun as gr

SEED = 0
TARGET = "had_affair"


@gr.source
def women() -> pd.DataFrame:
    frame = fair.load_pandas().data
    frame[TARGET] = (frame.pop("affairs") > 0).astype(int)
    return dev_rows(frame)


@gr.op
def features(women: pd.DataFrame, marriage_ratios: bool = True) -> pd.DataFrame:
    """The answers plus when she married and how fast the children came."""
    df = women.copy()
    if marriage_ratios:
        df["age_at_marriage"] = df["age"] - df["yrs_married"]
        df["children_per_year"] = df["children"] / (df["yrs_married"] + 1.0)
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> dict:
    X = features.drop(columns=[TARGET])
    y = features[TARGET]
    X_train, X_test, y_train, y_test = bench_split(
        X, y, test_size=test_size, stratify=y, random_state=SEED
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict) -> LGBMClassifier:
    clf = LGBMClassifier(
        n_estimators=200, learning_rate=0.1, num_leaves=31, min_child_samples=20,
        random_state=SEED, n_jobs=1, verbose=-1,
    )  # fmt: skip
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="max")
def auc(model: LGBMClassifier, split: dict) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))


@gr.metric(goal="min")
def logloss(model: LGBMClassifier, split: dict) -> float:
    proba = model.predict_proba(split["X_test"])
    return float(log_loss(split["y_test"], proba, labels=model.classes_))
