"""Comparing a stage's primary metric with the parent version's at the same fidelity.

An exact (full) stage decides on any non-zero delta. An approximate stage decides only
when its paired delta clears its noise by a margin and what its fidelity has shown about
itself: sample-size and budget effects can keep a delta's sign consistent across seeds yet
wrong (see `ghostrun.approx.sensitivity`), and the seeds measure none of that. So a stage
is never more confident than its fidelity's agreement with full data in earlier edits
(its track record): once that is known the delta must clear it, whatever the other stages
say; before it is known, only an earlier stage that was clear of its own noise, with the
same sign, can back a verdict. Otherwise the answer is "too close to call".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ghostrun.approx.ladder import critical_value, extrapolate
from ghostrun.workflow.types import Goal

Verdict = Literal["better", "worse", "unclear"]

# A single seed's margin, on an error borrowed from elsewhere (another stage's seeds, or
# earlier edits' spread over seeds): the three-seed t value.
BORROWED_MARGIN = 2.92


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


@dataclass(frozen=True)
class StageEvidence:
    """What one approximate stage measured: paired deltas (this version minus the parent,
    one per sample seed both ran) at a row fraction and budget scale; and what earlier
    edits say about that fidelity (None when unknown): how far one seed's paired delta
    spreads (`seed_spread`, a standard deviation) and how far its paired deltas have been
    from the full ones (`bias`, the largest such distance)."""

    fraction: float
    budget: float
    deltas: tuple[float, ...]
    seed_spread: float | None = None
    bias: float | None = None

    @property
    def mean(self) -> float:
        return statistics.fmean(self.deltas)

    @property
    def standard_error(self) -> float | None:
        if len(self.deltas) < 2:
            return None
        return statistics.stdev(self.deltas) / math.sqrt(len(self.deltas))


def judge(stages: Sequence[StageEvidence], goal: Goal) -> Comparison | None:
    """The verdict of the last of `stages` (earlier ones: this invocation's stages before
    it, smallest first). None when it has no paired delta.

    Decisive when the gain clears `margin × error`: the error is the seeds' standard error
    (margin: Student t), or for a single seed one borrowed from an earlier stage (scaled
    by √(fraction ratio): sampling noise shrinks with rows) or, failing that, the spread
    earlier edits' paired deltas showed over seeds. The seeds measure sampling noise only;
    a sample or a scaled budget can also move a delta consistently across seeds (bias).
    With a track record at this fidelity (`bias` not None), the gain must clear both, as
    independent errors: `√((margin × error)² + bias²)`, so never less than the largest
    distance from the full delta this fidelity has shown; earlier stages cannot excuse it
    (a sample's bias is shared across fractions). Without a record, an earlier, smaller
    stage must back it: the same sign, one of them clear of its own seeds' noise, and a
    trend (among stages at one budget) that keeps the sign.
    """
    if not stages or not stages[-1].deltas:
        return None
    current = stages[-1]
    delta = current.mean
    error, margin = _error(stages)
    if error is None:
        return Comparison(delta, None, "unclear")
    gain = delta if goal == "max" else -delta
    verdict = _decide(gain, margin * error)
    if verdict == "unclear":
        return Comparison(delta, error, verdict)
    if current.bias is not None:
        verdict = _decide(gain, math.hypot(margin * error, current.bias))
    elif not _backed(stages):
        verdict = "unclear"
    return Comparison(delta, error, verdict)


def _error(stages: Sequence[StageEvidence]) -> tuple[float | None, float]:
    current = stages[-1]
    own = current.standard_error
    if own is not None:
        return own, critical_value(len(current.deltas))
    for earlier in reversed(stages[:-1]):
        se = earlier.standard_error
        if se is not None and earlier.fraction > 0:
            return se * math.sqrt(earlier.fraction / current.fraction), BORROWED_MARGIN
    if current.seed_spread is not None:
        return current.seed_spread, BORROWED_MARGIN
    return None, 0.0


def _clear_of_seeds(stage: StageEvidence) -> bool:
    se = stage.standard_error
    return se is not None and abs(stage.mean) > critical_value(len(stage.deltas)) * se


def _decide(gain: float, threshold: float) -> Verdict:
    if gain > threshold and gain > 0:
        return "better"
    if gain < -threshold and gain < 0:
        return "worse"
    return "unclear"


def _backed(stages: Sequence[StageEvidence]) -> bool:
    """Earlier, smaller stages with the same sign, one of them clear of its own seeds'
    noise (a sign alone agrees half the time by chance), and a trend that keeps it."""
    current = stages[-1]
    earlier = [s for s in stages[:-1] if s.deltas and s.fraction < current.fraction]
    if not earlier:
        return False
    sign = math.copysign(1.0, current.mean)
    if any(math.copysign(1.0, s.mean) != sign for s in earlier):
        return False
    if not any(_clear_of_seeds(s) for s in earlier):
        return False
    # a trend only among stages at one budget: a budget change moves the delta too
    points = [(s.fraction, s.mean) for s in [*earlier, current] if s.budget == current.budget]
    full = extrapolate(points)
    return full is None or math.copysign(1.0, full) == sign
