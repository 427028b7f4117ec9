"""A small real project for the cluster tests: LightGBM on a few thousand rows whose label
needs an interaction of two columns, with `num_leaves=2` planted (stumps cannot learn it).

The features come from a project module (`helpers.py`), so a worker that did not get the
project's modules cannot even import the workflow. `pause` seconds of sleep in the model
make a trial last long enough to be cancelled or to lose its worker mid-run.
"""

from __future__ import annotations

from pathlib import Path

PIPELINE = """\
import time

import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score

from helpers import feature_columns


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def split(raw: pd.DataFrame) -> dict:
    n = len(raw) * 2 // 3
    X, y = raw[feature_columns()], raw["y"]
    return {"X_train": X[:n], "y_train": y[:n], "X_test": X[n:], "y_test": y[n:]}


@gr.op
def model(split: dict):
    time.sleep(PAUSE)
    clf = LGBMClassifier(num_leaves=2, n_estimators=30, learning_rate=0.1, verbose=-1,
                         n_jobs=1, random_state=0)
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="max")
def auc(model, split: dict) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))
"""

HELPERS = """\
def feature_columns() -> list[str]:
    return ["a", "b", "c"]
"""


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, rows))
    y = ((a * b > 0) ^ (rng.random(rows) < 0.1)).astype(int)  # an interaction, 10% flipped
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"a": a, "b": b, "c": c, "y": y}).to_csv(path, index=False)


def make_project(root: Path, *, rows: int = 2000, pause: float = 0.0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE.replace("PAUSE", repr(pause)))
    (root / "helpers.py").write_text(HELPERS)
    write_table(root / "data" / "table.csv", rows)
    return root
