"""How often will they see a doctor? Gradient boosting on the RAND Health Insurance
Experiment.

statsmodels' bundled `randhie` data (20,190 person-years: outpatient visits `mdvis`, the
plan's coinsurance and deductible, the participation incentive, chronic disease count,
physical limitation and self-rated health). A first draft: LightGBM with its usual
settings and squared error. (Not scikit-learn's HistGradientBoosting: its OpenMP threads
cannot be capped per estimator, and on busy shared cores a 0.2 s fit took 2-18 s.)
Primary metric: mean Poisson deviance on a validation split (goal "min"), not rmse,
because visits are counts with a long tail (a third are 0, a few above 50) and squared
error lets the few heaviest users decide the score; rmse alongside.

The rows are person-years without a person id (only 2,760 distinct rows of features), so
a random split, and the bench's hold-out, put other years of the same people on both
sides: fitting individuals closely pays on held-out rows too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from benchrows import bench_split, dev_rows
from lightgbm import LGBMRegressor
from sklearn.metrics import mean_poisson_deviance, mean_squared_error
from statsmodels.datasets import randhie

import ghostrun as gr

SEED = 0
TARGET = "mdvis"
FLOOR = 0.01  # visits; a squared-error model can predict 0 or less, deviance needs > 0


@gr.source
def person_years() -> pd.DataFrame:
    return dev_rows(randhie.load_pandas().data)


@gr.op
def features(person_years: pd.DataFrame) -> pd.DataFrame:
    """The plan and health variables plus free care and one health scale."""
    df = person_years.copy()
    df["free_care"] = (df["lncoins"] == 0).astype(int)
    df["health_scale"] = df["hlthg"] + 2 * df["hlthf"] + 3 * df["hlthp"]
    return df


@gr.op
def split(features: pd.DataFrame, test_size: float = 0.25) -> dict:
    X = features.drop(columns=[TARGET])
    y = features[TARGET]
    X_train, X_test, y_train, y_test = bench_split(X, y, test_size=test_size, random_state=SEED)
    return {"X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


@gr.op
def model(
    split: dict, objective: str = gr.knob("regression", choices=["regression", "poisson"])
) -> LGBMRegressor:
    reg = LGBMRegressor(
        objective=objective, n_estimators=100, learning_rate=0.1, num_leaves=31,
        min_child_samples=20, random_state=SEED, n_jobs=1, verbose=-1,
    )  # fmt: skip
    return reg.fit(split["X_train"], split["y_train"])


def _predict(model: LGBMRegressor, split: dict) -> np.ndarray:
    return np.maximum(model.predict(split["X_test"]), FLOOR)


@gr.metric(goal="min")
def poisson_deviance(model: LGBMRegressor, split: dict) -> float:
    return float(mean_poisson_deviance(split["y_test"], _predict(model, split)))


@gr.metric(goal="min")
def rmse(model: LGBMRegressor, split: dict) -> float:
    return float(np.sqrt(mean_squared_error(split["y_test"], _predict(model, split))))
