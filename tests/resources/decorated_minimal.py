"""A four-operator ghostrun workflow for engine tests: fast, numpy and pandas only.

`points` (source, 20,000 rows: enough to be sampled) → `design` → `fit` → `mse`
(metric, goal "min"). Deterministic: the data comes from a fixed seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import ghostrun as gr

N_ROWS = 20_000
SEED = 1
TRUE_COEF = np.array([1.5, -2.0, 0.5])


@gr.source
def points() -> pd.DataFrame:
    """Noisy samples of a cubic curve in x plus two linear terms."""
    rng = np.random.default_rng(SEED)
    x = rng.uniform(-2.0, 2.0, (N_ROWS, 3))
    y = x @ TRUE_COEF + 0.3 * x[:, 0] ** 3 + rng.normal(0.0, 0.5, N_ROWS)
    return pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "y": y})


@gr.op
def design(points: pd.DataFrame, degree: int = gr.knob(1, low=1, high=4)) -> pd.DataFrame:
    """Polynomial terms of x0 up to `degree`, plus the other columns and an intercept."""
    out = points.drop(columns=["x0"]).assign(intercept=1.0)
    for power in range(1, degree + 1):
        out[f"x0^{power}"] = points["x0"] ** power
    return out


@gr.op
def fit(design: pd.DataFrame,
        ridge: float = gr.knob(0.1, low=1e-4, high=100.0, log=True)) -> np.ndarray:
    """Ridge-regularised least squares on every column but `y`."""
    X = design.drop(columns=["y"]).to_numpy()
    gram = X.T @ X + ridge * np.eye(X.shape[1])
    return np.linalg.solve(gram, X.T @ design["y"].to_numpy())


@gr.metric(goal="min")
def mse(fit: np.ndarray, design: pd.DataFrame) -> float:
    residual = design["y"].to_numpy() - design.drop(columns=["y"]).to_numpy() @ fit
    return float(np.mean(residual**2))
