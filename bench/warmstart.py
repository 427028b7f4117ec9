"""Warm starts measured end to end: how long a run takes after a boosting budget grew.

A generated table and a small project (source, split, model, metric) are run once at the
old budget; then the budget grows and the same project runs again (the model continues
from the stored one), and a copy of the edited project runs in a fresh folder (training
from scratch). Prints the model operator's and the whole run's seconds, the ratio, and
whether the metrics are equal (they must be).

    python bench/warmstart.py                       # RandomForest 200 → 400 trees, 100k rows
    python bench/warmstart.py --model hgb --old 200 --new 400
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from ghostrun.engine.results import Invocation
from ghostrun.engine.session import Session
from ghostrun.project import Project

MODELS = {
    "rf": "RandomForestClassifier(n_estimators={n}, random_state=0, n_jobs=-1)",
    "et": "ExtraTreesClassifier(n_estimators={n}, random_state=0, n_jobs=-1)",
    "gb": "GradientBoostingClassifier(n_estimators={n}, random_state=0)",
    "hgb": "HistGradientBoostingClassifier(max_iter={n}, random_state=0, early_stopping=False)",
    "xgb": "XGBClassifier(n_estimators={n}, random_state=0)",
}

PIPELINE = """\
import ghostrun as gr
import pandas as pd
from sklearn.ensemble import (ExtraTreesClassifier, GradientBoostingClassifier,
                              HistGradientBoostingClassifier, RandomForestClassifier)
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier


@gr.source
def raw(path="data/table.parquet") -> pd.DataFrame:
    return pd.read_parquet(path)


@gr.op
def split(raw: pd.DataFrame) -> dict:
    n = len(raw) * 4 // 5
    X, y = raw.drop(columns="y"), raw["y"]
    return {{"X": X[:n], "y": y[:n], "X_test": X[n:], "y_test": y[n:]}}


@gr.op
def model(split: dict):
    return {model}.fit(split["X"], split["y"])


@gr.metric(goal="max")
def auc(model, split) -> float:
    return float(roc_auc_score(split["y_test"], model.predict_proba(split["X_test"])[:, 1]))
"""


def make_project(root: Path, rows: int, model: str, budget: int) -> None:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE.format(model=MODELS[model].format(n=budget)))
    X, y = make_classification(rows, 20, n_informative=10, flip_y=0.05, random_state=0)
    frame = pd.DataFrame(X.astype(np.float64), columns=[f"x{i}" for i in range(20)]).assign(y=y)
    (root / "data").mkdir()
    frame.to_parquet(root / "data" / "table.parquet")


def run(root: Path) -> tuple[Invocation, float, float]:
    """The invocation, wall seconds and CPU seconds (all threads: work done, whatever else
    the machine is busy with)."""
    started, cpu = time.perf_counter(), time.process_time()
    with Session(Project.open(root)) as session:
        invocation = session.prepare(session.load())
        session.run_stage(invocation)
    return invocation, time.perf_counter() - started, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="rf")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--old", type=int, default=200)
    parser.add_argument("--new", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        make_project(root, args.rows, args.model, args.old)
        _, first, _ = run(root)
        path = root / "pipeline.py"
        old, new = MODELS[args.model].format(n=args.old), MODELS[args.model].format(n=args.new)
        path.write_text(path.read_text().replace(old, new))
        warm, warm_total, warm_cpu = run(root)
        scratch_root = Path(tmp) / "scratch"
        shutil.copytree(root, scratch_root, ignore=shutil.ignore_patterns(".ghostrun"))
        scratch, scratch_total, scratch_cpu = run(scratch_root)
    w, s = warm.last.outcomes["model"], scratch.last.outcomes["model"]
    equal = warm.last.metrics == scratch.last.metrics
    print(f"{args.model} {args.old} → {args.new} on {args.rows:,} rows (first run {first:.1f} s)")
    print(
        f"  warm start:   model {w.seconds:7.2f} s   run {warm_total:7.2f} s   "
        f"cpu {warm_cpu:7.2f} s   ({w.warm_start})"
    )
    print(
        f"  from scratch: model {s.seconds:7.2f} s   run {scratch_total:7.2f} s   "
        f"cpu {scratch_cpu:7.2f} s"
    )
    print(
        f"  ratio (warm / scratch): model {w.seconds / s.seconds:.2f}   "
        f"run {warm_total / scratch_total:.2f}   cpu {warm_cpu / scratch_cpu:.2f}"
    )
    print(f"  metrics equal: {equal}  {warm.last.metrics}")
    return 0 if equal and w.warm_start == "exact" else 1


if __name__ == "__main__":
    sys.exit(main())
