"""The baseline: Optuna's TPE over the same knobs, on full data, for the same wall clock.

The search space is every knob the variant generator would move (`steps.moves` decides
which are modelling knobs): declared or known choices and booleans as categories; a
positive number on a log scale within its declared or known range, narrowed to 16× either
side of its current value (ints stay ints; a fraction stays below 1). The user's own
configuration is the first trial. Each trial overlays the knob values (`with_knobs`) and
runs the workflow as plain Python (`plain.evaluate`), as a tuning script would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.suggest.plain import evaluate
from ghostrun.suggest.steps import FRACTION_OR_COUNT, KNOWN_CHOICES, KNOWN_RANGES, moves, parameter
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.overlay import with_knobs
from ghostrun.workflow.types import Knob

WIDTH = 16.0  # how far (×/÷) from the current value a number may go


@dataclass(frozen=True)
class Dimension:
    op: str
    knob: str
    current: Any
    suggest: Callable[[Any, str], Any]  # (optuna trial, name) -> value

    @property
    def name(self) -> str:
        return f"{self.op}:{self.knob}"


def space(workflow: Workflow) -> list[Dimension]:
    found = []
    for op in workflow.operators.values():
        if op.kind != "op":
            continue
        for knob in op.knobs:
            if moves(knob):
                suggest = _dimension(knob)
                if suggest is not None:
                    found.append(Dimension(op.name, knob.name, knob.value, suggest))
    return found


def _dimension(knob: Knob) -> Callable[[Any, str], Any] | None:
    value, name, declared = knob.value, parameter(knob), knob.range
    if declared is not None and declared.choices is not None:
        choices = list(declared.choices)
        return lambda trial, key: trial.suggest_categorical(key, choices)
    if isinstance(value, bool):
        return lambda trial, key: trial.suggest_categorical(key, [True, False])
    if isinstance(value, str):
        options = list(dict.fromkeys([value, *KNOWN_CHOICES.get(name, ())]))
        return lambda trial, key: trial.suggest_categorical(key, options)
    if not isinstance(value, int | float) or not value > 0:
        return None
    low, high = _bounds(knob)
    if isinstance(value, int):
        lo, hi = max(1, math.ceil(low)), max(1, math.floor(high))
        return lambda trial, key: trial.suggest_int(key, lo, max(lo, hi), log=True)
    return lambda trial, key: trial.suggest_float(key, low, high, log=True)


def _bounds(knob: Knob) -> tuple[float, float]:
    value, name, declared = float(knob.value), parameter(knob), knob.range
    known = KNOWN_RANGES.get(name)
    if name in FRACTION_OR_COUNT and isinstance(knob.value, float):
        known = FRACTION_OR_COUNT[name]
    low, high = known if known is not None else (0.0, math.inf)
    if known is None and isinstance(knob.value, float) and value < 1:
        high = 0.999
    if declared is not None:
        low = declared.low if declared.low is not None else low
        high = declared.high if declared.high is not None else high
    return max(low, value / WIDTH, 1e-12), max(min(high, value * WIDTH), value)


@dataclass(frozen=True)
class TpeResult:
    best_value: float
    best_params: dict[str, dict[str, Any]]  # op -> {knob -> value}, changed ones only
    trials: int
    seconds: float
    dimensions: int


def tune(workflow: Workflow, budget: float, seed: int = 0) -> TpeResult:
    """Run TPE for `budget` seconds of wall clock on the workflow's primary metric."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dims = space(workflow)
    study = optuna.create_study(
        direction="maximize" if workflow.goal == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    study.enqueue_trial({d.name: d.current for d in dims})

    def objective(trial: Any) -> float:
        values = {d.name: d.suggest(trial, d.name) for d in dims}
        return evaluate(overlaid(workflow, dims, values))

    started = time.monotonic()
    study.optimize(objective, timeout=budget, gc_after_trial=False)
    seconds = time.monotonic() - started
    done = [t for t in study.trials if t.value is not None and not math.isnan(t.value)]
    best = study.best_trial if done else None
    params = _changed(dims, best.params) if best is not None else {}
    return TpeResult(
        best_value=best.value if best is not None else math.nan,
        best_params=params,
        trials=len(study.trials),
        seconds=seconds,
        dimensions=len(dims),
    )


def overlaid(workflow: Workflow, dims: list[Dimension], values: dict[str, Any]) -> Workflow:
    changed = _changed(dims, values)
    return with_knobs(workflow, changed) if changed else workflow


def _changed(dims: list[Dimension], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for d in dims:
        if d.name in values and values[d.name] != d.current:
            found.setdefault(d.op, {})[d.knob] = values[d.name]
    return found
