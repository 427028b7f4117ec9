"""Running the approximation ladder for one invocation: stages, seeds, verdicts.

Each approximate stage runs the version on a deterministic sample (the first also with a
scaled boosting budget) and compares it with the parent version on the very same rows and
seeds. The first stage runs on several sample seeds and is reported twice: after its first
seed (`provisional`: the paired delta, with an error borrowed from earlier edits) and after
every seed (the mean paired delta and its standard error). Verdicts follow
`ghostrun.engine.verdict`. Each stage is reported the moment it ends; a cancellation
between operators stops the ladder.

A ladder that went straight to full still measures the version at the fidelities the
next edit's stages will want (`_prepare_pairing`), after the exact result is out: an
edit can only be compared on the same rows with a parent that ran on them, and the
parent's code is gone once the file is saved again.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from ghostrun.approx.ladder import Stage, plan_ladder, short_run
from ghostrun.approx.scaling import has_budget
from ghostrun.approx.sensitivity import knob_names, moves_rescaled_knob, scale_sensitive
from ghostrun.engine.costs import CostModel
from ghostrun.engine.pairing import (
    TrackRecord,
    parent_fidelities,
    parent_metric,
    track_record,
)
from ghostrun.engine.results import Invocation, RunResult, StageResult
from ghostrun.engine.session import RunKind, Session
from ghostrun.engine.verdict import Comparison, StageEvidence, judge
from ghostrun.errors import RunCancelled
from ghostrun.workflow.types import FULL, Change, Fidelity

Mode = Literal["ladder", "approx", "full"]
# Executions of an operator the runtime model looks back over. Wider than the cost model's
# default: the model learns only from *computed* executions, and in a long session, above
# all in the hot worker, an operator upstream of the edits is loaded or pruned run after
# run; with too short a window the ladder would find it "never timed" and go full at once.
COST_HISTORY = 2000
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
    ladder = _Ladder(session, invocation, kind, cancelled, on_stage or (lambda stage: None))
    stages = ladder_for(session, invocation, mode)
    for stage in stages:
        if stage.is_full:
            ladder.emit(
                session.run_stage(
                    invocation, stage.fidelity, kind=kind, started=ladder.started,
                    cancelled=cancelled,
                )
            )
        else:
            ladder.approximate(stage)
    if mode == "ladder" and all(s.is_full for s in stages):
        _prepare_pairing(ladder)
    return invocation


def ladder_for(session: Session, invocation: Invocation, mode: Mode) -> list[Stage]:
    """The stages for this invocation, sized from the history's runtime model. A version
    measured in full before (an applied suggestion, a reverted edit) goes straight to full:
    its results are cached, and approximating them would only delay them."""
    workflow = invocation.version.workflow
    if mode == "ladder" and session.history.run_at(invocation.version.version_id, FULL):
        return [Stage(FULL)]
    return plan_ladder(
        runtime_predictor(session, invocation),
        size=runtime_predictor(session, invocation, list(workflow.operators)),
        preferred=parent_fidelities(session.history, invocation.parent_id),
        approx_only=mode == "approx",
        full_only=mode == "full",
        short=short_run(hot=session.cache.memory is not None),
    )


def runtime_predictor(
    session: Session, invocation: Invocation, ops: list[str] | None = None
) -> Callable[[Fidelity], float] | None:
    """Predicted seconds of the edit's affected operators (or `ops`) at a fidelity; None
    while the history has not timed them all."""
    costs = CostModel(session.history, history_limit=COST_HISTORY)
    workflow = invocation.version.workflow
    if ops is None:
        ops = [
            c.op for c in invocation.changes
            if c.change not in (Change.UNCHANGED, Change.REMOVED) and c.op in workflow.operators
        ]
    if not all(costs.knows(op) for op in ops):
        return None

    def predict(f: Fidelity) -> float:
        return sum(
            costs.compute_seconds(op, f.fraction)
            * (f.budget if has_budget(workflow.operators[op]) else 1.0)
            for op in ops
        )

    return predict


@dataclass
class _Ladder:
    """One invocation's approximate stages: runs, pairing with the parent, reports."""

    session: Session
    invocation: Invocation
    kind: RunKind
    cancelled: Callable[[], bool] | None
    emit: StageCallback
    started: float = field(default_factory=time.perf_counter)
    evidence: list[StageEvidence] = field(default_factory=list)
    records: dict[Fidelity, TrackRecord] = field(default_factory=dict)

    @cached_property
    def sensitive(self) -> bool:
        workflow = self.invocation.version.workflow
        return scale_sensitive(self.invocation.changes, knob_names(workflow.operators))

    @cached_property
    def rescaled(self) -> bool:
        return moves_rescaled_knob(self.invocation.changes)

    def approximate(self, stage: Stage) -> None:
        runs: list[RunResult] = []
        for fidelity in stage.fidelities():
            runs.append(self._execute(fidelity))
            if len(runs) == 1 < stage.seeds:
                self._report(stage, runs, provisional=True)
        self._report(stage, runs)

    def _execute(self, fidelity: Fidelity) -> RunResult:
        return self.session.execute(
            self.invocation, fidelity, kind=self.kind, cancelled=self.cancelled
        )

    def _report(self, stage: Stage, runs: list[RunResult], provisional: bool = False) -> None:
        primary = runs[0].primary
        metrics = _mean_metrics(runs)
        evidence = self._evidence(stage, runs, primary)
        comparison = self._judge(evidence)
        if not provisional and evidence is not None:
            self.evidence.append(evidence)
        result = StageResult(
            run_id=runs[-1].run_id,
            fidelity=stage.fidelity,
            metrics=metrics,
            elapsed=time.perf_counter() - self.started,
            seconds=sum(r.seconds for r in runs),
            comparison=comparison,
            outcomes=runs[-1].outcomes,
            seeds=len(runs),
            extrapolated=self._extrapolated(comparison, primary),
            provisional=provisional,
        )
        self.invocation.stages.append(result)
        self.emit(result)

    def _evidence(
        self, stage: Stage, runs: list[RunResult], primary: str | None
    ) -> StageEvidence | None:
        parent_id = self.invocation.parent_id
        if primary is None or parent_id is None:
            return None
        history = self.session.history
        parent = parent_metric(history, parent_id, [r.fidelity for r in runs], primary)
        pairs = zip(runs, parent, strict=True)
        deltas = tuple(r.metrics[primary] - p for r, p in pairs if p is not None)
        f = stage.fidelity
        if f not in self.records:  # the same for both reports of a stage
            version = self.invocation.version.version_id
            self.records[f] = track_record(history, f, primary, exclude=version)
        record = self.records[f]
        # the record speaks for this edit only once an edit of its kind is on it: a
        # budget/capacity edit; on a budget-scaled stage, a budget or rate edit
        known = (record.sensitive_seen or not self.sensitive) and (
            record.rescaled_seen or f.budget >= 1 or not self.rescaled
        )
        bias = record.bias if known else None
        return StageEvidence(f.fraction, f.budget, deltas, record.seed_spread, bias)

    def _judge(self, evidence: StageEvidence | None) -> Comparison | None:
        if evidence is None or not evidence.deltas:
            return None
        goal = self.invocation.version.workflow.goal
        return judge([*self.evidence, evidence], goal)

    def _extrapolated(self, comparison: Comparison | None, primary: str | None) -> float | None:
        """The full metric predicted as the parent's full metric plus this stage's paired
        delta: on the bench, closer to the truth than a learning curve through this
        version's own (biased) stage metrics."""
        parent_id = self.invocation.parent_id
        if comparison is None or primary is None or parent_id is None:
            return None
        full = self.session.history.metrics_for(parent_id, FULL) or {}
        before = full.get(primary)
        return None if before is None else before + comparison.delta


def _mean_metrics(runs: list[RunResult]) -> dict[str, float]:
    names = runs[0].metrics.keys()
    return {n: statistics.fmean(r.metrics[n] for r in runs if n in r.metrics) for n in names}


def _prepare_pairing(ladder: _Ladder) -> None:
    """Measure this version at the approximate fidelities the next edit's ladder would run
    (seeds included), so that edit's stages are paired. Not reported as stages; stopped
    quietly by a cancellation (a newer save), since nothing waits for it."""
    session, invocation = ladder.session, ladder.invocation
    workflow = invocation.version.workflow
    predict = runtime_predictor(session, invocation, list(workflow.operators))
    if predict is None:
        return
    plan = plan_ladder(
        predict,
        preferred=parent_fidelities(session.history, invocation.parent_id),
        approx_only=True,
        short=short_run(hot=session.cache.memory is not None),
    )
    try:
        for stage in plan:
            for fidelity in stage.fidelities():
                if session.history.metrics_for(invocation.version.version_id, fidelity) is None:
                    ladder._execute(fidelity)
    except RunCancelled:
        return
