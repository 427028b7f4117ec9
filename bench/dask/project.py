"""The bench's project: LightGBM on synthetic rows whose label needs an interaction, with
`num_leaves=2` planted, so exploration has a clear improvement to find and confirm."""

from __future__ import annotations

from pathlib import Path

PIPELINE = """\
import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def features(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.drop(columns=["y"])
    out["ab"] = out["a"] - out["b"]
    return out


@gr.op
def split(features: pd.DataFrame, raw: pd.DataFrame) -> dict:
    n = len(raw) * 2 // 3
    y = raw["y"]
    return {"X_train": features[:n], "y_train": y[:n], "X_test": features[n:], "y_test": y[n:]}


@gr.op
def model(split: dict):
    clf = LGBMClassifier(num_leaves=2, n_estimators=120, learning_rate=0.1, min_child_samples=20,
                         verbose=-1, n_jobs=1, random_state=0)
    return clf.fit(split["X_train"], split["y_train"])


@gr.metric(goal="max")
def auc(model, split: dict) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))
"""


def make_project(root: Path, rows: int, seed: int = 0) -> Path:
    import numpy as np
    import pandas as pd

    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE)
    rng = np.random.default_rng(seed)
    cols = rng.normal(size=(8, rows))
    a, b = cols[0], cols[1]
    y = ((a * b > 0) ^ (rng.random(rows) < 0.15)).astype(int)
    frame = pd.DataFrame({name: col for name, col in zip("abcdefgh", cols, strict=True)})
    frame["y"] = y
    (root / "data").mkdir(exist_ok=True)
    frame.to_csv(root / "data" / "table.csv", index=False)
    return root
