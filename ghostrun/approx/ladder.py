"""The approximation ladder: which stages to run before the full result, and how big.

From the history's runtime model the run's full time T is predicted. A short run (a few
seconds; less in the hot worker, where a stage costs little besides its own compute) goes
straight to full. Otherwise a first stage sized to about T/30 per seed, repeated on a few
sample seeds so its delta has an uncertainty, at a quarter of the boosting budget; then
about T/5 on rows only (the full budget: budget scaling is what turned capacity and
rate edits the wrong way round on the fidelity bench), then full. Stages are sized
on the whole workflow's predicted time, so consecutive versions land on the same
fidelities; they snap to a fixed grid and prefer the fidelities the parent version ran at
(within some slack), so that a stage's delta is paired: the parent was measured on the
very same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ghostrun.workflow.types import FULL, Fidelity

FRACTION_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
SHORT_RUN = 3.0  # seconds: below this, approximate stages are not worth their overhead
SHORT_RUN_HOT = 1.5  # the same in the hot worker: intermediates in memory, no start-up
FIRST_SHARE, SECOND_SHARE = 1 / 30, 1 / 5
FIRST_BUDGET, SECOND_BUDGET = 0.25, 1.0
FIRST_SEEDS = 3
# Among the parent's fidelities, the largest that takes up to this many times the share.
PREFERRED_SLACK = 4.0
UNKNOWN_FIRST = Fidelity(fraction=0.05, budget=FIRST_BUDGET)


@dataclass(frozen=True)
class Stage:
    fidelity: Fidelity
    seeds: int = 1

    @property
    def is_full(self) -> bool:
        return self.fidelity.is_full

    def fidelities(self) -> list[Fidelity]:
        f = self.fidelity
        return [Fidelity(f.fraction, f.precision, f.budget, seed) for seed in range(self.seeds)]


Predict = Callable[[Fidelity], float]


def short_run(*, hot: bool) -> float:
    """Seconds below which a run goes straight to full."""
    return SHORT_RUN_HOT if hot else SHORT_RUN


def plan_ladder(
    predict: Predict | None,
    *,
    size: Predict | None = None,
    min_fraction: float = 0.0,
    preferred: Iterable[Fidelity] = (),
    approx_only: bool = False,
    full_only: bool = False,
    short: float = SHORT_RUN,
) -> list[Stage]:
    """Stages for one run. `predict(fidelity)` estimates this run's seconds (None: no
    history yet) and decides whether approximating pays; `size(fidelity)` estimates the
    whole workflow's and sizes the stages (default: `predict`)."""
    if full_only:
        return [Stage(FULL)]
    full_seconds = predict(FULL) if predict else None
    if not approx_only and (full_seconds is None or full_seconds < short):
        # Unknown (a first run: no parent to compare with anyway) or short: full at once.
        return [Stage(FULL)]
    sizing = size or predict
    stages = _approximate_stages(
        sizing, sizing(FULL) if sizing else None, min_fraction, list(preferred)
    )
    return stages if approx_only else [*stages, Stage(FULL)]


def _approximate_stages(
    predict: Predict | None,
    full_seconds: float | None,
    min_fraction: float,
    preferred: list[Fidelity],
) -> list[Stage]:
    if predict is None or full_seconds is None:
        return [Stage(UNKNOWN_FIRST, FIRST_SEEDS)]
    first = _sized(predict, full_seconds * FIRST_SHARE, FIRST_BUDGET, min_fraction, preferred)
    second = _sized(predict, full_seconds * SECOND_SHARE, SECOND_BUDGET, min_fraction, preferred)
    stages = [Stage(first, FIRST_SEEDS)]
    if second.fraction > first.fraction and predict(second) < full_seconds / 2:
        stages.append(Stage(second))
    return stages


def _sized(
    predict: Predict, target: float, budget: float, min_fraction: float, preferred: list[Fidelity]
) -> Fidelity:
    """The largest fraction predicted to fit `target`; but one the parent ran at, when
    there is one at this budget (the largest that fits `PREFERRED_SLACK` times the target,
    else the smallest): an unpaired stage would have no delta at all."""
    known = [f for f in preferred if min_fraction <= f.fraction < 1 and f.budget == budget]
    if known:
        fitting = [f for f in known if predict(f) <= target * PREFERRED_SLACK]
        best = max(fitting or [min(known, key=lambda f: f.fraction)], key=lambda f: f.fraction)
        return Fidelity(best.fraction, best.precision, best.budget)
    grid = [Fidelity(f, budget=budget) for f in FRACTION_GRID if f >= min_fraction]
    fits = [f for f in grid if predict(f) <= target]
    if fits:
        return fits[-1]
    return grid[0] if grid else Fidelity(FRACTION_GRID[-1], budget=budget)


@dataclass(frozen=True)
class SeedResults:
    """One stage's primary metric per seed, for this version and (where measured) its parent."""

    current: Sequence[float]
    parent: Sequence[float | None]


def paired_delta(results: SeedResults) -> tuple[float | None, float | None]:
    """Mean paired delta over seeds and its standard error (None where it cannot be had)."""
    pairs = [c - p for c, p in zip(results.current, results.parent, strict=True) if p is not None]
    if not pairs:
        return None, None
    mean = sum(pairs) / len(pairs)
    if len(pairs) < 2:
        return mean, None
    var = sum((d - mean) ** 2 for d in pairs) / (len(pairs) - 1)
    return mean, (var / len(pairs)) ** 0.5


# Two-sided 90% Student t critical values by degrees of freedom: few seeds, wide margins.
_T90 = {1: 6.31, 2: 2.92, 3: 2.35, 4: 2.13, 5: 2.02}


def critical_value(n_pairs: int) -> float:
    return _T90.get(n_pairs - 1, 1.9) if n_pairs >= 2 else 0.0


def extrapolate(points: Sequence[tuple[float, float]]) -> float | None:
    """The full-data value predicted from (fraction, value) stage results: a metric, or a
    paired delta (the difference of two learning curves flattens the same way).

    Learning curves flatten like m(f) ≈ a + b/√f; with two or more fractions, a and b are
    fitted by least squares and m(1) = a + b returned.
    """
    xs = [f**-0.5 for f, _ in points if f > 0]
    ys = [m for f, m in points if f > 0]
    if len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    a = my - b * mx
    return a + b
