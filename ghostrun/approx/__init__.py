"""Approximate runs (DESIGN §4): deterministic row samples, scaled boosting budgets."""

from ghostrun.approx.budget import compensated_learning_rate, scaled_budget
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
