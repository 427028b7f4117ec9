"""Exploring variants of the version on disk within a time budget (DESIGN §7).

The search is asynchronous successive halving (ASHA) over fidelity rungs: new variants are
measured on the cheapest rung; whenever a variant ranks in the best third of those measured
at its rung (and may still be an improvement) it is promoted to the next rung, up to the
full data. Promotions come before new variants, and near the end of the budget the best
unconfirmed finding is pushed up instead of starting new ones, so findings get confirmed.
Every trial is paired with the base version on the same rows and seeds (`trials`).

New single moves come from `generate.neighbours`, picked by a surrogate fitted on every
trial in the history (`surrogate`) with some diversity. Pairs of the best single moves, and
further steps along an improving knob's direction, join as they appear (`combine`); once
the nearby moves are used up, the search walks on from its best finding, trying that
finding's own neighbours composed with it, for as long as the budget lasts. When the user's
version moved on, the best findings on earlier versions are re-expressed on this one and
measured first. Everything is recorded in the history, so a search interrupted at any
point resumes from there (measured trials are not run again) and `rank` needs nothing else.

Trials run on a back end (`backends`): locally, one at a time, as they always did; or on a
Dask cluster (`settings.cluster`), with as many in flight as it has workers, each result
applied as it comes in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghostrun.engine.costs import CostModel
from ghostrun.engine.session import Session
from ghostrun.errors import GhostrunError, RunCancelled, UserCodeError, WorkflowError
from ghostrun.history import History, TrialRecord
from ghostrun.suggest.backends import Backend, LocalBackend, TrialHandle, open_backend
from ghostrun.suggest.combine import around, combined, from_json, further_steps
from ghostrun.suggest.evidence import is_resplit
from ghostrun.suggest.frontier import Frontier, VariantState
from ghostrun.suggest.halving import FULL_RUNG, RESPLIT_RUNG, Rung, plan_rungs
from ghostrun.suggest.recheck import earlier_findings
from ghostrun.suggest.surrogate import (
    Observation,
    Surrogate,
    choose,
    expected_improvement,
)
from ghostrun.suggest.trials import BaseFailed, Measured, Trials
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.ondemand import real_workflow
from ghostrun.workflow.types import FULL, Fidelity
from ghostrun.workflow.version import Version

Generate = Callable[[Workflow], Sequence[Variant]]
PICK_BATCH = 4  # new variants chosen per surrogate fit
RECHECK = 5  # earlier findings re-measured first on a new version
PAIR_FROM = 3  # pairs are formed among this many best single moves
WAIT_STEP = 0.2  # seconds between two looks at `cancelled` while trials are in flight


@dataclass(frozen=True)
class ExploreReport:
    """What one `explore` call did. `stopped`: "budget", "cancelled", "exhausted" (nothing
    left to try), "no-metric" (the workflow has no primary metric) or "failed" (the
    version fails on its own; `error` says why)."""

    version_id: str | None
    stopped: str
    trials: int
    runs: int
    seconds: float
    rungs: list[Fidelity] = field(default_factory=list)
    best: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "stopped": self.stopped,
            "trials": self.trials,
            "runs": self.runs,
            "seconds": round(self.seconds, 3),
            "rungs": [f.to_json() for f in self.rungs],
            "best": self.best,
            "error": self.error,
        }


def explore(
    session: Session, *, budget: float, cancelled: Callable[[], bool] = lambda: False,
    on_result: Callable[[dict[str, Any]], None] = lambda r: None, seed: int = 0,
    rungs: Sequence[Rung] | None = None, generate: Generate | None = None,
    backend: Backend | None = None,
) -> ExploreReport:  # fmt: skip
    """Explore variants of the version on disk (session.load()) for about `budget` seconds:
    successive halving over fidelities, each trial paired with the base version at the same
    fidelity and sample seed, every trial a history run of kind "explore"; candidates by a
    surrogate fitted on the history plus some diversity; finalists confirmed on full data.
    Returns promptly (between operators) once `cancelled()` is true. `on_result` gets one
    JSON object per finished trial (the `explore.result` event payload).

    `rungs` overrides the fidelities planned from the runtime model and `generate` the
    variant generator (both for tests and benchmarks). `backend` runs the trials; by
    default the one the settings ask for (the Dask cluster at `cluster`, else local). A
    workflow that does not load raises its WorkflowError, as `session.load()` does."""
    if backend is not None:
        return _Search(session, budget, cancelled, on_result, seed, generate, backend).run(rungs)
    with open_backend(session.project.settings) as opened:
        return _Search(session, budget, cancelled, on_result, seed, generate, opened).run(rungs)


class _Search:
    """Responsibilities: hold one exploration's state (variants by rung, queues, surrogate)
    and choose the next trial within the time left."""

    def __init__(
        self, session: Session, budget: float, cancelled: Callable[[], bool],
        on_result: Callable[[dict[str, Any]], None], seed: int, generate: Generate | None,
        backend: Backend,
    ) -> None:  # fmt: skip
        self.session = session
        self.backend = backend
        self.history: History = session.history
        self.started = time.monotonic()
        self.deadline = self.started + budget
        # Runs stop between operators on cancellation, or when the budget is long gone.
        self.hard_deadline = self.deadline + max(2.0, 0.1 * budget)
        self.cancelled = cancelled
        self.on_result = on_result
        self.rng = random.Random(seed)
        self._given = generate
        self.surrogate = Surrogate(seed=seed)
        self.trials_done = 0
        self.slowness = 1.0  # measured / predicted trial seconds, smoothed
        self._generated = False
        self.frontier = Frontier(rungs=1)
        self.fresh: dict[str, Variant] = {}  # single moves not measured yet
        self.queue: list[Variant] = []  # next new variants, in order
        self.dead: set[str] = set()  # variants that do not apply
        self.flying: dict[str, tuple[int, float, float]] = {}  # id -> rung, predicted, start
        self.extended: set[str] = set()
        self.centres: set[str] = set()  # variants the search walked on from
        self.observations: list[Observation] = []
        self._fitted_on = -1

    # -- set-up ---------------------------------------------------------------------

    def run(self, rungs: Sequence[Rung] | None) -> ExploreReport:
        version = self.session.load()
        workflow = real_workflow(version.workflow)
        if workflow.primary is None:
            return self._report(version.version_id, "no-metric", [], None)
        invocation = self.session.prepare(version)
        self.trials = Trials(self.session, invocation, workflow, workflow.primary, self._stop_runs)
        self.workflow = workflow
        try:
            self.generate = self._given or _neighbours(self.session, version)
            self._learn_costs()
            self.rungs = list(rungs) if rungs else self._plan()
            self.frontier.rungs = len(self.rungs)
            self._restore()
            stopped = self._loop()
        except RunCancelled:
            stopped = "cancelled" if self.cancelled() else "budget"
        except BaseFailed as exc:
            return self._report(version.version_id, "failed", [], str(exc))
        return self._report(version.version_id, stopped, self.rungs, None)

    def _stop_runs(self) -> bool:
        return self.cancelled() or time.monotonic() > self.hard_deadline

    def _learn_costs(self) -> None:
        """A workflow the runtime model does not know yet has its base run on full data
        first: it is needed for the confirmations anyway, and it times every operator."""
        if not all(self.trials.costs.knows(op) for op in self.workflow.operators):
            self.trials.base_value(FULL)
            self.trials.costs = CostModel(self.history)

    def _plan(self) -> list[Rung]:
        """Rungs from the runtime model (how long the variants' operators take)."""
        changed = {op for v in self._singles() for op in v.ops}
        affected = self.workflow.closure(changed, "downstream")
        preferred = [
            r.fidelity
            for r in self.history.runs(version_id=self.trials.base.version_id, status="ok")
        ]

        def predict(f: Fidelity) -> float:
            return sum(self.trials._op_seconds(op, f) for op in affected)

        rungs = plan_rungs(predict if affected else None, preferred)
        # Short runs on full data only: one split is the noisiest judge, and other splits
        # are cheap. (A cluster back end measures single fidelities only.)
        if rungs == [FULL_RUNG] and self.trials.split_op and isinstance(self.backend, LocalBackend):
            rungs.append(RESPLIT_RUNG)
        return rungs

    def _singles(self) -> list[Variant]:
        if not self._generated:
            self._generated = True
            for variant in self.generate(self.workflow):
                self.fresh.setdefault(variant.id, variant)
        return list(self.fresh.values())

    def _restore(self) -> None:
        """Trials already recorded on this base (an interrupted search) count as done;
        trials on earlier versions feed the surrogate and the re-check queue."""
        self._singles()
        base = self.trials.base.version_id
        records = {(r.variant_id, r.base_version): r for r in self.history.variants()}
        index = {(r.fidelity, r.resplits > 0): i for i, r in enumerate(self.rungs)}
        for trial in reversed(self.history.trials()):
            record = records.get((trial.variant_id, trial.base_version))
            if record is None:
                continue
            if trial.gain is not None and trial.status == "ok":
                self.observations.append(Observation(record.change, trial.fidelity, trial.gain))
            rung = index.get((trial.fidelity, is_resplit(trial)))
            if trial.base_version != base or rung is None:
                continue
            state = self._state_for(trial.variant_id, record.change)
            if state is not None:
                state.results[rung] = trial
        self.queue.extend(self._rechecks())

    def _state_for(self, variant_id: str, change: Any) -> VariantState | None:
        state = self.frontier.get(variant_id)
        if state is None:
            variant = self.fresh.pop(variant_id, None) or from_json(change)
            state = None if variant is None else self.frontier.add(variant)
        return state

    def _rechecks(self) -> list[Variant]:
        base = self.trials.base.version_id
        found = earlier_findings(self.history, base, self.workflow, RECHECK)
        return [v for v in found if v.id not in self.frontier]

    # -- the loop -------------------------------------------------------------------

    def _loop(self) -> str:
        """Keep the back end's slots busy; apply each result as it comes in. (Locally: one
        trial chosen, run and recorded at a time.)"""
        pending: list[TrialHandle] = []
        try:
            while True:
                if self.cancelled():
                    return "cancelled"
                self._launch(pending)
                if not pending:
                    return "budget" if self._anything_left() else "exhausted"
                done = self.backend.wait(pending, WAIT_STEP)
                if not done and self._stop_runs():
                    raise RunCancelled("the exploration's time is up")
                for handle in done:
                    pending.remove(handle)
                    self._land(handle)
        finally:
            if pending:
                self.backend.cancel(pending)

    def _launch(self, pending: list[TrialHandle]) -> None:
        slots = self.backend.slots()
        while len(pending) < slots:
            step = self._next()
            if step is None:
                return
            variant, rung = step
            predicted, t0 = self._cost(variant, rung), time.monotonic()
            try:
                handle = self.backend.submit(self.trials, variant, self.rungs[rung])
            except WorkflowError:
                self._drop(variant)
                continue
            self.flying[variant.id] = (rung, predicted, t0)
            pending.append(handle)

    def _land(self, handle: TrialHandle) -> None:
        rung, predicted, t0 = self.flying.pop(handle.variant.id)
        try:
            measured = handle.result()
        except WorkflowError:
            self._drop(handle.variant)
            return
        self._calibrate(predicted, time.monotonic() - t0)
        self._record(measured, rung)

    def _drop(self, variant: Variant) -> None:
        self.dead.add(variant.id)  # does not apply to this version after all
        self.fresh.pop(variant.id, None)

    def _calibrate(self, predicted: float, actual: float) -> None:
        if predicted > 0:
            ratio = actual / (predicted / self.slowness)
            self.slowness = 0.7 * self.slowness + 0.3 * min(10.0, max(0.2, ratio))

    def _record(self, measured: Measured, rung: int) -> None:
        variant = measured.variant
        self.fresh.pop(variant.id, None)
        self.frontier.add(variant).results[rung] = measured
        self.trials_done += 1
        if measured.gain is not None and measured.status == "ok":
            self.observations.append(
                Observation(variant.to_json(), measured.rung.fidelity, measured.gain)
            )
        self.on_result(measured.to_json(self.trials.base.version_id))

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def _cost(self, variant: Variant, rung: int) -> float:
        """Predicted seconds of a trial (with the base runs it still needs), corrected by
        how far earlier predictions were off."""
        r = self.rungs[rung]
        state = self.frontier.get(variant.id)
        lower = [i for i in (state.results if state else ()) if i < rung]
        if state is not None and lower:
            # Its own time at a lower rung corrects the operator's history (an estimator
            # swap runs at another speed).
            raw = self._scaled(variant, state.results[max(lower)], self.rungs[max(lower)], r)
        else:
            raw = self.trials.predict_seconds(variant, r)
        return self.slowness * (raw + self.trials.predict_base_seconds(r))

    def _scaled(
        self, variant: Variant, measured: Measured | TrialRecord, low: Rung, high: Rung
    ) -> float:
        """The runtime model's prediction at `high`, times how far the variant's measured
        time at `low` was from the model's there. Scaling the measured time itself by rows
        and rounds multiplies its fixed cost too: a 1% rung's 0.6 s per run read as 240 s
        on full data, and no finding of a 100k-row workflow was ever promoted."""
        predicted = self.trials.predict_seconds(variant, low)
        ratio = measured.seconds / predicted if predicted > 0 else 1.0
        return self.trials.predict_seconds(variant, high) * min(10.0, max(0.2, ratio))

    def _next(self) -> tuple[Variant, int] | None:
        """The next trial that fits in the time left: a promotion, else a new variant
        (unless the time left is needed to confirm the best finding so far)."""
        left = self._left()
        for variant, rung in self.frontier.promotions():
            if variant.id not in self.flying and self._cost(variant, rung) <= left:
                return variant, rung
        finishing = self.frontier.finisher()
        if finishing is not None and finishing[0].id in self.flying:
            finishing = None
        reserve = self._cost(*finishing) if finishing else 0.0
        new = self._new_variant()
        if new is not None and self._cost(new, 0) + reserve <= left:
            return new, 0
        if finishing is not None and reserve <= left:
            return finishing
        if new is not None and self._cost(new, 0) <= left:
            return new, 0
        return None

    def _anything_left(self) -> bool:
        frontier = self.frontier
        return bool(self.fresh or self.queue or frontier.promotions() or frontier.finisher())

    # -- choosing new variants ------------------------------------------------------------

    def _new_variant(self) -> Variant | None:
        while True:
            if not self.queue:
                self.queue.extend(self._pairs_and_steps())
            if not self.queue:
                self.queue.extend(self._picks())
            if not self.queue and self._walk_on():
                continue
            if not self.queue:
                return None
            variant = self.queue[0]
            if not self._untried(variant):
                self.queue.pop(0)
                continue
            return variant

    def _pairs_and_steps(self) -> list[Variant]:
        """Pairs of the best single moves (they interact), the best combination so far
        with one more of them (a greedy path), and one more step along each improving
        knob's direction."""
        singles = self.frontier.best(combined=False, k=PAIR_FROM)
        combos = [(a, b) for i, a in enumerate(singles) for b in singles[i + 1 :]]
        combos += [(c, s) for c in self.frontier.best(combined=True, k=1) for s in singles]
        found = [v for a, b in combos if (v := combined(a.variant, b.variant)) and self._untried(v)]
        for state in singles:
            if state.variant.id not in self.extended and self.frontier.climbing(state):
                self.extended.add(state.variant.id)
                steps = further_steps(state.variant, self.workflow, self.generate)
                found.extend(step for step in steps if self._untried(step))
        return found

    def _untried(self, variant: Variant) -> bool:
        return not (variant.id in self.frontier or variant.id in self.dead
                    or variant.id in self.flying)  # fmt: skip

    def _walk_on(self) -> bool:
        """The nearby moves are used up: take the best improvement not walked from yet as
        the new centre, its own neighbours (composed with it) the new candidates."""
        everything = len(self.frontier.states)
        leaders = self.frontier.best(combined=False, k=everything)
        leaders += self.frontier.best(combined=True, k=everything)
        leaders.sort(key=lambda s: (-s.top, -(s.gain(s.top) or 0.0)))
        for state in leaders:
            if state.variant.id in self.centres:
                continue
            self.centres.add(state.variant.id)
            for variant in around(state.variant, self.workflow, self.generate):
                if self._untried(variant):
                    self.fresh.setdefault(variant.id, variant)
            if self.fresh.keys() - self.flying.keys():
                return True
        return False

    def _picks(self) -> list[Variant]:
        """A batch of untried single moves: expected improvement from the surrogate (refit
        when new trials came in), capped per knob, with some random picks."""
        out = self.dead | self.flying.keys()
        pool = [v for v in self.fresh.values() if v.id not in out]
        if not pool:
            return []
        changes = [v.to_json() for v in pool]
        scores = None
        if len(self.observations) != self._fitted_on:
            self.surrogate.fit(self.observations, changes)
            self._fitted_on = len(self.observations)
        if self.surrogate.fitted:
            first = self.rungs[0].fidelity
            best = max([0.0, *(s.gain(0) or 0.0 for s in self.frontier)])
            predictions = self.surrogate.predict(changes, first)
            scores = [expected_improvement(p, best) for p in predictions]
        picks = choose(changes, scores, PICK_BATCH, self.rng)
        return [pool[i] for i in picks]

    # -- the report -----------------------------------------------------------------------

    def _report(
        self, version_id: str | None, stopped: str, rungs: list[Rung], error: str | None
    ) -> ExploreReport:
        return ExploreReport(
            version_id=version_id,
            stopped=stopped,
            trials=self.trials_done,
            runs=getattr(getattr(self, "trials", None), "runs", 0),
            seconds=time.monotonic() - self.started,
            rungs=[r.fidelity for r in rungs],
            best=self.frontier.leaders(5),
            error=error,
        )


def _neighbours(session: Session, version: Version) -> Generate:
    """The variant generator, told what feeds the model (for drops and dtype-aware swaps)."""
    from ghostrun.suggest.feed import feed_info
    from ghostrun.suggest.generate import neighbours

    try:
        feed = feed_info(session, version)
    except (UserCodeError, GhostrunError):
        feed = None  # the version's own failure shows when the base runs
    return lambda workflow: neighbours(workflow, feed)
