"""A small real project for the variant tests, and helpers to load, edit and run it.

LightGBM on a few thousand rows: `features` returns the model's table with a one-hot
`city_*` group, a noise column and the label; `split` holds the train/test frames in a
dataclass, so the DataFrame feeding the model is found through a split-like container.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from ghostrun.engine.executor import ExecutionHooks, Executor
from ghostrun.engine.results import Invocation, RunResult
from ghostrun.engine.session import Session, working_directory
from ghostrun.project import Project
from ghostrun.suggest.apply import plan_edit
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.changes import classify
from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.loader import load_workflow
from ghostrun.workflow.types import FULL
from ghostrun.workflow.version import Version, build_version

PIPELINE = '''\
"""A churn-like workflow for the variant tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import ghostrun as gr

SEED = 5


@dataclass
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def features(raw: pd.DataFrame, scale=gr.knob(1.0, low=0.25, high=4.0, log=True)) -> pd.DataFrame:
    """Numbers, an interaction, a one-hot city, and the label."""
    df = raw.copy()
    df["a"] = df["a"] * scale
    df["ab"] = df["a"] * df["b"]  # the interaction
    return pd.get_dummies(df, columns=["city"], dtype=float)


@gr.op
def split(features: pd.DataFrame, test_size=0.3) -> Split:
    X = features.drop(columns=["y"])
    X_train, X_test, y_train, y_test = train_test_split(
        X, features["y"], test_size=test_size, random_state=SEED, stratify=features["y"]
    )
    return Split(X_train, X_test, y_train, y_test)


@gr.op
def model(split: Split, num_leaves=gr.knob(15, low=4, high=64, log=True)):
    clf = LGBMClassifier(
        num_leaves=num_leaves,
        n_estimators=40,  # small on purpose
        learning_rate=0.1,
        min_child_samples=10,
        random_state=SEED,
        n_jobs=1,
        verbose=-1,
    )
    return clf.fit(split.X_train, split.y_train)


@gr.metric(goal="max")
def auc(model, split: Split) -> float:
    return float(roc_auc_score(split.y_test, model.predict_proba(split.X_test)[:, 1]))
'''

CITY = ["north", "south", "east", "west_end"]


def write_table(path: Path, rows: int = 3000, seed: int = 0) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    a, b, noise = rng.normal(size=(3, rows))
    city = rng.choice(CITY, size=rows)
    signal = a + 0.8 * b + 0.6 * a * b + np.where(city == "north", 0.7, 0.0)
    y = (signal + rng.normal(scale=1.0, size=rows) > 0).astype(int)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"a": a, "b": b, "noise": noise, "city": city, "y": y})
    frame.to_csv(path, index=False)


def make_project(root: Path, pipeline: str = PIPELINE) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(pipeline)
    write_table(root / "data" / "table.csv")
    return root


def project_dir(tmp_path: Path, pipeline: str = PIPELINE) -> Iterator[Path]:
    """For a fixture: the project, and its modules forgotten afterwards. Estimators get one
    thread: OpenMP's spinning threads crawl on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield make_project(tmp_path / "proj", pipeline)
    forget(tmp_path)


def forget(tmp_path: Path) -> None:
    """Drop the test's modules and sys.path entries: the next test's `pipeline` is its own."""
    folder = str(tmp_path.resolve())
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(folder):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not p.startswith(folder)]


def load(root: Path) -> Workflow:
    return load_workflow(root / "pipeline.py", root)


def version_id(workflow: Workflow) -> str:
    return build_version(workflow).version_id


def apply_edits(workflow: Workflow, variant: Variant) -> None:
    for edit in plan_edit(workflow, variant):
        edit.write()


def run_user(session: Session) -> Invocation:
    """What `ghostrun run --full` does."""
    invocation = session.prepare(session.load())
    session.run_stage(invocation)
    return invocation


def run_variant(session: Session, base: Version, variant: Variant) -> tuple[Version, RunResult]:
    """A full explore run of the variant overlay, as the explorer records one."""
    overlaid = variant.apply_to(base.workflow)
    version = build_version(overlaid, FileHasher(session.history))
    session.history.save_version(version.snapshot(), workflow_path=overlaid.relpath)
    invocation = Invocation(
        version=version,
        parent_id=base.version_id,
        changes=classify(base.snapshot(), version.snapshot()),
    )
    return version, session.execute(invocation, FULL, kind="explore")


def values(session: Session, version: Version, *targets: str) -> dict[str, object]:
    """The targets' values for `version` (loaded from the cache, or computed)."""
    hooks = ExecutionHooks(should_store=lambda op, seconds, nbytes: False)
    with working_directory(session.project.root):
        return Executor(version, session.cache, FULL, hooks).run(targets).values


def open_session(root: Path, *, quick: bool = False) -> Session:
    return Session(Project.open(root), quick=quick)
