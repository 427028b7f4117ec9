"""What feeds the model: which operator's DataFrame, and what its columns are like.

Drop variants and dtype-aware estimator swaps need facts no static reading gives: the
columns the model is trained on, which of them form one-hot groups, which are categorical
(RandomForest and LogisticRegression reject pandas categories; XGBoost takes them only
with `enable_categorical=True`), and whether any value is missing (linear models reject
NaN). `feed_info` runs the version's operators up to the model's inputs at one fidelity
(from the cache where it can) and reads them off:

- the model operator is the first one that constructs a known estimator family;
- the training DataFrame is the model's DataFrame input, or the DataFrame inside a
  split-like input (a dataclass, dict, tuple), `X_train`-like names first;
- the frame operator is the nearest operator upstream of the model whose returned
  DataFrame has all those columns and whose `return`s can be rewritten (usually
  `features`); the label, which it also returns, is not a training column.

`FeedInfo` is plain JSON both ways, so an explorer can compute it once and send it on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghostrun.engine.executor import ExecutionHooks, Executor
from ghostrun.engine.session import Session, working_directory
from ghostrun.workflow.dropcols import return_lines
from ghostrun.workflow.estimators import estimator_calls
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.types import FULL, Fidelity
from ghostrun.workflow.version import Version

Column = str | int
ONE_HOT_ROWS = 5000  # rows read to tell a one-hot group (each row has at most one 1)


@dataclass(frozen=True)
class FeedInfo:
    """The model operator, the operator returning its DataFrame, and the training columns."""

    model_op: str
    frame_op: str | None
    columns: tuple[Column, ...]
    groups: Mapping[str, tuple[Column, ...]] = field(default_factory=dict)  # one-hot prefix
    categorical: Mapping[Column, int] = field(default_factory=dict)  # column → categories
    text_columns: tuple[Column, ...] = ()  # object/string columns no estimator takes as is
    has_nan: bool = False
    importance: Mapping[Column, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model_op": self.model_op,
            "frame_op": self.frame_op,
            "columns": list(self.columns),
            "groups": {k: list(v) for k, v in self.groups.items()},
            "categorical": [[c, n] for c, n in self.categorical.items()],
            "text_columns": list(self.text_columns),
            "has_nan": self.has_nan,
            "importance": None
            if self.importance is None
            else [[c, v] for c, v in self.importance.items()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeedInfo:
        importance = data.get("importance")
        return cls(
            model_op=str(data["model_op"]),
            frame_op=data.get("frame_op"),
            columns=tuple(data.get("columns", ())),
            groups={str(k): tuple(v) for k, v in dict(data.get("groups", {})).items()},
            categorical={c: int(n) for c, n in data.get("categorical", [])},
            text_columns=tuple(data.get("text_columns", ())),
            has_nan=bool(data.get("has_nan", False)),
            importance=None if importance is None else {c: float(v) for c, v in importance},
        )


def model_op(workflow: Workflow) -> str | None:
    """The first operator (in topological order) that constructs a known estimator."""
    for name, op in workflow.operators.items():
        if op.kind == "op" and estimator_calls(op):
            return name
    return None


def upstream_by_distance(workflow: Workflow, name: str) -> list[str]:
    """Operators upstream of `name`, nearest first (breadth-first over inputs)."""
    seen: dict[str, None] = {}
    frontier = list(workflow.operators[name].inputs)
    while frontier:
        following: list[str] = []
        for n in frontier:
            if n not in seen:
                seen[n] = None
                following.extend(workflow.operators[n].inputs)
        frontier = following
    return list(seen)


def training_frame(values: Sequence[Any]) -> Any | None:
    """The DataFrame a model is fit on, among its inputs' values."""
    frames = [f for v in values for f in _frames_in(v)]
    if not frames:
        return None
    train = [f for key, f in frames if "train" in key.lower() and key[:1] in "Xx"]
    train = train or [f for key, f in frames if "train" in key.lower()]
    return (train or [f for _, f in frames])[0]


def _frames_in(value: Any) -> list[tuple[str, Any]]:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return [("", value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        items: Iterable[tuple[Any, Any]] = ((f.name, getattr(value, f.name)) for f in fields)
    elif isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, tuple):
        names = getattr(value, "_fields", None) or [str(i) for i in range(len(value))]
        items = zip(names, value, strict=False)
    else:
        return []
    return [(str(k), v) for k, v in items if isinstance(v, pd.DataFrame)]


def frame_op(
    workflow: Workflow, model: str, columns: Iterable[Column], values: Mapping[str, Any]
) -> str | None:
    """The nearest operator upstream of `model` returning a DataFrame with all `columns`
    whose returns can be rewritten."""
    import pandas as pd

    wanted = set(columns)
    for name in upstream_by_distance(workflow, model):
        value = values.get(name)
        if not isinstance(value, pd.DataFrame) or not wanted <= set(value.columns):
            continue
        if return_lines(workflow.operators[name]):
            return name
    return None


def describe_frame(model: str, frame: str | None, X: Any, fitted: Any = None) -> FeedInfo:
    """The FeedInfo of training frame `X` (and the fitted model's importances, if any)."""
    import pandas as pd

    columns = tuple(c for c in X.columns if isinstance(c, str | int) and not isinstance(c, bool))
    categorical: dict[Column, int] = {}
    text: list[Column] = []
    for c in columns:
        dtype = X[c].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            categorical[c] = len(dtype.categories)
        elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            text.append(c)
    return FeedInfo(
        model_op=model,
        frame_op=frame,
        columns=columns,
        groups=one_hot_groups(X[list(columns)]),
        categorical=categorical,
        text_columns=tuple(text),
        has_nan=bool(X.isna().to_numpy().any()),
        importance=importances(fitted, columns),
    )


def one_hot_groups(X: Any) -> dict[str, tuple[Column, ...]]:
    """Prefix → columns of each one-hot group (`city_a`, `city_b`, ... from
    `pd.get_dummies`): 0/1 columns sharing a `prefix_`, at most one 1 per row. Each
    column goes to the largest such group (the longest prefix among equals)."""
    binary = [c for c in X.columns if isinstance(c, str) and "_" in c and _is_binary(X[c])]
    if len(binary) < 2:
        return {}
    rows = X[binary].head(ONE_HOT_ROWS).astype("float64")
    best: dict[Column, tuple[int, int, str]] = {}
    members_of: dict[str, tuple[Column, ...]] = {}
    for column in binary:
        for i, char in enumerate(column):
            if char != "_" or i == 0:
                continue
            prefix = column[:i]
            if prefix not in members_of:
                members = tuple(c for c in binary if c.startswith(prefix + "_"))
                members_of[prefix] = members if _one_hot(rows, members) else ()
            if members_of[prefix]:
                rank = (len(members_of[prefix]), len(prefix), prefix)
                if column not in best or rank > best[column]:
                    best[column] = rank
    groups: dict[str, tuple[Column, ...]] = {}
    for _, _, prefix in best.values():
        groups.setdefault(prefix, members_of[prefix])
    return {p: m for p, m in groups.items() if all(best[c][2] == p for c in m)}


def _one_hot(rows: Any, members: tuple[Column, ...]) -> bool:
    """At most one 1 per row, exactly one in at least half of the rows (get_dummies leaves
    a row all 0 only for a missing or dropped-first category; rare independent flags
    would mostly be all 0)."""
    if len(members) < 2:
        return False
    sums = rows[list(members)].sum(axis=1)
    return bool(sums.max() <= 1 and (sums == 1).mean() >= 0.5)


def _is_binary(series: Any) -> bool:
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        return not series.isna().any()
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    values = series.head(ONE_HOT_ROWS)
    return bool(values.isin([0, 1]).all())


def importances(fitted: Any, columns: Sequence[Column]) -> dict[Column, float] | None:
    """Per-column importance of a fitted model (trees' `feature_importances_`, linear
    models' absolute coefficients summed over classes), if it has one per column."""
    import numpy as np

    values = getattr(fitted, "feature_importances_", None)
    if values is None and getattr(fitted, "coef_", None) is not None:
        coef = np.abs(np.asarray(fitted.coef_, dtype=float))
        if columns and coef.size % len(columns) == 0:
            values = coef.reshape(-1, len(columns)).sum(axis=0)
    if values is None or len(values) != len(columns):
        return None
    return {c: float(v) for c, v in zip(columns, values, strict=True)}


def feed_info(
    session: Session, version: Version, fidelity: Fidelity = FULL, *, fitted: bool = True
) -> FeedInfo | None:
    """Run `version` up to its model's inputs at `fidelity` (cached results are loaded,
    nothing new is stored or recorded) and describe what the model is fed. `fitted` also
    gets the model itself, for importances. None when no model operator is found.

    Take the full data where it is cached: on a sample, a rare category's one-hot column
    may be missing from its group."""
    workflow = version.workflow
    model = model_op(workflow)
    if model is None:
        return None
    targets = upstream_by_distance(workflow, model) + ([model] if fitted else [])
    hooks = ExecutionHooks(should_store=lambda op, seconds, nbytes: False)
    min_rows = session.project.settings.min_sample_rows
    with working_directory(session.project.root):
        executor = Executor(version, session.cache, fidelity, hooks, min_sample_rows=min_rows)
        values = executor.run(targets).values
    inputs = [values[i] for i in workflow.operators[model].inputs if i in values]
    X = training_frame(inputs)
    if X is None:
        return FeedInfo(model_op=model, frame_op=None, columns=())
    frame = frame_op(workflow, model, X.columns, values)
    return describe_frame(model, frame, X, values.get(model))
