"""Comparing a stage's primary metric with the parent version's at the same fidelity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ghostrun.workflow.types import Goal

Verdict = Literal["better", "worse", "unclear"]


@dataclass(frozen=True)
class Comparison:
    delta: float
    uncertainty: float | None
    verdict: Verdict


def compare(
    value: float, before: float, goal: Goal, uncertainty: float | None = None, z: float = 2.0
) -> Comparison:
    """Better or worse only when the delta, in the goal's direction, exceeds the noise.

    With no uncertainty (an exact full run), any non-zero delta decides.
    """
    delta = value - before
    gain = delta if goal == "max" else -delta
    noise = z * uncertainty if uncertainty else 0.0
    if gain > noise:
        verdict: Verdict = "better"
    elif gain < -noise:
        verdict = "worse"
    else:
        verdict = "unclear"
    return Comparison(delta=delta, uncertainty=uncertainty, verdict=verdict)
