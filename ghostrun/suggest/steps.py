"""Single moves of one knob value: log-scale steps, flips, neighbouring choices.

A positive number moves ×2 and ÷2 (DESIGN §7), clipped to its range: the one declared
with `gr.knob(low=, high=)`, else a sane range known for well-known estimator parameters
(`num_leaves`, `learning_rate`, `C`, ...). Integers stay integers (rounded, duplicates
and no-ops removed), and a float between 0 and 1 with no known range stays strictly
between 0 and 1 (a step up from 0.8 goes halfway to 1). Booleans flip; a value with
declared `choices` moves to the choices next to it. Zero, negative numbers (`max_depth=-1`
means "no limit"), seeds, thread counts, verbosity and the evaluation split's size are
left alone: moving them is not a modelling change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ghostrun.workflow.types import Knob, KnobRange

FRACTION = (0.0, 1.0)

KNOWN_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(("num_leaves", "max_leaf_nodes", "max_leaves"), (2, 4096)),
    "max_depth": (1, 64),
    **dict.fromkeys(("learning_rate", "eta"), (1e-4, 1.0)),
    **dict.fromkeys(("n_estimators", "num_boost_round", "num_iterations"), (1, 20_000)),
    "max_iter": (10, 100_000),
    **dict.fromkeys(("min_child_samples", "min_samples_leaf", "min_data_in_leaf"), (1, 100_000)),
    "min_samples_split": (2, 100_000),
    "min_child_weight": (1e-3, 1e4),
    **dict.fromkeys(
        (
            "subsample",
            "colsample_bytree",
            "colsample_bylevel",
            "colsample_bynode",
            "feature_fraction",
            "bagging_fraction",
            "max_samples",
        ),
        (0.05, 1.0),
    ),
    **dict.fromkeys(
        ("reg_alpha", "reg_lambda", "lambda_l1", "lambda_l2", "l2_regularization"), (1e-8, 1e3)
    ),
    **dict.fromkeys(("gamma", "min_split_gain", "min_impurity_decrease"), (1e-8, 100.0)),
    "C": (1e-6, 1e6),
    "alpha": (1e-8, 1e6),
    "l1_ratio": (0.01, 1.0),
    "max_bins": (8, 255),
    "max_bin": (8, 1023),
    "n_neighbors": (1, 1000),
    "subsample_freq": (1, 100),
}
"""Sane ranges of well-known parameters (ints where the value is an int)."""

FRACTION_OR_COUNT = {"max_features": (0.05, 1.0), "max_samples": (0.05, 1.0)}
"""Parameters that are a fraction when a float and a count when an int."""

KNOWN_CHOICES: dict[str, tuple[str, ...]] = {
    "criterion": ("gini", "entropy", "log_loss"),
    "max_features": ("sqrt", "log2"),
    "grow_policy": ("depthwise", "lossguide"),
}

NOT_MODELLING = frozenset(
    {
        "random_state",
        "seed",
        "random_seed",
        "verbose",
        "verbosity",
        "silent",
        "n_jobs",
        "nthread",
        "num_threads",
        "thread_count",
        "test_size",
        "train_size",
        "device",
        "importance_type",
        "enable_categorical",
        "copy_X",
        "force_col_wise",
        "force_row_wise",
        "deterministic",
        "validate_parameters",
    }
)
"""Parameters whose value is not a modelling choice (or changes what is measured)."""


def parameter(knob: Knob) -> str:
    """The parameter a knob sets: `num_leaves` for `LGBMClassifier#2.num_leaves`."""
    return knob.name.rsplit(".", 1)[-1]


def moves(knob: Knob) -> list[Any]:
    """New values one step away from the knob's value, nearest first, no duplicates."""
    name, value, rng = parameter(knob), knob.value, knob.range
    if knob.is_data or name in NOT_MODELLING:
        return []
    if rng is not None and rng.choices is not None:
        return _neighbouring(list(rng.choices), value)
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, str):
        return _neighbouring(list(KNOWN_CHOICES.get(name, ())), value)
    if isinstance(value, int | float) and math.isfinite(value) and value > 0:
        return _steps(value, _bounds(name, value, rng))
    return []


def _neighbouring(choices: Sequence[Any], value: Any) -> list[Any]:
    same = [i for i, c in enumerate(choices) if c == value and type(c) is type(value)]
    if not same:
        return []
    i = same[0]
    return [choices[j] for j in (i - 1, i + 1) if 0 <= j < len(choices)]


def _bounds(name: str, value: float, rng: KnobRange | None) -> tuple[float | None, float | None]:
    known = KNOWN_RANGES.get(name)
    if name in FRACTION_OR_COUNT:
        known = FRACTION_OR_COUNT[name] if isinstance(value, float) else (1, 100_000)
    if known is None and isinstance(value, float) and value < 1:
        known = FRACTION  # open: stays strictly inside
    low, high = known if known is not None else (None, None)
    if rng is not None:
        low = rng.low if rng.low is not None else low
        high = rng.high if rng.high is not None else high
    return low, high


def _steps(value: float, bounds: tuple[float | None, float | None]) -> list[Any]:
    low, high = bounds
    found: list[Any] = []
    for raw in (value * 2, value / 2):
        step = _within(value, raw, low, high)
        if isinstance(value, int):
            step = int(round(step))
            if low is not None and step < low:
                step = math.ceil(low)
            if high is not None and step > high:
                step = math.floor(high)
            if step < 1:
                continue
        else:
            step = float(f"{step:.6g}")
        if step != value and step > 0 and step not in found:
            found.append(step)
    return found


def _within(value: float, step: float, low: float | None, high: float | None) -> float:
    if (low, high) == FRACTION and step >= 1:
        return (value + 1) / 2  # halfway to 1, still below it
    if high is not None and step > high:
        return high
    if low is not None and step < low:
        return low
    return step
