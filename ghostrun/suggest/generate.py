"""Every single-move variant of a workflow (DESIGN §7): knob moves, estimator swaps, drops.

- Knob moves (`steps.moves`) for every operator but sources and metrics: changing what
  data is read or how it is scored is not a modelling change, and its metric would not be
  comparable with the base's.
- Estimator swaps for every constructor call of a known family, to each sibling of the
  same task. With a `FeedInfo` they are dtype-aware: no RandomForest/LogisticRegression/
  Ridge on pandas categories, XGBoost gets `enable_categorical=True` for them,
  HistGradientBoosting only up to 255 categories, no linear model when values are
  missing, and no swap at all when the model is fed text columns (the current estimator
  must be handling them in a way another one would not). Without one, only the linear
  models are left out (missing values cannot be ruled out).
- Drops, which need a `FeedInfo` (the columns are only known from data): each one-hot
  group as one variant, each other training column as one. At most `MAX_DROPS`: beyond
  that, the columns the fitted model uses least (by its importances), else the first ones.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ghostrun.errors import WorkflowError
from ghostrun.suggest.feed import FeedInfo
from ghostrun.suggest.steps import moves
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.dropcols import return_lines
from ghostrun.workflow.estimators import (
    EstimatorCall,
    Family,
    estimator_calls,
    map_keywords,
    siblings,
)
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.ondemand import real_workflow
from ghostrun.workflow.overlay import _plain_function
from ghostrun.workflow.swap import import_needed
from ghostrun.workflow.types import Operator

MAX_DROPS = 40


def neighbours(workflow: Workflow, feed: FeedInfo | None = None) -> list[Variant]:
    """Every single-move variant of `workflow`: knob moves (×/÷ log-scale steps for
    positive numbers within the declared or known range; neighbouring choices; ints stay
    ints), estimator family swaps (classification and regression counterparts), drops of
    each feature column / one-hot group of the DataFrame feeding the model (`feed`)."""
    workflow = real_workflow(workflow)
    found: dict[str, Variant] = {}
    for variant in [*knob_moves(workflow), *swaps(workflow, feed), *drops(workflow, feed)]:
        found.setdefault(variant.id, variant)
    return list(found.values())


def knob_moves(workflow: Workflow) -> Iterator[Variant]:
    for op in workflow.operators.values():
        if op.kind != "op":
            continue
        plain = _rewritable(op)
        for knob in op.knobs:
            if knob.implicit and not plain:
                continue  # a literal in code that cannot be recompiled
            for new in moves(knob):
                change = {"kind": "knob", "op": op.name, "knob": knob.name}
                yield Variant("knob", {**change, "old": knob.value, "new": new})


def swaps(workflow: Workflow, feed: FeedInfo | None = None) -> Iterator[Variant]:
    for op in workflow.operators.values():
        if op.kind != "op" or not _rewritable(op):
            continue
        if feed is not None and feed.model_op == op.name and feed.text_columns:
            continue
        data = feed if feed is not None and feed.model_op == op.name else None
        for call in estimator_calls(op):
            if not call.swappable:
                continue
            for new in siblings(call.family):
                added = _needs(new, data)
                if added is not None and _nameable(op, new):
                    yield _swap(op, call, new, added)


def _needs(new: Family, feed: FeedInfo | None) -> dict[str, str] | None:
    """Keywords the swap must add for the model's data, or None if `new` cannot take it."""
    if feed is None:
        return None if not new.handles_nan else {}
    if feed.has_nan and not new.handles_nan:
        return None
    if not feed.categorical:
        return {}
    if new.categorical == "no":
        return None
    if new.max_categories is not None and max(feed.categorical.values()) > new.max_categories:
        return None
    return {"enable_categorical": "True"} if new.categorical == "flag" else {}


def _rewritable(op: Operator) -> bool:
    """Only a plain top-level `def` can be recompiled (no decorator wrapping it)."""
    try:
        _plain_function(op)
    except WorkflowError:
        return False
    return True


def _nameable(op: Operator, new: Family) -> bool:
    try:
        import_needed(op, new)
    except WorkflowError:
        return False
    return True


def _swap(op: Operator, call: EstimatorCall, new: Family, added: dict[str, str]) -> Variant:
    mapped = map_keywords(call, new, added)
    change = {
        "kind": "estimator",
        "op": op.name,
        "old": call.family.qualname,
        "new": new.qualname,
        "kept": mapped.kept,
        "dropped": mapped.dropped,
        "added": mapped.added,
    }
    if call.label != call.family.name:
        change["call"] = call.label
    return Variant("estimator", change)


def drops(workflow: Workflow, feed: FeedInfo | None) -> Iterator[Variant]:
    if feed is None or feed.frame_op is None or feed.frame_op not in workflow.operators:
        return
    op = workflow.operators[feed.frame_op]
    if not return_lines(op) or not _rewritable(op):
        return
    grouped = {c for members in feed.groups.values() for c in members}
    candidates: list[tuple[list[str | int], str | None]] = [
        (list(members), prefix) for prefix, members in feed.groups.items()
    ]
    candidates += [([c], None) for c in feed.columns if c not in grouped]
    named = _named_downstream(workflow, op.name)
    candidates = [c for c in candidates if not named.intersection(map(str, c[0]))]
    if len(candidates) > MAX_DROPS:
        candidates = _least_used(candidates, feed)[:MAX_DROPS]
    for columns, group in candidates:
        change = {"kind": "drop", "op": op.name, "columns": columns}
        yield Variant("drop", {**change, "group": group} if group else change)


def _named_downstream(workflow: Workflow, name: str) -> set[str]:
    """String literals in the operators after `name`: a column a later operator names
    (`frame["city"]`, `usecols=[...]`) fails or changes meaning when dropped, so dropping
    it would only waste a trial."""
    found: set[str] = set()
    for later in workflow.closure([name], "downstream") - {name}:
        try:
            tree = ast.parse(workflow.operators[later].source_text)
        except SyntaxError:
            continue
        strings = (n.value for n in ast.walk(tree) if isinstance(n, ast.Constant))
        found.update(v for v in strings if isinstance(v, str))
    return found


def _least_used(
    candidates: list[tuple[list[str | int], str | None]], feed: FeedInfo
) -> list[tuple[list[str | int], str | None]]:
    """Candidates by the model's total importance of their columns, lowest first (dropping
    what the model barely uses is what can help; dropping its mainstays rarely does)."""
    importance = feed.importance
    if importance is None:
        return candidates
    return sorted(candidates, key=lambda c: sum(importance.get(x, 0.0) for x in c[0]))
