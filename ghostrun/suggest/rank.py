"""Ranking what exploration found into suggestions, from the history alone (DESIGN §7, §8).

A variant is suggested only as an improvement: its paired delta at the highest fidelity it
was measured at must point the goal's way. Suggestions come in three tiers: confirmed on
the full data beyond noise; better beyond noise on samples but not yet confirmed; and
improvements within noise, flagged as unconfirmed in `why`. Within a tier they are ordered
by the gain less one standard error, so a large but shaky gain does not outrank a solid
one.

The noise of a delta is its standard error over sample seeds. A full-data delta has no
seeds; it borrows the error of the same variant's seeded sample rung (shrunk as 1/√rows),
or, where nothing was sampled (small data), the spread of all full-data deltas on this
version: most nearby moves change little, so the small end of that spread is how much a
move changes the metric by chance.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghostrun.approx.ladder import critical_value
from ghostrun.errors import WorkflowError
from ghostrun.history import History, TrialRecord, VariantRecord
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.types import VersionSnapshot
from ghostrun.workflow.version import Version

Z_BORROWED = 2.0  # how many borrowed standard errors a delta must clear
MIN_SPREAD_TRIALS = 6  # full-data deltas needed before their spread stands for noise
QUARTILE_Z = 0.3186  # the lower quartile of |N(0, 1)|


@dataclass(frozen=True)
class Suggestion:
    """One change worth making to `base_version`, with its evidence."""

    rank: int
    variant: Variant
    description: str
    op: str
    location: str
    expected_delta: float
    uncertainty: float | None
    fidelities: list[float]
    runs: int
    confirmed_full: bool
    seconds: float | None  # measured time of the variant's full run, when known
    why: str
    base_version: str
    base_fingerprints: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.variant.id

    def to_json(self) -> dict[str, Any]:
        """One entry of `ghostrun suggest --json` (DESIGN §8), plus `why`, `seconds` and
        what `apply` checks (`base_version`, `base_fingerprints`)."""
        return {
            "id": self.id,
            "rank": self.rank,
            "description": self.description,
            "op": self.op,
            "location": self.location,
            "change": self.variant.to_json(),
            "expected_delta": self.expected_delta,
            "uncertainty": self.uncertainty,
            "evidence": {
                "fidelities": list(self.fidelities),
                "runs": self.runs,
                "confirmed_full": self.confirmed_full,
            },
            "why": self.why,
            "seconds": self.seconds,
            "base_version": self.base_version,
            "base_fingerprints": dict(self.base_fingerprints),
        }


VersionRef = Version | VersionSnapshot | str | None


def suggestions(history: History, version: VersionRef = None, n: int = 10) -> list[Suggestion]:
    """Ranked by expected improvement of the primary metric (goal-aware), from the history
    alone (no daemon needed). `version` is the version to suggest changes to (a Version,
    a snapshot or a version id); by default the version of the latest user run."""
    base = _base_id(history, version)
    if base is None:
        return []
    trials = history.trials(base_version=base)
    if not trials:
        return []
    noise = _spread(trials)
    found = []
    for record in history.variants(base_version=base):
        mine = [t for t in trials if t.variant_id == record.variant_id]
        judged = _judge(record, mine, noise)
        if judged is not None:
            found.append(judged)
    found.sort(key=lambda j: (j.tier, -j.score, j.record.variant_id))
    return [j.suggestion(rank) for rank, j in enumerate(found[:n], start=1)]


def _base_id(history: History, version: VersionRef) -> str | None:
    if isinstance(version, Version | VersionSnapshot):
        return version.version_id
    if isinstance(version, str):
        return history.resolve_version(version)
    return history.current_version("user")


def _spread(trials: Sequence[TrialRecord]) -> float | None:
    """How much a full-data delta on this version moves by chance, or None with too few.

    Most nearby moves change little, but a planted bad knob makes many of them change a
    lot, so the deltas are not one noise distribution. The lower quartile of their sizes
    is still mostly noise: for a normal noise N(0, σ), P(|δ| < 0.3186 σ) = 1/4. Moves that
    change nothing at all (exact zeros) are not noise and are left out.
    """
    latest: dict[str, float] = {}
    for t in trials:  # newest first
        if t.fidelity.is_full and t.status == "ok" and t.delta is not None:
            latest.setdefault(t.variant_id, abs(t.delta))
    sizes = sorted(d for d in latest.values() if d > 1e-12)
    if len(sizes) < MIN_SPREAD_TRIALS:
        return None
    return statistics.quantiles(sizes, n=4, method="inclusive")[0] / QUARTILE_Z


@dataclass(frozen=True)
class _Judged:
    record: VariantRecord
    variant: Variant
    best: TrialRecord
    gain: float
    error: float | None
    beyond: bool
    tier: int
    fidelities: list[float]
    runs: int
    seconds: float | None

    @property
    def score(self) -> float:
        return self.gain - (self.error or 0.0)

    def suggestion(self, rank: int) -> Suggestion:
        confirmed = self.tier == 0
        return Suggestion(
            rank=rank, variant=self.variant, description=self.record.description,
            op=",".join(self.record.ops), location=self.record.location,
            expected_delta=float(self.best.delta or 0.0), uncertainty=self.error,
            fidelities=self.fidelities, runs=self.runs, confirmed_full=confirmed,
            seconds=self.seconds, why=self._why(), base_version=self.record.base_version,
            base_fingerprints=self.record.base_fingerprints,
        )  # fmt: skip

    def _why(self) -> str:
        best = self.best
        metric = best.metric or "the primary metric"
        delta = f"{metric} {_with_error(best.delta or 0.0, self.error)}"
        where = _where(best)
        if self.tier == 0:
            ladder = f", after {_plural(len(self.fidelities) - 1, 'sample rung')}"
            lower = ladder if len(self.fidelities) > 1 else ""
            return f"confirmed on full data{lower}: {delta} paired with your version"
        if self.tier == 1:
            return f"better on {where}: {delta}; not yet confirmed on full data"
        return f"unconfirmed: {delta} on {where} is within noise"


def _judge(
    record: VariantRecord, trials: Sequence[TrialRecord], noise: float | None
) -> _Judged | None:
    """Whether (and how strongly) the variant's evidence says it improves the metric."""
    latest: dict[tuple[float, str, float], TrialRecord] = {}
    for t in trials:  # newest first: keep the latest per fidelity
        latest.setdefault((t.fidelity.fraction, t.fidelity.precision, t.fidelity.budget), t)
    if not latest:
        return None
    best = max(latest.values(), key=lambda t: (t.fidelity.fraction, t.fidelity.budget))
    if best.status != "ok" or best.gain is None or not best.gain > 0:
        return None
    variant = _variant(record)
    if variant is None:
        return None
    error, z = _error(best, list(latest.values()), noise)
    beyond = error is None or best.gain > z * error
    if best.fidelity.is_full:
        tier = 0 if beyond else 2
    else:
        tier = 1 if beyond and error is not None else 2
    full = [t for t in latest.values() if t.fidelity.is_full and t.status == "ok"]
    return _Judged(
        record=record, variant=variant, best=best, gain=best.gain, error=error, beyond=beyond,
        tier=tier, fidelities=sorted({t.fidelity.fraction for t in latest.values()}),
        runs=sum(max(1, len(t.runs)) for t in trials),
        seconds=full[0].seconds if full else None,
    )  # fmt: skip


def _error(
    best: TrialRecord, trials: list[TrialRecord], noise: float | None
) -> tuple[float | None, float]:
    """The delta's standard error and the multiple of it a real gain must clear."""
    if best.uncertainty is not None:
        return best.uncertainty, critical_value(len(best.runs)) or Z_BORROWED
    seeded = [
        t for t in trials
        if t.uncertainty is not None and t.status == "ok" and t.fidelity.fraction > 0
    ]  # fmt: skip
    if seeded:
        donor = max(seeded, key=lambda t: t.fidelity.fraction)
        scale = math.sqrt(donor.fidelity.fraction / best.fidelity.fraction)
        return donor.uncertainty * scale, Z_BORROWED  # type: ignore[operator]
    if best.fidelity.is_full and noise is not None:
        return noise, Z_BORROWED
    return None, Z_BORROWED


def _variant(record: VariantRecord) -> Variant | None:
    try:
        return Variant.from_json(record.change)
    except (WorkflowError, ValueError, KeyError, TypeError):
        return None


def _where(trial: TrialRecord) -> str:
    f = trial.fidelity
    if f.is_full:
        return "full data"
    seeds = len(trial.runs)
    return f"{f.fraction:.0%} samples ({_plural(seeds, 'seed')})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _with_error(value: float, error: float | None) -> str:
    """`+0.0123 ± 0.0026`: the value to the decimals its error warrants (or 3 digits)."""
    sign = "+" if value >= 0 else "−"
    if error is None or error <= 0 or not math.isfinite(error):
        return f"{sign}{abs(value):.3g}"
    decimals = max(0, 1 - math.floor(math.log10(error)))
    return f"{sign}{abs(value):.{decimals}f} ± {error:.{decimals}f}"
