"""Warm starts: continuing a fitted model must give exactly what training from scratch gives.

Every identity test fits an old model, stores it in a real result store (so it goes through
pickling as in a real run), continues from it through `FitTracker` (the code path a run
uses) and compares the result with a model trained from scratch: the whole fitted state
field by field (arrays bitwise), and predictions bitwise. The negative cases show where a
library's continuation is not the same model, which is why those are refused or marked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import has_fit_parameter
from threadpoolctl import threadpool_limits

from ghostrun.engine.executor import Executor
from ghostrun.engine.session import Session, working_directory
from ghostrun.engine.warmstart import FitTracker, WarmStarts, approximate_key
from ghostrun.project import Project
from ghostrun.reuse.cache import ResultCache
from ghostrun.reuse.digest import digest
from ghostrun.reuse.store import Store
from ghostrun.workflow.types import FULL

from .conftest import ProjectDir, changes, states


@pytest.fixture(autouse=True)
def _one_openmp_thread() -> Iterator[None]:
    """scikit-learn, LightGBM and XGBoost each bring an OpenMP runtime; their idle threads
    spin against each other on a small machine and make fits many times slower."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# --- comparing fitted models --------------------------------------------------------------


def _norm(obj: Any, depth: int = 0) -> Any:
    """A comparable form of an object's whole state: arrays as bytes (structured arrays
    field by field, so padding bytes do not count), objects through their pickle reduction
    (so which objects share a dtype or a random generator does not count)."""
    if depth > 60:
        raise RecursionError("too deep")
    for kinds, rule in _RULES:
        if isinstance(obj, kinds):
            return rule(obj, depth + 1)
    if isinstance(obj, type) or callable(obj) and not hasattr(obj, "__getstate__"):
        return ("ref", getattr(obj, "__module__", ""), getattr(obj, "__qualname__", repr(obj)))
    reduced = obj.__reduce_ex__(4)
    return ("obj", type(obj).__qualname__, _norm(list(reduced[1:3]), depth + 1))


def _norm_array(a: np.ndarray, depth: int) -> Any:
    if a.dtype.names:
        return ("rec", a.shape, {n: _norm(a[n], depth) for n in a.dtype.names})
    if a.dtype == object:
        return ("obj", a.shape, [_norm(x, depth) for x in a.ravel()])
    return ("nd", a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())


_RULES: list[tuple[Any, Callable[[Any, int], Any]]] = [
    (type(None) | bool | int | str | bytes, lambda o, d: o),
    (float, lambda o, d: ("float", o.hex() if math.isfinite(o) else repr(o))),
    (bytearray, lambda o, d: bytes(o)),
    (np.ndarray, _norm_array),
    (np.generic, lambda o, d: ("np", o.dtype.str, o.tobytes())),
    (list | tuple, lambda o, d: [type(o).__name__, *(_norm(x, d) for x in o)]),
    (dict, lambda o, d: {repr(k): _norm(v, d) for k, v in o.items()}),
    (np.random.RandomState, lambda o, d: ("rs", _norm(o.get_state(), d))),
]


def _diff(a: Any, b: Any, path: str = "") -> Iterator[str]:
    if type(a) is not type(b):
        yield f"{path}: {type(a).__name__} != {type(b).__name__}"
    elif isinstance(a, dict):
        for k in sorted({*a, *b}):
            yield from _diff(a.get(k), b.get(k), f"{path}.{k}")
    elif isinstance(a, list | tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {str(a)[:80]} != {str(b)[:80]}"


def model_differences(a: Any, b: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """Where two models' states differ (first five), leaving out attributes in `ignore`
    at any depth."""
    found = _diff(_norm(vars(a)), _norm(vars(b)))
    return [d for d in found if not any(f"'{name}'" in d.split(":")[0] for name in ignore)][:5]


def predictions(model: Any, X: Any) -> np.ndarray:
    if isinstance(model, xgb.XGBModel | lgb.LGBMModel):
        return np.asarray(model.predict(X, output_margin=True) if isinstance(model, xgb.XGBModel)
                          else model.predict(X, raw_score=True))  # fmt: skip
    return np.asarray(
        model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    )


# --- data and the fit path of a real run ----------------------------------------------------


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "cancer":
        return load_breast_cancer(return_X_y=True)
    if name == "diabetes":
        return load_diabetes(return_X_y=True)
    X, y = make_classification(3000, 12, n_informative=6, n_classes=3, random_state=1)
    return X, y


class Runs:
    """Fits "an operator" under a FitTracker and stores its output, as the executor does."""

    def __init__(self, root: Path):
        self.cache = ResultCache(Store(root / "cache"))
        self.count = 0

    def fit(
        self, fit: Callable[[], Any], *, parent: str | None = None, approximate: bool = False
    ) -> tuple[Any, FitTracker, str]:
        self.count += 1
        key = f"{self.count:032x}"
        with FitTracker("model", self.cache, parent, approximate, active=True) as tracker:
            value = fit()
        self.cache.save(key, value, digest(value), op="model", seconds=1.0, persist=True)
        tracker.save_records(key, value, seconds=1.0, persist=True)
        return value, tracker, key


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return Runs(tmp_path)


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[int], Any]
    data: str
    old: int
    new: int
    weighted: bool = False

    def fit(self, budget: int) -> Any:
        X, y = _data(self.data)
        weight = {"sample_weight": np.linspace(0.5, 2.0, len(y))} if self.weighted else {}
        return self.make(budget).fit(X, y, **weight)


HGB, HGBR, GB = (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    GradientBoostingClassifier,
)
EXACT = [
    Case("rf-cancer", lambda n: RandomForestClassifier(n, random_state=0), "cancer", 10, 25),
    Case("rf-oob-balanced-subsample-max-samples-2-jobs",
         lambda n: RandomForestClassifier(n, random_state=3, oob_score=True, n_jobs=2,
                                          class_weight="balanced_subsample", max_samples=0.5),
         "classes", 15, 30),
    Case("extra-trees-bootstrap-oob", lambda n: ExtraTreesRegressor(
        n, random_state=1, bootstrap=True, oob_score=True), "diabetes", 20, 40),
    Case("rf-regressor-weighted", lambda n: RandomForestRegressor(
        n, random_state=0, max_features=0.5), "diabetes", 10, 20, weighted=True),
    Case("gb-cancer", lambda n: GB(n_estimators=n, random_state=0), "cancer", 20, 40),
    Case("gb-init-zero", lambda n: GB(n_estimators=n, random_state=0, init="zero"), "cancer",
         10, 30),
    Case("gb-subsample-max-features", lambda n: GB(
        n_estimators=n, random_state=0, subsample=0.7, max_features=0.5), "classes", 10, 25),
    Case("gb-regressor-huber-subsample-weighted", lambda n: GradientBoostingRegressor(
        n_estimators=n, random_state=0, loss="huber", subsample=0.8), "diabetes", 20, 50,
         weighted=True),
    Case("hgb-3-classes-feature-subsample", lambda n: HGB(
        max_iter=n, random_state=0, early_stopping=False, max_features=0.5), "classes", 10, 25),
    Case("hgb-regressor-auto-early-stopping-off", lambda n: HGBR(max_iter=n, random_state=0),
         "diabetes", 20, 50, weighted=True),
    Case("xgb-cancer", lambda n: xgb.XGBClassifier(n_estimators=n, n_jobs=2), "cancer", 10, 25),
    Case("xgb-3-classes-depth-4", lambda n: xgb.XGBClassifier(
        n_estimators=n, max_depth=4, random_state=7), "classes", 10, 20),
    Case("xgb-regressor-weighted", lambda n: xgb.XGBRegressor(n_estimators=n), "diabetes",
         10, 20, weighted=True),
]  # fmt: skip


@pytest.mark.parametrize("case", EXACT, ids=[c.id for c in EXACT])
def test_exact_continuation_equals_training_from_scratch(runs: Runs, case: Case) -> None:
    _, _, parent = runs.fit(lambda: case.fit(case.old))
    warm, tracker, _ = runs.fit(lambda: case.fit(case.new), parent=parent)
    scratch = case.fit(case.new)
    assert tracker.kind == "exact", tracker.reasons
    assert model_differences(warm, scratch) == []
    X, _ = _data(case.data)
    assert np.array_equal(predictions(warm, X), predictions(scratch, X))


def test_hist_gradient_boosting_without_seed_is_exact_where_the_seed_is_unused(
    runs: Runs,
) -> None:
    X, y = _data("cancer")  # few rows: no binning sample, no early stopping; all features
    _, _, parent = runs.fit(lambda: HGB(max_iter=10).fit(X, y))
    warm, tracker, _ = runs.fit(lambda: HGB(max_iter=25).fit(X, y), parent=parent)
    scratch = [HGB(max_iter=25).fit(X, y) for _ in range(2)]
    assert tracker.kind == "exact"
    seeds = ("_random_seed", "_feature_subsample_rng", "random_state")  # drawn by each fit
    assert model_differences(scratch[0], scratch[1], ignore=seeds) == []
    assert model_differences(warm, scratch[0], ignore=seeds) == []


def test_a_continued_model_can_be_continued_again(runs: Runs) -> None:
    X, y = _data("cancer")
    _, _, first = runs.fit(lambda: RandomForestClassifier(5, random_state=0).fit(X, y))
    _, t2, second = runs.fit(
        lambda: RandomForestClassifier(10, random_state=0).fit(X, y), parent=first
    )
    warm, t3, _ = runs.fit(
        lambda: RandomForestClassifier(20, random_state=0).fit(X, y), parent=second
    )
    assert (t2.kind, t3.kind) == ("exact", "exact")
    assert model_differences(warm, RandomForestClassifier(20, random_state=0).fit(X, y)) == []


# --- where continuing is not training from scratch ------------------------------------------


def _tree_text(model: lgb.LGBMModel) -> str:
    text = model.booster_.model_to_string()
    return text[text.index("Tree=0") : text.index("end of trees")]


@dataclass(frozen=True)
class Inexact:
    id: str
    case: Case
    reason: str
    differs: Callable[[Any, Any], bool]  # how the continuation differs from scratch


def _predictions_differ(data: str) -> Callable[[Any, Any], bool]:
    X, _ = _data(data)
    return lambda warm, scratch: not np.array_equal(predictions(warm, X), predictions(scratch, X))


INEXACT = [
    Inexact("gb-early-stopping", Case("gb", lambda n: GB(
        n_estimators=n, n_iter_no_change=3, learning_rate=0.5, random_state=0), "classes", 5, 100),
        "n_iter_no_change", _predictions_differ("classes")),
    Inexact("lightgbm-bagging", Case("lgbm", lambda n: lgb.LGBMClassifier(
        n_estimators=n, subsample=0.8, subsample_freq=1, verbose=-1, n_jobs=1), "cancer", 10, 20),
        "LightGBM", lambda w, s: _tree_text(w) != _tree_text(s)),
    Inexact("lightgbm-column-sampling", Case("lgbm", lambda n: lgb.LGBMClassifier(
        n_estimators=n, colsample_bytree=0.6, verbose=-1, n_jobs=1), "cancer", 10, 20),
        "LightGBM", lambda w, s: _tree_text(w) != _tree_text(s)),
    # Trees equal without sampling, but the model records the continuation.
    Inexact("lightgbm-plain", Case("lgbm", lambda n: lgb.LGBMClassifier(
        n_estimators=n, verbose=-1, n_jobs=1), "cancer", 10, 20), "LightGBM",
        lambda w, s: _tree_text(w) == _tree_text(s)
        and w.booster_.params["num_iterations"] != s.booster_.params["num_iterations"]),
    Inexact("xgb-subsample", Case("xgb", lambda n: xgb.XGBClassifier(
        n_estimators=n, subsample=0.8), "classes", 10, 20), "subsample",
        _predictions_differ("classes")),
    Inexact("xgb-colsample", Case("xgb", lambda n: xgb.XGBRegressor(
        n_estimators=n, colsample_bynode=0.5), "diabetes", 10, 20), "colsample_bynode",
        _predictions_differ("diabetes")),
]  # fmt: skip


@pytest.mark.parametrize("item", INEXACT, ids=[i.id for i in INEXACT])
def test_inexact_continuations_are_refused_or_marked(runs: Runs, item: Inexact) -> None:
    case = item.case
    _, _, parent = runs.fit(lambda: case.fit(case.old))
    refused, tracker, _ = runs.fit(lambda: case.fit(case.new), parent=parent)
    assert tracker.kind is None
    assert any(item.reason in r for r in tracker.reasons), tracker.reasons
    scratch = case.fit(case.new)
    assert model_differences(refused, scratch) == []  # trained from scratch instead
    warm, marked, _ = runs.fit(lambda: case.fit(case.new), parent=parent, approximate=True)
    assert marked.kind == "approximate"
    assert item.differs(warm, scratch)


def test_hgb_early_stopping_is_refused_a_stopped_model_would_continue_differently(
    runs: Runs,
) -> None:
    X, y = make_classification(3000, 20, n_informative=5, flip_y=0.2, random_state=2)
    kw = {"early_stopping": True, "n_iter_no_change": 3, "learning_rate": 0.3, "random_state": 0}
    _, _, parent = runs.fit(lambda: HGB(max_iter=5, **kw).fit(X, y))
    _, tracker, _ = runs.fit(lambda: HGB(max_iter=100, **kw).fit(X, y), parent=parent)
    assert tracker.kind is None and "early stopping" in tracker.reasons[0]
    stopped = HGB(max_iter=12, **kw).fit(X, y)  # stops after 11 rounds
    stopped.set_params(max_iter=100, warm_start=True).fit(X, y)
    scratch = HGB(max_iter=100, **kw).fit(X, y)
    assert stopped.n_iter_ != scratch.n_iter_


def test_random_forest_without_seed_is_not_continued_for_full_results(runs: Runs) -> None:
    X, y = _data("cancer")
    _, _, parent = runs.fit(lambda: RandomForestClassifier(5).fit(X, y))
    _, tracker, _ = runs.fit(lambda: RandomForestClassifier(10).fit(X, y), parent=parent)
    assert tracker.kind is None and "random_state" in tracker.reasons[0]


@pytest.mark.parametrize(
    "old,new",
    [
        (lambda X, y: RandomForestClassifier(20, random_state=0).fit(X, y),
         lambda X, y: RandomForestClassifier(10, random_state=0).fit(X, y)),
        (lambda X, y: RandomForestClassifier(10, random_state=0).fit(X, y),
         lambda X, y: RandomForestClassifier(20, random_state=0, max_depth=4).fit(X, y)),
        (lambda X, y: RandomForestClassifier(10, random_state=0).fit(X, y),
         lambda X, y: RandomForestClassifier(20, random_state=1).fit(X, y)),
        (lambda X, y: RandomForestClassifier(10, random_state=0).fit(X[:400], y[:400]),
         lambda X, y: RandomForestClassifier(20, random_state=0).fit(X, y)),
        (lambda X, y: RandomForestClassifier(10, random_state=0).fit(X, y),
         lambda X, y: RandomForestClassifier(20, random_state=0).fit(X, y, np.ones(len(y)))),
        (lambda X, y: RandomForestClassifier(10, random_state=0).fit(X, y),
         lambda X, y: ExtraTreesRegressor(20, random_state=0).fit(X, y)),
    ],
    ids=["budget-shrank", "other-param", "other-seed", "other-rows", "weights-added",
         "other-class"],
)  # fmt: skip
def test_no_continuation_unless_only_the_budget_grew(
    runs: Runs, old: Callable[..., Any], new: Callable[..., Any]
) -> None:
    X, y = _data("cancer")
    _, _, parent = runs.fit(lambda: old(X, y))
    model, tracker, _ = runs.fit(lambda: new(X, y), parent=parent)
    assert tracker.kind is None
    assert model_differences(model, new(X, y)) == []


def test_each_fit_continues_from_the_model_fitted_on_the_same_data(runs: Runs) -> None:
    """Cross-validation fits one model per fold with equal parameters: records bind each
    continuation to its own fold's model, never to another fold's."""
    X, y = _data("cancer")
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))

    def fold_models(n: int) -> list[Any]:
        return [RandomForestClassifier(n, random_state=0).fit(X[t], y[t]) for t, _ in folds]

    _, _, parent = runs.fit(lambda: fold_models(6))
    warm, tracker, _ = runs.fit(lambda: fold_models(12), parent=parent)
    assert tracker.kind == "exact"
    for continued, scratch in zip(warm, fold_models(12), strict=True):
        assert model_differences(continued, scratch) == []


def test_a_model_changed_after_fit_is_not_recorded(runs: Runs) -> None:
    X, y = _data("cancer")

    def trimmed() -> Any:
        model = RandomForestClassifier(10, random_state=0).fit(X, y)
        model.estimators_ = model.estimators_[:5]
        model.n_estimators = 5
        return model

    _, first, parent = runs.fit(trimmed)
    assert first.records(trimmed()) is None
    _, tracker, _ = runs.fit(
        lambda: RandomForestClassifier(20, random_state=0).fit(X, y), parent=parent
    )
    assert tracker.kind is None


def test_models_inside_pipelines_and_dicts_continue(runs: Runs) -> None:
    X, y = _data("cancer")

    def fit(n: int) -> dict[str, Any]:
        pipe = make_pipeline(StandardScaler(), GB(n_estimators=n, random_state=0))
        return {"model": pipe.fit(X, y), "n": n}

    _, _, parent = runs.fit(lambda: fit(10))
    warm, tracker, _ = runs.fit(lambda: fit(30), parent=parent)
    assert tracker.kind == "exact"
    assert model_differences(warm["model"][-1], fit(30)["model"][-1]) == []


def test_fit_is_patched_only_inside_and_keeps_its_signature(runs: Runs) -> None:
    assert "fit" not in vars(RandomForestClassifier)
    original, own = RandomForestClassifier.fit, vars(lgb.LGBMClassifier)["fit"]
    with FitTracker("model", runs.cache, None, False, active=True):
        assert "fit" in vars(RandomForestClassifier)
        assert has_fit_parameter(RandomForestClassifier(), "sample_weight")
        assert "fit" in vars(lgb.LGBMClassifier)
    assert "fit" not in vars(RandomForestClassifier)
    assert RandomForestClassifier.fit is original
    assert vars(lgb.LGBMClassifier)["fit"] is own


# --- through a session: real project, real history, real store ------------------------------

PIPELINE = """\
import ghostrun as gr
import hashlib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score


@gr.source
def raw(path="data/table.csv") -> pd.DataFrame:
    return pd.read_csv(path)


@gr.op
def split(raw: pd.DataFrame) -> dict:
    n = len(raw) * 2 // 3
    X, y = raw.drop(columns="y"), raw["y"]
    return {"X": X[:n], "y": y[:n], "X_test": X[n:], "y_test": y[n:]}


@gr.op
def model(split: dict, rounds=gr.knob(20, low=5, high=400, budget=True)):
    forest = RandomForestClassifier(n_estimators=30, max_depth=None, random_state=0)
    boosted = HistGradientBoostingClassifier(max_iter=rounds, random_state=0)
    return [m.fit(split["X"], split["y"]) for m in (forest, boosted)]


@gr.metric(goal="max")
def auc(model, split) -> float:
    p = sum(m.predict_proba(split["X_test"])[:, 1] for m in model)
    return float(roc_auc_score(split["y_test"], p))


@gr.metric(goal="max")
def fingerprint(model, split) -> float:
    p = np.concatenate([m.predict_proba(split["X_test"]) for m in model])
    return float(int(hashlib.sha256(p.tobytes()).hexdigest()[:12], 16))
"""


def _table(path: Path) -> None:
    import pandas as pd

    X, y = make_classification(900, 8, n_informative=5, random_state=4)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(y=y)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


@pytest.fixture
def forest(tmp_path: Path) -> ProjectDir:
    root = tmp_path / "forest"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.ghostrun]\nworkflow = "pipeline.py"\n')
    (root / "pipeline.py").write_text(PIPELINE)
    _table(root / "data" / "table.csv")
    return ProjectDir(root)


def _warm(inv: Any) -> dict[str, Any]:
    return {name: o.warm_start for name, o in inv.last.outcomes.items() if o.warm_start}


def _model(project: ProjectDir, inv: Any) -> Any:
    return Store(project.root / ".ghostrun" / "cache").load(inv.last.outcomes["model"].key)


def test_grown_budgets_continue_and_equal_a_run_from_scratch(
    forest: ProjectDir, tmp_path: Path
) -> None:
    forest.run()
    forest.edit("pipeline.py", "n_estimators=30", "n_estimators=60")
    forest.edit("pipeline.py", "gr.knob(20,", "gr.knob(50,")
    inv = forest.run()
    assert changes(inv)["model"] == "knob"
    assert states(inv)["model"] == "computed" and _warm(inv) == {"model": "exact"}
    scratch = forest.run_from_scratch(tmp_path)
    assert _warm(scratch) == {}
    assert inv.last.metrics == scratch.last.metrics
    (clone,) = tmp_path.glob("scratch-*")
    theirs = Store(clone / ".ghostrun" / "cache").load(scratch.last.outcomes["model"].key)
    for a, b in zip(_model(forest, inv), theirs, strict=True):
        assert model_differences(a, b) == []
    ops = {o["name"]: o for o in inv.to_json()["ops"]}
    assert ops["model"].get("warm_start") == "exact"


def test_one_grown_budget_continues_while_the_other_model_retrains(
    forest: ProjectDir, tmp_path: Path
) -> None:
    forest.run()
    forest.edit("pipeline.py", "gr.knob(20,", "gr.knob(35,")
    inv = forest.run()
    assert _warm(inv) == {"model": "exact"}
    assert inv.last.metrics == forest.run_from_scratch(tmp_path).last.metrics


@pytest.mark.parametrize(
    "edits",
    [
        [("gr.knob(20,", "gr.knob(10,")],
        [("gr.knob(20,", "gr.knob(40,"), ("rounds, random_state=0", "rounds, random_state=1")],
        [("n_estimators=30, max_depth=None", "n_estimators=60, max_depth=6")],
    ],
    ids=["budget-shrank", "budget-and-seed", "budget-and-depth"],
)  # fmt: skip
def test_no_warm_start_when_more_than_a_budget_grew(
    forest: ProjectDir, tmp_path: Path, edits: list[tuple[str, str]]
) -> None:
    forest.run()
    for old, new in edits:
        forest.edit("pipeline.py", old, new)
    inv = forest.run()
    assert states(inv)["model"] == "computed" and _warm(inv) == {}
    assert inv.last.metrics == forest.run_from_scratch(tmp_path).last.metrics


def test_approximate_warm_starts_need_the_flag_and_stay_off_the_normal_key(
    tmp_path: Path, forest: ProjectDir
) -> None:
    bagged = "subsample=0.8, subsample_freq=1, verbose=-1, n_jobs=1"
    text = PIPELINE.replace(
        "HistGradientBoostingClassifier(max_iter=rounds, random_state=0)",
        f"lgb.LGBMClassifier(n_estimators=rounds, {bagged})",
    ).replace("import hashlib\n", "import hashlib\nimport lightgbm as lgb\n")
    forest.write("pipeline.py", text)
    forest.run()
    forest.edit("pipeline.py", "gr.knob(20,", "gr.knob(40,")
    parent = forest.run()
    assert _warm(parent) == {}  # LightGBM continues only approximately: not in a normal run
    forest.edit("pipeline.py", "gr.knob(40,", "gr.knob(60,")
    with Session(Project.open(forest.root)) as session:
        inv = session.prepare(session.load())
        sources = {"model": parent.last.outcomes["model"].key}
        warm = WarmStarts(sources, approximate=True)
        with working_directory(forest.root):  # user code reads data/ relative to the root
            approximate = Executor(inv.version, session.cache, FULL, warm=warm).run()
    outcome = approximate.outcomes["model"]
    assert outcome.warm_start == "approximate"
    normal = forest.run()  # finds nothing under the normal key: trains from scratch
    assert states(normal)["model"] == "computed" and _warm(normal) == {}
    assert outcome.key == approximate_key(normal.last.outcomes["model"].key)
    assert approximate.metrics["fingerprint"] != normal.last.metrics["fingerprint"]
