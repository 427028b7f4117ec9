"""Approximate runs (DESIGN §4): deterministic row samples, scaled boosting budgets.

The sampling names are imported on first use (PEP 562): sampling needs numpy, pandas and
pyarrow, which a run that only loads cached results, yet imports `approx.scaling`, must
not pay for (about half a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ghostrun.approx.budget import compensated_learning_rate, scaled_budget

if TYPE_CHECKING:
    from ghostrun.approx.sampling import (
        SampleError,
        SampleResult,
        SampleSpec,
        effective_fraction,
        sample,
    )

__all__ = [
    "SampleError",
    "SampleResult",
    "SampleSpec",
    "compensated_learning_rate",
    "effective_fraction",
    "sample",
    "scaled_budget",
]

_FROM_SAMPLING = frozenset(
    {"SampleError", "SampleResult", "SampleSpec", "effective_fraction", "sample"}
)


def __getattr__(name: str) -> Any:
    if name in _FROM_SAMPLING:
        from ghostrun.approx import sampling

        return getattr(sampling, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
