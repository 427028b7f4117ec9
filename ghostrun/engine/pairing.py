"""What the history says about pairing a version with its parent on the same rows.

An approximate stage is only comparable with the parent version at exactly the same
fidelity and sample seed. These read the history for it: the fidelities the parent ran
at, the parent's metric on each seed, and a fidelity's record in earlier edits: how far
one seed's paired delta strayed (the error a single-seed report borrows) and how far the
paired deltas were from the full ones (the bias a verdict must clear).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ghostrun.approx.sensitivity import moves_rescaled_knob, scale_sensitive
from ghostrun.history import History, RunRecord
from ghostrun.workflow.types import FULL, Fidelity

__all__ = ["TrackRecord", "parent_fidelities", "parent_metric", "track_record"]

TRACK_EDITS = 8  # earlier edits whose record at a fidelity a verdict draws on
TRACK_MIN_EDITS = 2  # ... and how many it needs before it trusts them
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


@dataclass(frozen=True)
class TrackRecord:
    """What earlier edits measured at one fidelity (None: too few of them to say).

    `seed_spread`: the largest standard deviation over sample seeds of one edit's paired
    delta (version − parent); `bias`: the largest distance between an edit's mean paired
    delta there and its full delta, and whether a scale-sensitive edit (one that moved a
    budget, rate or capacity knob: they are off the most) is among them. The largest, not
    a typical one: edits differ (an estimator swap moves a model more than a feature
    tweak), and an approximate verdict should err towards "too close to call".
    """

    seed_spread: float | None
    bias: float | None
    sensitive_seen: bool = False  # a budget/capacity edit is among those behind `bias`
    rescaled_seen: bool = False  # ... and a budget or learning-rate edit


def track_record(
    history: History, fidelity: Fidelity, primary: str, *, exclude: str | None = None
) -> TrackRecord:
    """The last `TRACK_EDITS` edits' record at `fidelity` (edits that changed nothing
    there are skipped); each figure needs `TRACK_MIN_EDITS` edits."""
    runs = history.runs(kind="user", status="ok", limit=_SCANNED_RUNS)
    at = _seed_values(runs, fidelity, primary)
    full = {v: seeds[0] for v, seeds in _seed_values(runs, FULL, primary).items() if 0 in seeds}
    parents: dict[str, str] = {}
    for r in runs:
        if r.parent_id is not None and r.parent_id != r.version_id:  # not a re-run
            parents.setdefault(r.version_id, r.parent_id)
    spreads: list[float] = []
    gaps: list[float] = []
    sensitive_seen = rescaled_seen = False
    for version, values in at.items():  # newest first
        parent_id = parents.get(version, "")
        parent = at.get(parent_id)
        if version == exclude or parent is None:
            continue
        deltas = [values[s] - parent[s] for s in sorted(values.keys() & parent.keys())]
        whole = full[version] - full[parent_id] if {version, parent_id} <= full.keys() else None
        if not deltas or (not any(deltas) and not whole):
            continue
        if len(spreads) < TRACK_EDITS and len(deltas) >= 2 and statistics.stdev(deltas) > 0:
            spreads.append(statistics.stdev(deltas))
        if len(gaps) < TRACK_EDITS and whole is not None:
            gaps.append(abs(statistics.fmean(deltas) - whole))
            sensitive, rescaled = _edit_kinds(history, version, parent_id)
            sensitive_seen, rescaled_seen = sensitive_seen or sensitive, rescaled_seen or rescaled
    return TrackRecord(_largest(spreads), _largest(gaps), sensitive_seen, rescaled_seen)


def _edit_kinds(history: History, version_id: str, parent_id: str) -> tuple[bool, bool]:
    """Whether the edit that made `version_id` from `parent_id` was scale-sensitive, and
    whether it moved a budget or learning-rate knob."""
    changes = history.load_changes(version_id, parent_id)
    snapshot = history.load_version(version_id)
    if changes is None or snapshot is None:
        return False, False
    knobs = {name: op.knobs for name, op in snapshot.ops.items()}
    return scale_sensitive(changes, knobs), moves_rescaled_knob(changes)


def _largest(values: list[float]) -> float | None:
    return max(values) if len(values) >= TRACK_MIN_EDITS else None


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
