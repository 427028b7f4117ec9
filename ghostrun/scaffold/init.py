"""`ghostrun init`: write the configuration, and optionally a starter workflow.

Never overwrites: an existing configuration or `pipeline.py` is left as it is and named.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ghostrun.config import CONFIG_FILE, Settings, config_file

STARTER_PIPELINE = '''\
"""A starter ghostrun workflow: each function is an operator, parameters are edges."""

import ghostrun as gr
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split


@gr.source
def raw() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@gr.op
def features(raw: pd.DataFrame, clip=gr.knob(3.0, low=1.0, high=10.0)) -> pd.DataFrame:
    X = raw.drop(columns="target")
    z = (X - X.mean()) / X.std()
    return z.clip(-clip, clip).assign(target=raw["target"])


@gr.op
def split(features: pd.DataFrame, test_size=0.3):
    X, y = features.drop(columns="target"), features["target"]
    return train_test_split(X, y, test_size=test_size, random_state=0, stratify=y)


@gr.op
def model(split):
    X_train, _, y_train, _ = split
    clf = LGBMClassifier(num_leaves=15, learning_rate=0.05, n_estimators=200, verbose=-1)
    return clf.fit(X_train, y_train)


@gr.metric(goal="max")
def auc(model, split) -> float:
    _, X_test, _, y_test = split
    return float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
'''


def init_project(root: Path, settings: Settings, *, example: bool = False) -> Iterator[str]:
    """Yield one line per thing done or left alone."""
    existing = config_file(root)
    if existing is not None:
        yield f"Configuration already in {existing.name}; left as it is."
    else:
        yield _write_config(root, settings)
    if example:
        yield _write_example(root / settings.workflow)
    yield "Next: `ghostrun run` runs the workflow; run it again after each edit."


def _write_config(root: Path, settings: Settings) -> str:
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        text = pyproject.read_text(encoding="utf-8")
        separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        pyproject.write_text(text + separator + settings.to_toml_text(), encoding="utf-8")
        return "Added [tool.ghostrun] to pyproject.toml."
    (root / CONFIG_FILE).write_text(settings.to_toml_text(table=None), encoding="utf-8")
    return f"Wrote {CONFIG_FILE}."


def _write_example(path: Path) -> str:
    if path.exists():
        return f"{path.name} exists; left as it is."
    path.write_text(STARTER_PIPELINE, encoding="utf-8")
    return f"Wrote a starter {path.name} (breast-cancer data that scikit-learn ships)."
