"""Running a loaded workflow as plain Python: every operator once, in order, no cache.

The bench's referee. Optuna's trials run this way (what a script would do), and so does
the final check on held-out rows (`holdout=True` sets the switch `benchrows` reads), for
the base version, the applied suggestion and Optuna's best alike.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ghostrun.engine.usercode import call_operator, metric_values
from ghostrun.workflow.graph import Workflow

SWITCH = "GHOSTRUN_BENCH_HOLDOUT"


@contextmanager
def _inside(workflow: Workflow, holdout: bool) -> Iterator[None]:
    previous_dir, previous_switch = os.getcwd(), os.environ.get(SWITCH)
    os.chdir(workflow.root)
    os.environ[SWITCH] = "1" if holdout else "0"
    try:
        yield
    finally:
        os.chdir(previous_dir)
        if previous_switch is None:
            os.environ.pop(SWITCH, None)
        else:
            os.environ[SWITCH] = previous_switch


def evaluate(workflow: Workflow, *, holdout: bool = False) -> float:
    """The primary metric of one plain run (NaN when it fails or is not a number)."""
    primary = workflow.primary
    if primary is None:
        raise ValueError(f"{workflow.relpath} has no primary metric")
    values: dict[str, Any] = {}
    with _inside(workflow, holdout):
        for name, op in workflow.operators.items():
            if op.kind == "metric" and name != primary:
                continue
            inputs = {i: values[i] for i in op.inputs}
            try:
                values[name] = call_operator(op, inputs, workflow.root)
            except Exception:  # noqa: BLE001 - a failing configuration scores NaN
                return math.nan
    metric = metric_values(workflow.operators[primary], values[primary])
    value = metric.get(primary, next(iter(metric.values()), math.nan))
    return float(value)


def better(a: float, b: float, goal: str) -> bool:
    """Is `a` strictly better than `b` under `goal`? NaN is never better."""
    if math.isnan(a):
        return False
    if math.isnan(b):
        return True
    return a > b if goal == "max" else a < b


def gain(value: float, base: float, goal: str) -> float:
    """The improvement of `value` over `base` in the goal's direction."""
    return (value - base) if goal == "max" else (base - value)
