"""Estimator families a fit may continue in, and how (see `warmstart`).

Each family names its classes, its budget parameter, how many rounds a fitted model
holds, why a continuation would not equal training from scratch (None when it would), and
how to continue: scikit-learn with `warm_start`, XGBoost with `xgb_model`, LightGBM with
`init_model`. The conditions here are the ones tests/engine/test_warmstart.py proves.
"""

from __future__ import annotations

import copy
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ghostrun.reuse.loaded import loaded_types

_HGB_BIN_SUBSAMPLE = 200_000  # rows above which HistGradientBoosting bins a random sample

Fit = Callable[..., Any]


@dataclass(frozen=True)
class Call:
    """The arguments of one `fit` call."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def rows(self) -> int | None:
        shape = getattr(self.args[0], "shape", None) if self.args else None
        return int(shape[0]) if shape else None


@dataclass(frozen=True)
class Family:
    """Classes that continue the same way, with what that takes."""

    module: str  # where the classes are defined (`type(model).__module__`)
    public: str  # where they are imported from
    names: frozenset[str]
    budget: str
    rounds: Callable[[Any], int]  # boosting rounds (trees) a fitted model holds
    inexact: Callable[[Any, Any, Call], str | None]  # why continuing is not exact
    resume: Callable[[Family, Any, Any, Fit, Call, bool], bool]  # ..., exact → done?


def _call_inexact(call: Call) -> str | None:
    if len(call.args) > 3 or set(call.kwargs) - {"sample_weight"}:
        return "fit got arguments other than X, y and sample_weight"
    return None


def _sklearn_inexact(est: Any, old: Any, call: Call) -> str | None:
    if not is_integer(est.random_state):
        return "random_state is not a fixed integer"
    return _call_inexact(call)


def _gb_inexact(est: Any, old: Any, call: Call) -> str | None:
    if est.n_iter_no_change is not None:
        return "early stopping (n_iter_no_change) is on"
    return _sklearn_inexact(est, old, call)


def _hgb_inexact(est: Any, old: Any, call: Call) -> str | None:
    if old.do_early_stopping_ or est.early_stopping is True:
        return "early stopping is on"
    # Its seed only bins a row sample, subsamples features and splits off validation data:
    # with none of these, every seed gives the same model.
    rows = call.rows
    unused = rows is not None and rows <= _HGB_BIN_SUBSAMPLE and est.max_features == 1.0
    if est.random_state is None and unused:
        return _call_inexact(call)
    return _sklearn_inexact(est, old, call)


def _xgb_inexact(est: Any, old: Any, call: Call) -> str | None:
    """XGBoost draws random numbers only to sample rows, columns or dropped trees, and its
    generator restarts on continuation: exact only when nothing is sampled."""
    p = est.get_params()
    sampled = [k for k in _XGB_SAMPLING if p.get(k) not in (None, 1, 1.0)]
    if sampled:
        return f"{', '.join(sampled)} samples with a generator that restarts"
    if p.get("booster") not in (None, "gbtree") or p.get("device") not in (None, "cpu"):
        return "only the gbtree booster on the CPU continues exactly"
    if p.get("early_stopping_rounds") is not None or str(p.get("objective")).startswith("rank:"):
        return "early stopping or a ranking objective"
    if len(call.args) > 2 or set(call.kwargs) - {"sample_weight"}:
        return "fit got arguments other than X, y and sample_weight"
    return None


_XGB_SAMPLING = ("subsample", "colsample_bytree", "colsample_bylevel", "colsample_bynode",
                 "num_parallel_tree")  # fmt: skip


def _always_inexact(reason: str) -> Callable[[Any, Any, Call], str]:
    return lambda est, old, call: reason


def _resume_sklearn(family: Family, est: Any, old: Any, fit: Fit, call: Call, exact: bool) -> bool:
    """Copy the old model's fitted state into `est`, fit with `warm_start`, switch it off.
    An exact continuation must end with the full budget (no early stop)."""
    params = set(est.get_params(deep=False))
    before = dict(vars(est))
    vars(est).update(copy.deepcopy({k: v for k, v in vars(old).items() if k not in params}))
    _relink_generator(est)
    est.warm_start = True
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*warm_start.*")
            fit(est, *call.args, **call.kwargs)
        done = not exact or family.rounds(est) == getattr(est, family.budget)
    except Exception:  # noqa: BLE001 - any failure: fall back to fitting from scratch
        done = False
    est.warm_start = False
    if not done:
        vars(est).clear()
        vars(est).update(before)
    return done


def _relink_generator(est: Any) -> None:
    """GradientBoosting's trees hold its generator `_rng` itself; a joblib round trip (the
    store) gives them a copy instead. Share it again, as training from scratch does."""
    import numpy as np  # here: imported already by the scikit-learn model being resumed

    rng = vars(est).get("_rng")
    if isinstance(rng, np.random.RandomState):
        for tree in np.ravel(est.estimators_):
            if isinstance(getattr(tree, "random_state", None), np.random.RandomState):
                tree.random_state = rng


def _resume_booster(argument: str, booster: Callable[[Any], Any]) -> Callable[..., bool]:
    """LightGBM `init_model` / XGBoost `xgb_model`: fit only the missing rounds."""

    def resume(family: Family, est: Any, old: Any, fit: Fit, call: Call, exact: bool) -> bool:
        if argument in call.kwargs or len(call.args) > 2:
            return False
        total = getattr(est, family.budget)
        est.set_params(**{family.budget: total - family.rounds(old)})
        try:
            fit(est, *call.args, **call.kwargs, **{argument: booster(old)})
            return True
        except Exception:  # noqa: BLE001 - any failure: fall back to fitting from scratch
            return False
        finally:
            est.set_params(**{family.budget: total})

    return resume


_LGBM = "LightGBM keeps the continuation in the model (iterations, init predictor)"
_SK = "sklearn.ensemble"
FAMILIES: tuple[Family, ...] = (
    Family(f"{_SK}._forest", _SK,
            frozenset({"RandomForestClassifier", "RandomForestRegressor",
                       "ExtraTreesClassifier", "ExtraTreesRegressor"}),
            "n_estimators", lambda m: len(m.estimators_), _sklearn_inexact, _resume_sklearn),
    Family(f"{_SK}._gb", _SK,
            frozenset({"GradientBoostingClassifier", "GradientBoostingRegressor"}),
            "n_estimators", lambda m: int(m.n_estimators_), _gb_inexact, _resume_sklearn),
    Family(f"{_SK}._hist_gradient_boosting.gradient_boosting", _SK,
            frozenset({"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}),
            "max_iter", lambda m: int(m.n_iter_), _hgb_inexact, _resume_sklearn),
    Family("lightgbm.sklearn", "lightgbm", frozenset({"LGBMClassifier", "LGBMRegressor"}),
            "n_estimators", lambda m: int(m.booster_.current_iteration()),
            _always_inexact(_LGBM), _resume_booster("init_model", lambda m: m.booster_)),
    Family("xgboost.sklearn", "xgboost", frozenset({"XGBClassifier", "XGBRegressor"}),
            "n_estimators", lambda m: int(m.get_booster().num_boosted_rounds()), _xgb_inexact,
            _resume_booster("xgb_model", lambda m: copy.copy(m.get_booster()))),
)  # fmt: skip


def family_of(kind: type) -> Family | None:
    module, name = kind.__module__, kind.__name__
    return next((f for f in FAMILIES if module == f.module and name in f.names), None)


def loaded_classes() -> Iterator[tuple[type, Family]]:
    """The family classes of libraries already imported (never imports one)."""
    for family in FAMILIES:
        module = sys.modules.get(family.public)
        for name in sorted(family.names):
            kind = getattr(module, name, None)
            if isinstance(kind, type) and family_of(kind) is family:
                yield kind, family


def is_integer(value: Any) -> bool:
    """An int or a numpy integer, not a bool (numpy looked up, not imported)."""
    integers = (int, *loaded_types("numpy", "integer"))
    return isinstance(value, integers) and not isinstance(value, bool)
