"""Successive halving over fidelities: rungs, how many variants a budget affords, promotion.

Many variants are measured on the cheapest rung (a small sample, several sample seeds);
the best third go up a rung, and so on until the finalists are confirmed on the full data.
Everything here is arithmetic on predicted seconds and measured gains, so it is tested on
synthetic numbers; `search` does the running.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ghostrun.approx.ladder import (
    FIRST_BUDGET,
    FIRST_SHARE,
    FRACTION_GRID,
    SECOND_BUDGET,
    SECOND_SHARE,
    SHORT_RUN,
)
from ghostrun.workflow.types import FULL, Fidelity

ETA = 3  # keep the best third at each rung
FIRST_SEEDS = 3
SECOND_SEEDS = 2
RESPLITS = 4  # other train/test splits a small table's finding is measured on


@dataclass(frozen=True)
class Rung:
    """One fidelity of the halving, measured on `seeds` sample seeds (1 for full data).

    A resplit rung (`resplits` > 0, full data) measures a variant on the user's split and
    on that many others, each paired with the base on the same split (`workflow.resplit`):
    on a small table, the spread over splits is the noise a single split hides."""

    fidelity: Fidelity
    seeds: int = 1
    resplits: int = 0

    @property
    def is_full(self) -> bool:
        return self.fidelity.is_full

    @property
    def runs(self) -> int:
        """Runs of a variant a trial at this rung takes."""
        return len(self.fidelities()) * (1 + self.resplits)

    def fidelities(self) -> list[Fidelity]:
        f = self.fidelity
        if f.fraction >= 1.0:
            return [Fidelity(f.fraction, f.precision, f.budget, 0)]
        return [Fidelity(f.fraction, f.precision, f.budget, s) for s in range(self.seeds)]


FULL_RUNG = Rung(FULL)
RESPLIT_RUNG = Rung(FULL, resplits=RESPLITS)


def plan_rungs(
    predict: Callable[[Fidelity], float] | None, preferred: Sequence[Fidelity] = ()
) -> list[Rung]:
    """The rungs for a variant whose full run `predict(FULL)` takes T seconds: full only
    when short (or unknown), else a first rung of about T/30 per seed on three seeds, a
    second of about T/5 per seed on two when it is clearly cheaper than full, then full
    (the ladder's stages). Fidelities in `preferred` (where the base already ran: its
    results there are paired for free) win when they fit."""
    if predict is None or predict(FULL) < SHORT_RUN:
        return [FULL_RUNG]
    full = predict(FULL)
    first = _largest(predict, full * FIRST_SHARE, FIRST_BUDGET, preferred)
    second = _largest(predict, full * SECOND_SHARE, SECOND_BUDGET, preferred)
    rungs = [Rung(first, FIRST_SEEDS)]
    if second.fraction > first.fraction and predict(second) < full / 2:
        rungs.append(Rung(second, SECOND_SEEDS))
    return [*rungs, FULL_RUNG]


def _largest(
    predict: Callable[[Fidelity], float], target: float, budget: float,
    preferred: Sequence[Fidelity],
) -> Fidelity:  # fmt: skip
    known = [
        Fidelity(f.fraction, f.precision, f.budget)
        for f in preferred
        if 0 < f.fraction < 1 and f.budget == budget and predict(f) <= target
    ]
    if known:
        return max(known, key=lambda f: f.fraction)
    grid = [Fidelity(f, budget=budget) for f in FRACTION_GRID]
    fits = [f for f in grid if predict(f) <= target]
    return fits[-1] if fits else grid[0]


def bracket_size(costs: Sequence[float], seconds: float, *, most: int) -> int:
    """How many variants a bracket can start on the first rung: the largest n (up to `most`)
    whose halving, n then ⌈n/3⌉ then ... variants over the rungs of per-variant `costs`,
    is predicted to fit in `seconds`. 0 when not even one variant fits."""
    best = 0
    for n in range(1, most + 1):
        if bracket_cost(costs, n) > seconds:
            break
        best = n
    return best


def bracket_cost(costs: Sequence[float], n: int) -> float:
    total, count = 0.0, n
    for cost in costs:
        total += count * cost
        count = survivors(count)
    return total


def survivors(n: int) -> int:
    """How many of `n` measured variants go up a rung: the best third, at least one."""
    return max(1, math.ceil(n / ETA)) if n > 0 else 0


@dataclass(frozen=True)
class Score:
    """A variant's measured gain (delta in the goal's direction) at one rung."""

    key: str
    gain: float | None  # None: failed or not comparable
    error: float | None = None  # standard error over seeds, when known


def promote(scores: Sequence[Score], *, keep: int | None = None, z: float = 1.0) -> list[str]:
    """The keys that go up a rung, best first: the top `keep` (default: the best third of
    all measured) among those that may still be improvements, i.e. whose gain plus `z`
    standard errors is positive. A variant clearly worse than the base is never promoted,
    so a rung where nothing helps promotes nothing and saves the budget."""
    keep = survivors(len(scores)) if keep is None else keep
    hopeful = [
        s for s in scores if s.gain is not None and math.isfinite(s.gain) and _optimistic(s, z) > 0
    ]
    hopeful.sort(key=lambda s: (-(s.gain or 0.0), -_optimistic(s, z), s.key))
    return [s.key for s in hopeful[:keep]]


def _optimistic(score: Score, z: float) -> float:
    gain = score.gain if score.gain is not None else -math.inf
    return gain + z * (score.error or 0.0)
