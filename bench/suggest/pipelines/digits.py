"""Which digit? LightGBM on 8×8 images of handwritten digits.

scikit-learn's digits data (1,797 images, 64 pixel intensities each). A first draft with
a library's usual settings. Primary metric: multi-class log loss on a stratified
validation split (goal "min"); accuracy alongside.
"""

from __future__ import annotations

import pandas as pd
from benchrows import bench_split, dev_rows
from lightgbm import LGBMClassifier
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, log_loss

import ghostrun as gr

SEED = 0


@gr.source(sample=False)
def images() -> pd.DataFrame:
    return dev_rows(load_digits(as_frame=True).frame)


@gr.op
def features(images: pd.DataFrame) -> pd.DataFrame:
    """Pixels plus ink per row band, a cheap shape summary."""
    df = images.copy()
    pixels = [c for c in df.columns if c.startswith("pixel_")]
    for band in range(4):
        rows = [c for c in pixels if int(c.split("_")[1]) in (2 * band, 2 * band + 1)]
        df[f"ink_band{band}"] = df[rows].sum(axis=1)
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> dict:
    X = features.drop(columns=["target"])
    y = features["target"]
    X_train, X_test, y_train, y_test = bench_split(
        X, y, test_size=test_size, stratify=y, random_state=SEED
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(split: dict) -> LGBMClassifier:
    clf = LGBMClassifier(
        n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
        random_state=SEED, n_jobs=1, verbose=-1,
    )  # fmt: skip
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="min")
def logloss(model: LGBMClassifier, split: dict) -> float:
    proba = model.predict_proba(split["X_test"])
    return float(log_loss(split["y_test"], proba, labels=model.classes_))


@gr.metric(goal="max")
def accuracy(model: LGBMClassifier, split: dict) -> float:
    return float(accuracy_score(split["y_test"], model.predict(split["X_test"])))
