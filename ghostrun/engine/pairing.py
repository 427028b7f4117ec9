"""What the history says about pairing a version with its parent on the same rows.

An approximate stage is only comparable with the parent version at exactly the same
fidelity and sample seed. These read the history for it: the fidelities the parent ran
at, the parent's metric on each seed, and how far one seed's paired delta has strayed in
earlier edits (the error a single-seed report borrows).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from ghostrun.history import History, RunRecord
from ghostrun.workflow.types import Fidelity

__all__ = ["parent_fidelities", "parent_metric", "seed_spread"]

SPREAD_EDITS = 8  # earlier edits a one-seed report borrows its error from
SPREAD_MIN_EDITS = 2  # ... and how many it needs before it trusts them
_SCANNED_RUNS = 400


def parent_fidelities(history: History, parent_id: str | None) -> list[Fidelity]:
    """The approximate fidelities (seed 0) at which the parent has a result."""
    if parent_id is None:
        return []
    runs = history.runs(version_id=parent_id, status="ok", limit=50)
    return [r.fidelity for r in runs if r.fidelity.fraction < 1 and r.fidelity.seed == 0]


def parent_metric(
    history: History, parent_id: str, fidelities: Sequence[Fidelity], primary: str
) -> list[float | None]:
    """The parent's primary metric at each fidelity (None where it has not run)."""
    found = [history.metrics_for(parent_id, f) or {} for f in fidelities]
    return [m.get(primary) for m in found]


def seed_spread(
    history: History, fidelity: Fidelity, primary: str, *, exclude: str | None = None
) -> float | None:
    """How far one seed's paired delta may stray, from earlier edits: the largest standard
    deviation over sample seeds of (version − parent) at this fidelity among the last
    `SPREAD_EDITS` edits measured on two seeds or more (edits that changed nothing there,
    deviation 0, are skipped). None until `SPREAD_MIN_EDITS` such edits exist.

    The largest, not a typical one: edits differ (an estimator swap moves a model more
    than a feature tweak), and a one-seed verdict should err towards "too close to call".
    """
    runs = history.runs(kind="user", status="ok", limit=_SCANNED_RUNS)
    by_version = _seed_values(runs, fidelity, primary)
    parents: dict[str, str | None] = {}
    for r in runs:
        parents.setdefault(r.version_id, r.parent_id)
    spreads: list[float] = []
    for version, values in by_version.items():  # newest first
        parent = by_version.get(parents.get(version) or "")
        if version == exclude or parent is None:
            continue
        deltas = [values[s] - parent[s] for s in values.keys() & parent.keys()]
        if len(deltas) >= 2 and statistics.stdev(deltas) > 0:
            spreads.append(statistics.stdev(deltas))
        if len(spreads) == SPREAD_EDITS:
            break
    return max(spreads) if len(spreads) >= SPREAD_MIN_EDITS else None


def _seed_values(
    runs: Sequence[RunRecord], fidelity: Fidelity, primary: str
) -> dict[str, dict[int, float]]:
    """version → seed → primary metric, for runs at `fidelity` (any seed), newest first."""
    values: dict[str, dict[int, float]] = defaultdict(dict)
    for r in runs:
        f = r.fidelity
        same = (f.fraction, f.precision, f.budget) == (
            fidelity.fraction, fidelity.precision, fidelity.budget
        )
        if same and primary in r.metrics and f.seed not in values[r.version_id]:
            values[r.version_id][f.seed] = r.metrics[primary]
    return values
