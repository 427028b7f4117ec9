"""Calling user operators and turning their failures into reports about *their* code."""

from __future__ import annotations

import math
import numbers
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ghostrun.errors import MetricValueError, UserCodeError
from ghostrun.workflow.dependencies import project_frames
from ghostrun.workflow.types import Operator


def call_operator(op: Operator, inputs: Mapping[str, Any], root: Path) -> Any:
    """Run one operator; any exception becomes a UserCodeError with a trimmed traceback."""
    kwargs = {**inputs, **op.explicit_knob_values}
    try:
        return op.func(**kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit in user code is a failure too
        raise UserCodeError(
            op.name, f"{type(exc).__name__}: {exc}", user_traceback(exc, root)
        ) from exc


def user_traceback(exc: BaseException, root: Path) -> str:
    """The traceback restricted to frames in the user's project, innermost last."""
    frames = project_frames(exc, root)
    lines = ["Traceback (most recent call last, your code only):\n"]
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def metric_values(op: Operator, value: Any) -> dict[str, float]:
    """A metric's value as named floats: `name` for a number, `name.key` for a dict."""
    if isinstance(value, Mapping):
        if not value:
            raise _not_numeric(op, value)
        return {f"{op.name}.{key}": _as_float(op, v) for key, v in value.items()}
    return {op.name: _as_float(op, value)}


def _as_float(op: Operator, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)
        if getattr(value, "shape", None) == () and callable(item):
            return _as_float(op, item())  # a 0-d array
        raise _not_numeric(op, value)
    result = float(value)
    if math.isnan(result):
        raise MetricValueError(
            op.name,
            f"metric returned NaN ({op.location}); check for empty or constant inputs.",
        )
    return result


def _not_numeric(op: Operator, value: Any) -> MetricValueError:
    shown = repr(value)
    shown = shown if len(shown) < 80 else shown[:77] + "..."
    return MetricValueError(
        op.name,
        f"metric returned {type(value).__name__} {shown} ({op.location}); return a float "
        "or a dict of floats.",
    )


def row_count(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape:
        return int(shape[0])
    return None
