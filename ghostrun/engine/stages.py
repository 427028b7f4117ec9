"""Running the approximation ladder for one invocation: stages, seeds, verdicts.

Each approximate stage runs the version on a deterministic sample (and a scaled boosting
budget), on several sample seeds for the first stage, and compares it with the parent
version on the very same rows and seeds: the mean paired delta, its standard error, and a
verdict that stays "unclear" until the delta clears the noise. Each stage is reported the
moment it ends; a cancellation between operators stops the ladder.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Literal

from ghostrun.approx.ladder import (
    SeedResults,
    Stage,
    critical_value,
    extrapolate,
    paired_delta,
    plan_ladder,
)
from ghostrun.approx.scaling import has_budget
from ghostrun.engine.costs import CostModel
from ghostrun.engine.results import Invocation, RunResult, StageResult
from ghostrun.engine.session import RunKind, Session
from ghostrun.engine.verdict import Comparison, Verdict
from ghostrun.workflow.types import Change, Fidelity

Mode = Literal["ladder", "approx", "full"]
StageCallback = Callable[[StageResult], None]


def run_ladder(
    session: Session,
    invocation: Invocation,
    *,
    mode: Mode = "ladder",
    kind: RunKind = "user",
    on_stage: StageCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Invocation:
    started = time.perf_counter()
    for stage in ladder_for(session, invocation, mode):
        if stage.is_full:
            result = session.run_stage(
                invocation, stage.fidelity, kind=kind, started=started, cancelled=cancelled
            )
        else:
            result = _approximate(session, invocation, stage, kind, started, cancelled)
        if on_stage:
            on_stage(result)
    return invocation


def ladder_for(session: Session, invocation: Invocation, mode: Mode) -> list[Stage]:
    """The stages for this invocation, sized from the history's runtime model."""
    costs = CostModel(session.history)
    workflow = invocation.version.workflow
    affected = [
        c.op for c in invocation.changes if c.change not in (Change.UNCHANGED, Change.REMOVED)
    ]
    known = [op for op in affected if costs.knows(op)]
    predict = None
    if affected and len(known) == len(affected):

        def predict(f: Fidelity) -> float:
            return sum(
                costs.compute_seconds(op, f.fraction)
                * (f.budget if has_budget(workflow.operators[op]) else 1.0)
                for op in affected
            )

    elif not affected:

        def predict(f: Fidelity) -> float:
            return 0.0

    preferred = _parent_fidelities(session, invocation)
    return plan_ladder(
        predict,
        preferred=preferred,
        approx_only=mode == "approx",
        full_only=mode == "full",
    )


def _parent_fidelities(session: Session, invocation: Invocation) -> list[Fidelity]:
    if invocation.parent_id is None:
        return []
    runs = session.history.runs(version_id=invocation.parent_id, status="ok", limit=50)
    return [r.fidelity for r in runs if r.fidelity.fraction < 1 and r.fidelity.seed == 0]


def _approximate(
    session: Session,
    invocation: Invocation,
    stage: Stage,
    kind: RunKind,
    started: float,
    cancelled: Callable[[], bool] | None,
) -> StageResult:
    runs = [
        session.execute(invocation, fidelity, kind=kind, cancelled=cancelled)
        for fidelity in stage.fidelities()
    ]
    primary = runs[0].primary
    metrics = _mean_metrics(runs)
    comparison = _compare(session, invocation, runs, primary, _borrowed_error(invocation, stage))
    result = StageResult(
        run_id=runs[-1].run_id,
        fidelity=stage.fidelity,
        metrics=metrics,
        elapsed=time.perf_counter() - started,
        seconds=sum(r.seconds for r in runs),
        comparison=comparison,
        outcomes=runs[0].outcomes,
        seeds=len(runs),
        extrapolated=_extrapolated(invocation, stage.fidelity, metrics, primary),
    )
    invocation.stages.append(result)
    return result


def _mean_metrics(runs: list[RunResult]) -> dict[str, float]:
    names = runs[0].metrics.keys()
    return {n: statistics.fmean(r.metrics[n] for r in runs if n in r.metrics) for n in names}


def _borrowed_error(invocation: Invocation, stage: Stage) -> float | None:
    """A single-seed stage's standard error, scaled from an earlier multi-seed stage:
    sampling noise shrinks as 1/√rows."""
    for earlier in invocation.stages:
        c = earlier.comparison
        if earlier.seeds > 1 and c is not None and c.uncertainty is not None:
            return c.uncertainty * (earlier.fidelity.fraction / stage.fidelity.fraction) ** 0.5
    return None


def _compare(
    session: Session,
    invocation: Invocation,
    runs: list[RunResult],
    primary: str | None,
    borrowed: float | None = None,
) -> Comparison | None:
    if primary is None or invocation.parent_id is None:
        return None
    parent = []
    for run in runs:
        before = session.history.metrics_for(invocation.parent_id, run.fidelity)
        parent.append(before.get(primary) if before else None)
    delta, error = paired_delta(SeedResults([r.metrics[primary] for r in runs], parent))
    if delta is None:
        return None
    pairs = sum(p is not None for p in parent)
    if error is None and borrowed is not None:
        error, pairs = borrowed, 3
    goal = invocation.version.workflow.goal
    return Comparison(delta=delta, uncertainty=error, verdict=_verdict(delta, error, pairs, goal))


def _verdict(delta: float, error: float | None, pairs: int, goal: str) -> Verdict:
    """Better or worse only when the paired delta clears the seeds' noise."""
    if error is None:
        return "unclear"
    gain = delta if goal == "max" else -delta
    margin = critical_value(pairs) * error
    if gain > margin and gain > 0:
        return "better"
    if gain < -margin and gain < 0:
        return "worse"
    return "unclear"


def _extrapolated(
    invocation: Invocation, fidelity: Fidelity, metrics: dict[str, float], primary: str | None
) -> float | None:
    if primary is None:
        return None
    points = [
        (s.fidelity.fraction, s.metrics[primary])
        for s in invocation.stages
        if s.fidelity.fraction < 1 and primary in s.metrics
    ]
    points.append((fidelity.fraction, metrics[primary]))
    return extrapolate(points)
