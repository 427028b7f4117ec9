"""Wine cultivar classification as an Apache Hamilton dataflow (no ghostrun decorators).

Self-contained (data from `sklearn.datasets.load_wine`). Parameters with defaults
(`test_fraction`, `regularization`, `random_seed`) are optional inputs in Hamilton and
knobs in ghostrun. `test_accuracy` and `test_log_loss` are the scores.
"""

import numpy as np
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


def wine_data() -> pd.DataFrame:
    """178 wines, 13 chemical measurements, cultivar 0/1/2 in `target`."""
    return load_wine(as_frame=True).frame


def target(wine_data: pd.DataFrame) -> pd.Series:
    return wine_data["target"]


def feature_matrix(wine_data: pd.DataFrame) -> pd.DataFrame:
    """Measurements plus two ratios winemakers use to tell cultivars apart."""
    X = wine_data.drop(columns=["target"])
    X["phenol_ratio"] = X["flavanoids"] / X["total_phenols"]
    X["color_per_hue"] = X["color_intensity"] / X["hue"]
    return X


def train_test(
    feature_matrix: pd.DataFrame,
    target: pd.Series,
    test_fraction: float = 0.3,
    random_seed: int = 5,
) -> dict:
    """Stratified split as a dict of X_train, X_test, y_train, y_test."""
    X_train, X_test, y_train, y_test = train_test_split(
        feature_matrix, target, test_size=test_fraction,
        stratify=target, random_state=random_seed,
    )
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


def fitted_model(train_test: dict, regularization: float = 1.0) -> Pipeline:
    """Standardise, then a multinomial logistic regression."""
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=500))
    return pipe.fit(train_test["X_train"], train_test["y_train"])


def test_probabilities(fitted_model: Pipeline, train_test: dict) -> np.ndarray:
    return fitted_model.predict_proba(train_test["X_test"])


def test_accuracy(test_probabilities: np.ndarray, train_test: dict) -> float:
    predicted = test_probabilities.argmax(axis=1)
    return float(accuracy_score(train_test["y_test"], predicted))


def test_log_loss(test_probabilities: np.ndarray, train_test: dict) -> float:
    return float(log_loss(train_test["y_test"], test_probabilities, labels=[0, 1, 2]))
