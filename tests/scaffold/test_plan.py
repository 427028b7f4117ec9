"""`ghostrun init --from`'s reading of realistic scripts: operators, their inputs, knobs.

Each case is one fixture script in `scripts/` and what a person converting it by hand
would name: which blocks become sources, ops and metrics, which variables each takes from
which earlier operator, and which literals become knobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ghostrun.scaffold.from_script import analyse_script
from ghostrun.scaffold.plan import Plan
from tests.scaffold._data import SCRIPTS

Inputs = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Case:
    script: str
    ops: dict[str, tuple[str, Inputs]]  # operator -> (kind, {input operator: variables})
    knobs: dict[str, dict[str, object]]  # operator -> {knob name: value}
    metrics: tuple[tuple[str, str], ...]  # (name, goal), primary first
    left_out: tuple[int, ...] = ()  # lines left out of the workflow
    copies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warns: tuple[str, ...] = ()  # words the warnings must contain


LGBM = "LGBMClassifier."
CASES = [
    Case(
        "churn_lgbm.py",
        ops={
            "churn": ("source", {}),
            "features": ("op", {"churn": ("df",)}),
            "split": ("op", {"features": ("X", "y")}),
            "model": ("op", {"split": ("X_train", "y_train")}),
            "preds": ("op", {"model": ("model",), "split": ("X_test",)}),
            "auc": ("metric", {"split": ("y_test",), "preds": ("preds",)}),
        },
        knobs={
            "churn": {"path": "data/churn.csv"},
            "features": {"n_bins": 8},
            "split": {"test_size": 0.25},
            "model": {LGBM + "n_estimators": 120, LGBM + "learning_rate": 0.05,
                      LGBM + "num_leaves": 31, LGBM + "min_child_samples": 20,
                      LGBM + "n_jobs": 1, LGBM + "verbose": -1},
        },
        metrics=(("auc", "max"),),
        left_out=(12, 13),
        copies={"features": ("df",)},
    ),
    Case(
        "houses_pipeline.py",
        ops={
            "houses": ("source", {}),
            "districts": ("source", {}),
            "features": ("op", {"houses": ("houses",), "districts": ("extra",)}),
            "split": ("op", {"features": ("houses",)}),
            "model": ("op", {"split": ("train",)}),
            "pred": ("op", {"model": ("pipe",), "split": ("test",)}),
            "rmse": ("metric", {"split": ("test",), "pred": ("pred",)}),
            "mae": ("metric", {"split": ("test",), "pred": ("pred",)}),
        },
        knobs={
            "houses": {"path": "data/houses.csv"},
            "districts": {"path": "data/districts.csv"},
            "split": {"test_size": 0.2},
            "model": {"SimpleImputer.strategy": "median", "OneHotEncoder.handle_unknown": "ignore",
                      "Ridge.alpha": 1.0},
        },
        metrics=(("rmse", "min"), ("mae", "min")),
        left_out=(38,),
        copies={"features": ("houses",)},
    ),
    Case(
        "houses_functions.py",
        ops={
            "houses": ("source", {}),
            "features": ("op", {"houses": ("df",)}),
            "split": ("op", {"features": ("X", "y")}),
            "model": ("op", {"split": ("X_train", "y_train")}),
            "validation_rmse": ("metric", {"model": ("model",), "split": ("X_valid", "y_valid")}),
        },
        knobs={
            "houses": {"path": "data/houses.csv"},
            "features": {"min_rooms": 1},
            "split": {"test_size": 0.3},
            "model": {"n_estimators": 60, "max_depth": 8},
        },
        metrics=(("validation_rmse", "min"),),
        warns=("train_model", "RandomForestRegressor"),
    ),
    Case(
        "churn_xgb_cv.py",
        ops={
            "churn": ("source", {}),
            "prepared": ("op", {"churn": ("train",)}),
            "oof": ("op", {"churn": ("train",), "prepared": ("features", "oof")}),
            "oof_auc": ("metric", {"churn": ("train",), "oof": ("oof",)}),
        },
        knobs={
            "churn": {"path": "data/churn.csv"},
            "oof": {"StratifiedKFold.n_splits": 4, "StratifiedKFold.shuffle": True,
                    "StratifiedKFold.random_state": 0, "XGBClassifier.n_estimators": 80,
                    "XGBClassifier.max_depth": 4, "XGBClassifier.learning_rate": 0.1,
                    "XGBClassifier.n_jobs": 1},
        },
        metrics=(("oof_auc", "max"),),
        copies={"oof": ("oof",)},
    ),
]


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {case.script: analyse_script(SCRIPTS / case.script) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.script)
def test_operators_and_their_inputs(case: Case, plans: dict[str, Plan]) -> None:
    plan = plans[case.script]
    found = {s.name: (s.kind, {i.op: i.names for i in s.inputs}) for s in plan.steps}
    assert found == case.ops
    assert [s.name for s in plan.steps] == list(case.ops)  # in the script's order


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.script)
def test_knobs(case: Case, plans: dict[str, Plan]) -> None:
    plan = plans[case.script]
    found = {s.name: {k.name: k.value for k in s.knobs} for s in plan.steps if s.knobs}
    assert found == case.knobs
    for step in plan.steps:
        assert {p.name for p in step.params} == {
            k.name for k in step.knobs if k.kind != "implicit"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.script)
def test_metrics_left_out_copies_and_warnings(case: Case, plans: dict[str, Plan]) -> None:
    plan = plans[case.script]
    assert tuple((m.name, m.goal) for m in plan.metrics) == case.metrics
    assert tuple(n.line for n in plan.left_out) == case.left_out
    assert {s.name: s.copies for s in plan.steps if s.copies} == case.copies
    text = " ".join(plan.warnings)
    assert all(word in text for word in case.warns), plan.warnings
    if not case.warns:
        assert plan.warnings == ()


def test_seeds_stay_module_constants(plans: dict[str, Plan]) -> None:
    (seed,) = plans["churn_lgbm.py"].constants
    assert (seed.name, seed.value) == ("SEED", 42)
    assert "seed" in seed.origin


def write(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_script_without_metric_or_data_says_what_is_missing(tmp_path: Path) -> None:
    plan = analyse_script(write(tmp_path, (
        "import numpy as np\n"
        "x = np.arange(10)\n"
        "y = x * 2\n"
    )))
    assert [s.name for s in plan.steps] == ["features"]
    text = " ".join(plan.warnings)
    assert "No metric found" in text and "@gr.source" in text


def test_metric_printed_with_format_and_a_name_of_its_own(tmp_path: Path) -> None:
    plan = analyse_script(write(tmp_path, (
        "import pandas as pd\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import accuracy_score, log_loss\n"
        "df = pd.read_parquet('table.parquet')\n"
        "clf = LogisticRegression(C=0.5).fit(df[['a']], df['y'])\n"
        "print('acc = {:.3f}'.format(accuracy_score(df['y'], clf.predict(df[['a']]))))\n"
        "print('%.4f' % log_loss(df['y'], clf.predict_proba(df[['a']])))\n"
    )))
    assert [(m.name, m.goal) for m in plan.metrics] == [("acc", "max"), ("logloss", "min")]
    assert plan.metrics[0].value == "accuracy_score(df['y'], clf.predict(df[['a']]))"
    assert plan.step("model").knobs[0].name == "LogisticRegression.C"
    assert plan.step("table").inputs == ()
