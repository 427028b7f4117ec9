"""Estimator families an operator's model can be swapped between, and their calls in code.

A swap rewrites one constructor call (`LGBMClassifier(num_leaves=31, ...)`) to a sibling
family's class. Keyword arguments whose meaning carries over are kept under the new
family's name (`n_estimators` ↔ HistGradientBoosting's `max_iter`, `learning_rate`,
`random_state`/`seed`, ...); the others are dropped, and a few arguments a family needs to
behave are added (`max_iter=1000` for LogisticRegression, `verbose=-1` for LightGBM).

Deliberately not carried: `n_estimators` and `max_depth` between boosters and random
forests (800 boosting rounds of depth 6 make a slow, shallow forest; a forest's defaults
are the better start). Calls with positional, `*args` or `**kwargs` arguments are not
swapped: what they pass cannot be mapped. Only constructor calls are: `lightgbm.train`
takes a params dict and a Dataset, which no sibling accepts.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ghostrun.workflow.knobs import is_estimator_callable, resolve_expr
from ghostrun.workflow.loader import DEFAULT_ESTIMATOR_MODULES
from ghostrun.workflow.types import Operator

Task = Literal["classification", "regression"]
Categorical = Literal["native", "flag", "no"]


@dataclass(frozen=True)
class Family:
    """One swappable estimator class.

    `params`: concept → this class's keyword for it. `added`: keyword → source text of a
    value the swap writes when the call does not pass it. `companions`: a kept keyword →
    (keyword, value) it needs to take effect. `categorical`: how it takes pandas category
    columns ("flag": only with `enable_categorical=True`).
    """

    module: str  # the public module to import the class from
    name: str
    task: Task
    params: Mapping[str, str]
    added: Mapping[str, str] = field(default_factory=dict)
    companions: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    handles_nan: bool = True
    categorical: Categorical = "native"
    max_categories: int | None = None

    @property
    def qualname(self) -> str:
        """`module.Class`, as the variant's JSON names it."""
        return f"{self.module}.{self.name}"

    @property
    def package(self) -> str:
        return self.module.split(".")[0]

    def load(self) -> type:
        """The class (imports its package: only overlays and apply need it)."""
        cls: type = getattr(importlib.import_module(self.module), self.name)
        return cls

    def param_for(self, concept: str) -> str | None:
        return self.params.get(concept)

    def concept_of(self, param: str) -> str | None:
        if param in ALIASES.get(self.package, {}):
            return ALIASES[self.package][param]
        return next((c for c, p in self.params.items() if p == param), None)


_BOOSTED = {
    "n_estimators": "n_estimators",
    "learning_rate": "learning_rate",
    "max_depth": "max_depth",
    "random_state": "random_state",
    "n_jobs": "n_jobs",
    "subsample": "subsample",
    "colsample_bytree": "colsample_bytree",
    "reg_alpha": "reg_alpha",
    "reg_lambda": "reg_lambda",
}
_LGBM = {**_BOOSTED, "num_leaves": "num_leaves", "min_samples_leaf": "min_child_samples"}
_HGB = {
    "n_estimators": "max_iter",
    "learning_rate": "learning_rate",
    "max_depth": "max_depth",
    "random_state": "random_state",
    "num_leaves": "max_leaf_nodes",
    "min_samples_leaf": "min_samples_leaf",
    "reg_lambda": "l2_regularization",
}
_FOREST = {
    "random_state": "random_state",
    "n_jobs": "n_jobs",
    "min_samples_leaf": "min_samples_leaf",
}
_WEIGHTS = {"class_weight": "class_weight"}

ALIASES: Mapping[str, Mapping[str, str]] = {
    "lightgbm": {"seed": "random_state", "random_seed": "random_state"},
    "xgboost": {"seed": "random_state"},
}
"""Per package: other keywords its classes accept for a concept."""

_LGBM_EXTRA: dict[str, Any] = {
    "added": {"verbose": "-1"},
    "companions": {"subsample": ("subsample_freq", "1")},
}

FAMILIES: tuple[Family, ...] = (
    Family("lightgbm", "LGBMClassifier", "classification", {**_LGBM, **_WEIGHTS}, **_LGBM_EXTRA),
    Family("xgboost", "XGBClassifier", "classification", _BOOSTED, categorical="flag"),
    Family(
        "sklearn.ensemble",
        "HistGradientBoostingClassifier",
        "classification",
        {**_HGB, **_WEIGHTS},
        max_categories=255,
    ),
    Family(
        "sklearn.ensemble",
        "RandomForestClassifier",
        "classification",
        {**_FOREST, **_WEIGHTS},
        categorical="no",
    ),
    Family(
        "sklearn.linear_model",
        "LogisticRegression",
        "classification",
        {"random_state": "random_state", **_WEIGHTS},
        added={"max_iter": "1000"},
        handles_nan=False,
        categorical="no",
    ),
    Family("lightgbm", "LGBMRegressor", "regression", _LGBM, **_LGBM_EXTRA),
    Family("xgboost", "XGBRegressor", "regression", _BOOSTED, categorical="flag"),
    Family(
        "sklearn.ensemble", "HistGradientBoostingRegressor", "regression", _HGB, max_categories=255
    ),
    Family("sklearn.ensemble", "RandomForestRegressor", "regression", _FOREST, categorical="no"),
    Family(
        "sklearn.linear_model",
        "Ridge",
        "regression",
        {"random_state": "random_state"},
        handles_nan=False,
        categorical="no",
    ),
)


def family_named(qualname: str) -> Family | None:
    """The family of `module.Class` (as in a variant's JSON), or of a bare class name."""
    return next((f for f in FAMILIES if qualname in (f.qualname, f.name)), None)


def family_of(obj: object) -> Family | None:
    """The family of a class object, by package and name (no import needed)."""
    if not isinstance(obj, type):
        return None
    package = str(getattr(obj, "__module__", "")).split(".")[0]
    return next((f for f in FAMILIES if f.name == obj.__name__ and f.package == package), None)


def siblings(family: Family) -> list[Family]:
    return [f for f in FAMILIES if f.task == family.task and f is not family]


@dataclass(frozen=True)
class EstimatorCall:
    """One estimator constructor call in an operator's `def`.

    `label` names it as implicit knobs do (`LGBMClassifier`, `LGBMClassifier#2`);
    `keywords` are (keyword, source text of its value) in call order; `swappable` is
    False when the call passes positional or `*`/`**` arguments.
    """

    label: str
    family: Family
    line: int  # in the user's file
    keywords: tuple[tuple[str, str], ...]
    swappable: bool
    node: ast.Call = field(compare=False, repr=False)


def estimator_calls(op: Operator, node: ast.FunctionDef | None = None) -> list[EstimatorCall]:
    """The calls in `op`'s code that construct a swappable estimator, in source order.

    `node` is the operator's `def` parsed from `op.source_text` (parsed here if None).
    """
    if node is None:
        node = _parsed(op)
        if node is None:
            return []
    namespace: Mapping[str, Any] = getattr(op.func, "__globals__", {})
    modules = {*DEFAULT_ESTIMATOR_MODULES}
    modules |= {k.estimator.split(".")[0] for k in op.knobs if k.implicit and k.estimator}
    shift = op.location.line - node.lineno
    seen: dict[str, int] = {}
    found = []
    calls = sorted(
        (n for n in ast.walk(node) if isinstance(n, ast.Call)),
        key=lambda c: (c.lineno, c.col_offset),
    )
    for call in calls:
        target = resolve_expr(call.func, namespace)
        if target is None or not is_estimator_callable(target, modules):
            continue
        label = target.__name__ if isinstance(target, type) else _function_label(target)
        seen[label] = seen.get(label, 0) + 1
        family = family_of(target)
        if family is None:
            continue
        found.append(
            EstimatorCall(
                label=label if seen[label] == 1 else f"{label}#{seen[label]}",
                family=family,
                line=call.lineno + shift,
                keywords=tuple(
                    (kw.arg, ast.get_source_segment(op.source_text, kw.value) or "")
                    for kw in call.keywords
                    if kw.arg is not None
                ),
                swappable=not call.args and all(kw.arg is not None for kw in call.keywords),
                node=call,
            )
        )
    return found


def _function_label(target: Any) -> str:
    return f"{str(target.__module__).split('.')[0]}.{target.__name__}"


def _parsed(op: Operator) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(op.source_text)
    except SyntaxError:
        return None
    body = tree.body
    return body[0] if len(body) == 1 and isinstance(body[0], ast.FunctionDef) else None


@dataclass(frozen=True)
class Mapped:
    """How a call's keywords fare in a swap: kept (new keyword → value text, in call
    order), dropped (old keywords), added (keyword → value text); `renamed` gives the old
    keyword of each kept one."""

    kept: dict[str, str]
    dropped: list[str]
    added: dict[str, str]
    renamed: dict[str, str] = field(default_factory=dict)


def map_keywords(
    call: EstimatorCall, new: Family, added: Mapping[str, str] | None = None
) -> Mapped:
    """The keywords of `call` as the swap to `new` writes them."""
    kept: dict[str, str] = {}
    renamed: dict[str, str] = {}
    dropped: list[str] = []
    for keyword, value in call.keywords:
        concept = call.family.concept_of(keyword)
        target = new.param_for(concept) if concept else None
        if target is None or target in kept or not _carries(concept, value):
            dropped.append(keyword)
        else:
            kept[target] = value
            renamed[target] = keyword
    extra = {k: v for k, v in {**new.added, **(added or {})}.items() if k not in kept}
    for keyword, (companion, value) in new.companions.items():
        if keyword in kept and companion not in kept:
            extra.setdefault(companion, value)
    return Mapped(kept, dropped, extra, renamed)


def _carries(concept: str | None, value: str) -> bool:
    """A literal max_depth of 0 or less means "no limit" in LightGBM only."""
    if concept != "max_depth":
        return True
    try:
        number = ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError):
        return True
    return isinstance(number, int) and number > 0
