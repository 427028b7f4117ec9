"""Budget scaling for approximate runs (DESIGN §4): fewer boosting rounds, larger steps.

A fidelity's budget scale `s` in (0, 1] shrinks a round count (`budget=True` knobs and the
known boosting budgets: n_estimators, num_boost_round, max_iter) to about `s` times its
value, and a learning rate grows by `1 / s` so that rounds × learning rate — roughly how
far boosting travels — stays about the same. Pass the ratio actually applied,
`scaled_budget(v, s) / v`, to `compensated_learning_rate` when the floor or the rounding
moved it noticeably.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["compensated_learning_rate", "scaled_budget"]


def scaled_budget(value: int | float, scale: float, minimum: int = 10) -> int:
    """`value * scale` rounded half up, at least `minimum`, never more than `value`.

    A budget already at or below `minimum` is kept (rounded): scaling never raises it. So
    is a non-positive one, a library's sentinel (scikit-learn's `max_iter=-1`: no limit).
    """
    budget = _finite("value", value)
    factor = _scale(scale)
    floor = _integer("minimum", minimum)
    original = math.floor(budget + 0.5)
    if budget <= 0:
        return original
    return min(original, max(floor, math.floor(budget * factor + 0.5)))


def compensated_learning_rate(lr: float, scale: float, cap: float = 0.5) -> float:
    """`lr / scale`, but not above `cap`; a rate already above `cap` is kept as it is."""
    rate = _positive("lr", lr)
    factor = _scale(scale)
    limit = _positive("cap", cap)
    return min(rate / factor, max(limit, rate))


def _finite(name: str, value: object) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}.")
    return number


def _positive(name: str, value: object) -> float:
    number = _finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}.")
    return number


def _scale(scale: object) -> float:
    if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
        raise ValueError(f"scale must be a number with 0 < scale <= 1, not {scale!r}.")
    factor = float(scale)
    if not (0.0 < factor <= 1.0):
        raise ValueError(f"scale must be a number with 0 < scale <= 1, not {scale!r}.")
    return factor


def _integer(name: str, value: object) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or int(value) < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}.")
    return int(value)
