"""Which knob values an approximate run changes to scale a boosting budget down.

Scaling the number of boosting rounds is where approximate runs save most (DESIGN §4):
fewer rounds with a proportionally larger learning rate. Budgets are explicit knobs marked
`budget=True` and the known round counts among implicit knobs; a learning rate set in the
same constructor call is raised to compensate.
"""

from __future__ import annotations

from typing import Any

from ghostrun.approx.budget import compensated_learning_rate, scaled_budget
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.types import Knob, Operator

BUDGET_PARAMS = frozenset(
    {"n_estimators", "num_boost_round", "num_iterations", "max_iter", "n_iter", "iterations"}
)
RATE_PARAMS = frozenset({"learning_rate", "eta"})


def is_budget(knob: Knob) -> bool:
    if knob.range is not None and knob.range.budget:
        return True
    return knob.implicit and knob.name.rsplit(".", 1)[-1] in BUDGET_PARAMS


def budget_overrides(workflow: Workflow, scale: float) -> dict[str, dict[str, Any]]:
    """op → {knob → scaled value} for every operator with a budget knob."""
    overrides = {}
    for name, op in workflow.operators.items():
        values = _op_overrides(op, scale)
        if values:
            overrides[name] = values
    return overrides


def _op_overrides(op: Operator, scale: float) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for knob in op.knobs:
        if (
            is_budget(knob)
            and isinstance(knob.value, int | float)
            and not isinstance(knob.value, bool)
        ):
            values[knob.name] = scaled_budget(knob.value, scale)
            rate = _rate_beside(op, knob)
            if rate is not None:
                values[rate.name] = compensated_learning_rate(float(rate.value), scale)
    return values


def _rate_beside(op: Operator, budget: Knob) -> Knob | None:
    """The learning rate set in the same call (implicit) or as a sibling knob (explicit)."""
    prefix = budget.name.rsplit(".", 1)[0] if budget.implicit else None
    for knob in op.knobs:
        param = knob.name.rsplit(".", 1)[-1]
        if param not in RATE_PARAMS or isinstance(knob.value, bool):
            continue
        if not isinstance(knob.value, int | float):
            continue
        same_call = knob.implicit and knob.name.rsplit(".", 1)[0] == prefix
        if same_call or (not budget.implicit and not knob.implicit):
            return knob
    return None


def has_budget(op: Operator) -> bool:
    return any(is_budget(k) for k in op.knobs)
