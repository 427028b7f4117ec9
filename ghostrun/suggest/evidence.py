"""What the trials recorded on one version say about each of its variants.

A variant's evidence is its latest trial at each fidelity; the one at the highest fidelity
decides. Its delta's noise is the standard error over sample seeds. A full-data delta has
no seeds: it borrows the error of the same variant's seeded sample rung (shrunk as
1/√rows), or, where nothing was sampled (small data), the spread of the full-data deltas
on this version. Most nearby moves change little, so the small end of that spread is how
much a move changes the metric by chance: for noise N(0, σ), P(|δ| < 0.3186 σ) = 1/4, so
the lower quartile of |δ| over 0.3186 estimates σ (moves that change nothing at all, exact
zeros, are no noise and left out). Only single moves count: see `noise_spread`.

A gain must clear the noise by a margin: the Student t value of its seeds, else 2 — or
more when many variants were measured on full data, since the best of N noisy deltas
lands about √(2 ln N) standard errors high by chance alone.

Where exploration also measured a finding on other train/test splits (a resplit trial,
short runs: `halving.RESPLIT_RUNG`), those decide instead: confirmed when the mean paired
gain over all splits clears its standard error by the Student t value (or √(2 ln N) for N
findings measured so), and ranked by that mean. The splits share most of their training
rows, so their deltas are correlated and the naive error too small: it is corrected as
Nadeau and Bengio's resampled t-test does, σ·√(1/n + n_test/n_train). The expected delta
stays the one on the user's split (what `apply` shows); its ± is one split's spread.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence, Set
from dataclasses import dataclass

from ghostrun.approx.ladder import critical_value
from ghostrun.errors import WorkflowError
from ghostrun.history import History, TrialRecord, VariantRecord
from ghostrun.suggest.variant import Variant

Z_BORROWED = 2.0
MIN_SPREAD_TRIALS = 6  # full-data deltas needed before their spread stands for noise
QUARTILE_Z = 0.3186  # the lower quartile of |N(0, 1)|
TEST_TO_TRAIN = 0.43  # n_test / n_train of a usual 30% test split (the correction's ratio)

CONFIRMED, LIKELY, UNCONFIRMED = 0, 1, 2
"""Tiers: better beyond noise on full data; beyond noise on samples only; within noise."""


@dataclass(frozen=True)
class Evidence:
    record: VariantRecord
    variant: Variant
    best: TrialRecord  # the latest trial at the highest fidelity measured
    fidelities: list[float]
    runs: int
    seconds: float | None  # the variant's full run, when measured
    error: float | None
    z: float
    splits: tuple[float, float, int] | None = None  # mean gain, its standard error, splits
    awaits_splits: bool = False  # other findings of this base were measured on other splits

    @property
    def gain(self) -> float | None:
        """The delta at the highest fidelity, in the goal's direction."""
        return self.best.gain if self.best.status == "ok" else None

    @property
    def beyond(self) -> bool:
        gain = self.gain
        return gain is not None and (self.error is None or gain > self.z * self.error)

    @property
    def tier(self) -> int | None:
        """None when this is no improvement at all."""
        gain = self.gain
        if gain is None or not gain > 0:
            return None
        if self.splits is not None:
            mean, error, _ = self.splits
            if not mean > 0:
                return None  # better on the user's split only: worse on average
            return CONFIRMED if mean > self.z * error else UNCONFIRMED
        if self.best.fidelity.is_full:
            return CONFIRMED if self.beyond and not self.awaits_splits else UNCONFIRMED
        return LIKELY if self.beyond and self.error is not None else UNCONFIRMED

    @property
    def estimate(self) -> tuple[float, float]:
        """The best estimate of the gain and its standard error: the mean over splits
        where measured (one split's delta is picked for luck among many), else the gain."""
        if self.splits is not None:
            return self.splits[0], self.splits[1]
        return self.gain or 0.0, self.error or 0.0

    @property
    def score(self) -> float:
        """The gain less one standard error: a solid gain beats a shaky larger one."""
        gain, error = self.estimate
        return gain - error


def evidence(history: History, base: str) -> list[Evidence]:
    """The evidence for every variant of `base` with a trial on it."""
    trials = history.trials(base_version=base)
    records = history.variants(base_version=base)
    variants = {r.variant_id: v for r in records if (v := _variant(r)) is not None}
    noise = noise_spread(trials, {k for k, v in variants.items() if len(v.parts) == 1})
    measured_full = len({t.variant_id for t in trials if t.fidelity.is_full})
    z_full = max(Z_BORROWED, _best_of(measured_full))
    resplit = len({t.variant_id for t in trials if is_resplit(t)})
    found = []
    for record in records:
        mine = [t for t in trials if t.variant_id == record.variant_id]
        judged = _judge(record, mine, noise, z_full, _best_of(resplit) if resplit else None)
        if judged is not None:
            found.append(judged)
    return found


def noise_spread(trials: Sequence[TrialRecord], singles: Set[str] | None = None) -> float | None:
    """σ of a full-data delta by chance, from the lower quartile of the single moves' delta
    sizes (`singles`: their variant ids; all variants when None), or None with too few.

    Combinations are left out: a walk from a big finding repeats the finding's own gain,
    and the small steps of a walk along a plateau change next to nothing, neither of which
    says how much one move from the base changes the metric by chance."""
    latest: dict[str, float] = {}
    for t in trials:  # newest first
        if singles is not None and t.variant_id not in singles:
            continue
        if t.fidelity.is_full and t.status == "ok" and t.delta is not None:
            latest.setdefault(t.variant_id, abs(t.delta))
    sizes = sorted(d for d in latest.values() if d > 1e-12)
    if len(sizes) < MIN_SPREAD_TRIALS:
        return None
    return statistics.quantiles(sizes, n=4, method="inclusive")[0] / QUARTILE_Z


def is_resplit(trial: TrialRecord) -> bool:
    """Was the trial measured on several train/test splits (full data, several seeds)?"""
    return trial.fidelity.is_full and len({r.seed for r in trial.runs}) > 1


def split_gains(trial: TrialRecord) -> tuple[float, float, int] | None:
    """Mean paired gain over a resplit trial's splits, its standard error, and how many."""
    sign = 1.0 if trial.goal == "max" else -1.0
    deltas = [
        sign * (r.value - r.base_value)
        for r in trial.runs
        if r.value is not None and r.base_value is not None
    ]  # fmt: skip
    if trial.status != "ok" or len(deltas) < 2:
        return None
    n = len(deltas)
    return statistics.fmean(deltas), statistics.stdev(deltas) * math.sqrt(1 / n + TEST_TO_TRAIN), n


def part_keys(variant: Variant) -> frozenset[str]:
    """A variant's parts, comparable across variants (a pair's parts are single changes)."""
    return frozenset(json.dumps(p, sort_keys=True, default=str) for p in variant.parts)


def _best_of(n: int) -> float:
    """How many standard errors the best of `n` chance deltas lands high: √(2 ln n)."""
    return math.sqrt(2 * math.log(max(n, 1)))


def _judge(
    record: VariantRecord, trials: Sequence[TrialRecord], noise: float | None, z_full: float,
    z_splits: float | None,
) -> Evidence | None:  # fmt: skip
    """`z_splits`: the margin for resplit trials, None when this base has none (then a
    full-data delta is judged against the noise alone)."""
    latest: dict[tuple[float, str, float, bool], TrialRecord] = {}
    for t in trials:  # newest first: keep the latest per fidelity (and resplit or not)
        f = t.fidelity
        latest.setdefault((f.fraction, f.precision, f.budget, is_resplit(t)), t)
    if not latest:
        return None
    variant = _variant(record)
    if variant is None:
        return None
    best = max(
        latest.values(), key=lambda t: (t.fidelity.fraction, t.fidelity.budget, is_resplit(t))
    )
    error, z = _error(best, list(latest.values()), noise, z_full)
    splits = split_gains(best) if is_resplit(best) else None
    if splits is not None:
        z = max(critical_value(splits[2]), z_splits or 0.0)
    full = [t for t in latest.values() if t.fidelity.is_full and t.status == "ok"]
    return Evidence(
        record=record, variant=variant, best=best,
        fidelities=sorted({t.fidelity.fraction for t in latest.values()}),
        runs=sum(max(1, len(t.runs)) for t in trials),
        seconds=_full_seconds(full),
        error=error, z=z, splits=splits, awaits_splits=z_splits is not None and splits is None,
    )  # fmt: skip


def _full_seconds(full: Sequence[TrialRecord]) -> float | None:
    """A full run's time: a single-split trial's, else the mean over a resplit's runs."""
    single = [t for t in full if not is_resplit(t)]
    if single:
        return single[0].seconds
    return full[0].seconds / max(1, len(full[0].runs)) if full else None


def _error(
    best: TrialRecord, trials: list[TrialRecord], noise: float | None, z_full: float
) -> tuple[float | None, float]:
    """The delta's standard error and the multiple of it a real gain must clear."""
    if best.uncertainty is not None:
        return best.uncertainty, critical_value(len(best.runs)) or Z_BORROWED
    seeded = [
        t for t in trials
        if t.uncertainty is not None and t.status == "ok" and t.fidelity.fraction > 0
    ]  # fmt: skip
    z = z_full if best.fidelity.is_full else Z_BORROWED
    if seeded:
        donor = max(seeded, key=lambda t: t.fidelity.fraction)
        scale = math.sqrt(donor.fidelity.fraction / best.fidelity.fraction)
        return donor.uncertainty * scale, z  # type: ignore[operator]
    if best.fidelity.is_full and noise is not None:
        return noise, z
    return None, z


def _variant(record: VariantRecord) -> Variant | None:
    try:
        return Variant.from_json(record.change)
    except (WorkflowError, ValueError, KeyError, TypeError):
        return None
