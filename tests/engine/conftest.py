"""A small real project on disk, and helpers to edit it and run it like a user would."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostrun.engine.results import Invocation
from ghostrun.engine.session import Session
from ghostrun.project import Project

PIPELINE = """\
import ghostrun as gr
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from helpers import scale

CLIP = 3.0


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def features(raw: pd.DataFrame, power=gr.knob(1, low=1, high=3)) -> pd.DataFrame:
    X = raw[["a", "b", "c"]] ** power
    return scale(X).clip(-CLIP, CLIP)


@gr.op
def labels(raw: pd.DataFrame) -> pd.Series:
    return raw["y"]


@gr.op
def model(features, labels):
    n = len(features) * 2 // 3
    return LogisticRegression(C=1.0, max_iter=200).fit(features[:n], labels[:n])


@gr.metric(goal="max")
def auc(model, features, labels) -> float:
    n = len(features) * 2 // 3
    return float(roc_auc_score(labels[n:], model.predict_proba(features[n:])[:, 1]))
"""

HELPERS = """\
def scale(frame):
    return (frame - frame.mean()) / frame.std()
"""


def write_table(path: Path, seed: int = 0, rows: int = 3000) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, rows))
    y = (a + 0.5 * b - 0.3 * c + rng.normal(scale=1.0, size=rows) > 0).astype(int)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"a": a, "b": b, "c": c, "y": y}).to_csv(path, index=False)


class ProjectDir:
    """A user's project folder: edit files, run, and run from scratch to compare."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> None:
        (self.root / name).write_text(textwrap.dedent(text))

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.root / name
        text = path.read_text()
        if old not in text:
            raise ValueError(f"{old!r} not in {name}")
        path.write_text(text.replace(old, new, 1))

    def run(self) -> Invocation:
        with Session(Project.open(self.root)) as session:
            invocation = session.prepare(session.load())
            session.run_stage(invocation)
            return invocation

    def run_from_scratch(self, tmp: Path) -> Invocation:
        """The same files in a fresh folder with no history and no cache."""
        clone = tmp / f"scratch-{len(list(tmp.iterdir()))}"
        shutil.copytree(self.root, clone, ignore=shutil.ignore_patterns(".ghostrun"))
        return ProjectDir(clone).run()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[ProjectDir]:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE)
    (root / "helpers.py").write_text(HELPERS)
    write_table(root / "data" / "table.csv")
    yield ProjectDir(root)


def states(invocation: Invocation) -> dict[str, str]:
    return {name: o.state for name, o in invocation.last.outcomes.items()}


def changes(invocation: Invocation) -> dict[str, str]:
    return {c.op: c.change.value for c in invocation.changes}
