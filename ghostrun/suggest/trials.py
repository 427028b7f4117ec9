"""Measuring a variant against its base version, paired on the same rows and sample seeds.

A trial runs the variant (an overlay: the user's files are never touched) at one rung's
fidelity on each of its sample seeds, takes the base version's primary metric at the very
same fidelity and seed (from the history when the base already ran there, else by running
it once), and records the mean paired delta and its standard error. Every run is a history
run of kind "explore"; the variant, its overlaid version and the trial are recorded too,
so ranking needs nothing but the history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ghostrun.approx.ladder import SeedResults, paired_delta
from ghostrun.approx.scaling import has_budget, is_budget
from ghostrun.engine.costs import CostModel
from ghostrun.engine.results import Invocation
from ghostrun.engine.session import RunFailed, Session
from ghostrun.errors import GhostrunError
from ghostrun.history import TrialRun, VariantRecord
from ghostrun.suggest.halving import Rung
from ghostrun.suggest.variant import Variant, resplit
from ghostrun.workflow.changes import classify
from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.resplit import split_operator
from ghostrun.workflow.types import FULL, Fidelity
from ghostrun.workflow.version import Version, build_version

RUN_OVERHEAD = 0.15  # seconds per run beyond its operators (version, history, cache writes)


class BaseFailed(GhostrunError):
    """The version being explored fails (or measures no primary metric) on its own."""

    exit_code = 1


@dataclass(frozen=True)
class Measured:
    """One recorded trial: a variant against its base at one rung."""

    variant: Variant
    rung: Rung
    trial_id: int
    status: str  # "ok" or "failed"
    delta: float | None
    uncertainty: float | None
    value: float | None
    base_value: float | None
    seconds: float
    run_id: int
    version_id: str
    goal: str

    @property
    def gain(self) -> float | None:
        """The delta in the goal's direction: positive is an improvement."""
        if self.delta is None:
            return None
        return self.delta if self.goal == "max" else -self.delta

    def to_json(self, base_version: str) -> dict[str, Any]:
        """The `explore.result` event payload."""
        return {
            "version_id": base_version,
            "variant_id": self.variant.id,
            "variant_version": self.version_id,
            "description": self.variant.describe(),
            "kind": self.variant.kind,
            "ops": list(self.variant.ops),
            "change": self.variant.to_json(),
            "fidelity": self.rung.fidelity.to_json(),
            "seeds": len(self.rung.fidelities()),
            "splits": 1 + self.rung.resplits,
            "status": self.status,
            "delta": self.delta,
            "uncertainty": self.uncertainty,
            "gain": self.gain,
            "trial_id": self.trial_id,
            "run_id": self.run_id,
            "seconds": round(self.seconds, 4),
            "time": time.time(),
        }


class Trials:
    """Responsibilities: build variants of one base version, run them and the base paired
    at a rung's fidelities, record variants and trials; predict what a trial costs."""

    def __init__(
        self, session: Session, invocation: Invocation, workflow: Workflow, primary: str,
        cancelled: Callable[[], bool],
    ) -> None:  # fmt: skip
        """`invocation` is the base's (from `session.prepare`); `workflow` its real one."""
        self.session = session
        self.invocation = invocation
        self.base = invocation.version
        self.workflow = workflow
        self.primary = primary
        self.goal = workflow.goal
        self.cancelled = cancelled
        self.costs = CostModel(session.history)
        self.runs = 0
        self._base_values: dict[Fidelity, tuple[int, float]] = {}
        self._versions: dict[str, Version] = {}
        self._resplit_bases: dict[int, tuple[int, float]] = {}
        self._snapshot = self.base.snapshot()
        self.split_op = split_operator(workflow)  # None: no seeded split to vary

    # -- the base ------------------------------------------------------------------

    def base_value(self, fidelity: Fidelity) -> tuple[int, float]:
        """(run id, primary metric) of the base at `fidelity`, running it once if needed."""
        if fidelity not in self._base_values:
            self._base_values[fidelity] = self._measure_base(
                self.invocation, fidelity, _fidelity_text(fidelity)
            )
        return self._base_values[fidelity]

    def resplit_base_value(self, seed: int) -> tuple[int, float]:
        """(run id, primary metric) of the base with its split re-seeded to `seed`."""
        if seed not in self._resplit_bases:
            version = self._overlay(resplit(self.split_op, seed))
            self._resplit_bases[seed] = self._measure_base(
                self._invocation(version), FULL, f"another split (random_state={seed})"
            )
        return self._resplit_bases[seed]

    def _measure_base(
        self, invocation: Invocation, fidelity: Fidelity, where: str
    ) -> tuple[int, float]:
        """From the history when the base already ran there, else by running it once."""
        run = self.session.history.run_at(invocation.version.version_id, fidelity)
        value = None if run is None else _metric(run.metrics, self.primary)
        if run is not None and value is not None:
            return run.run_id, value
        try:
            result = self.session.execute(
                invocation, fidelity, kind="explore", cancelled=self.cancelled
            )
        except RunFailed as exc:
            raise BaseFailed(f"the version being explored fails on its own: {exc}") from exc
        self.runs += 1
        value = _metric(result.metrics, self.primary)
        if value is None:
            raise BaseFailed(
                f"the version being explored measures no '{self.primary}'"
                f" at {where}; run it with `ghostrun run` to see why."
            )
        return result.run_id, value

    def has_base(self, fidelity: Fidelity) -> bool:
        return fidelity in self._base_values or (
            self.session.history.run_at(self.base.version_id, fidelity) is not None
        )

    # -- variants ------------------------------------------------------------------

    def build(self, variant: Variant) -> Version:
        """The variant's overlaid version, saved with its variant record.

        Raises a WorkflowError (VariantError) when the variant does not apply.
        """
        if variant.id in self._versions:
            return self._versions[variant.id]
        version = self._overlay(variant)
        self.session.history.save_variant(
            VariantRecord(
                variant_id=variant.id,
                base_version=self.base.version_id,
                kind=variant.kind,
                change=variant.to_json(),
                description=variant.describe(),
                location=variant.location(self.workflow),
                ops=tuple(variant.ops),
                base_fingerprints={op: self.base.fingerprints[op] for op in variant.ops},
                version_id=version.version_id,
            )
        )
        self._versions[variant.id] = version
        return version

    def _overlay(self, variant: Variant) -> Version:
        """The variant's overlaid version, saved in the history (runs refer to it)."""
        modules = self.session.project.settings.estimator_modules
        overlaid = variant.apply_to(self.workflow, estimator_modules=modules)
        history = self.session.history
        opened = {name: history.opened_files(name) for name in overlaid.operators}
        version = build_version(overlaid, FileHasher(history), opened, env_hash=self.base.env_hash)
        history.save_version(version.snapshot(), workflow_path=overlaid.relpath)
        return version

    def measure(self, variant: Variant, rung: Rung) -> Measured:
        """Run `variant` at every seed of `rung`, paired with the base, and record it.
        At a resplit rung, also on each other split, paired with the base re-split alike.

        Raises RunCancelled (between operators) when cancelled; a failure in the variant's
        own code is recorded as a failed trial and returned.
        """
        version = self.build(variant)
        runs: list[TrialRun] = []
        seconds, status = 0.0, "ok"
        for seed, fidelity, mine, (base_run, base_value) in self._pairs(variant, version, rung):
            try:
                result = self.session.execute(
                    self._invocation(mine), fidelity, kind="explore", cancelled=self.cancelled
                )
            except RunFailed as exc:
                self.runs += 1
                runs.append(TrialRun(seed, exc.run_id, base_run, None, base_value))
                status = "failed"
                break
            self.runs += 1
            seconds += result.seconds
            value = _metric(result.metrics, self.primary)
            runs.append(TrialRun(seed, result.run_id, base_run, value, base_value))
        return self.record(variant, rung, version, runs, seconds, status)

    def _pairs(
        self, variant: Variant, version: Version, rung: Rung
    ) -> Iterator[tuple[int, Fidelity, Version, tuple[int, float]]]:
        """(seed, fidelity, variant's version, base's run and value) of each pair, built
        only when reached (a failure stops the trial before the next split is overlaid)."""
        for f in rung.fidelities():
            yield f.seed, f, version, self.base_value(f)
        for k, seed in enumerate(split_seeds(rung.resplits), start=1):
            mine = self._overlay(resplit(self.split_op, seed, variant))
            yield k, FULL, mine, self.resplit_base_value(seed)

    def _invocation(self, version: Version) -> Invocation:
        return Invocation(
            version=version,
            parent_id=self.base.version_id,
            changes=classify(self._snapshot, version.snapshot()),
        )

    def record(
        self, variant: Variant, rung: Rung, version: Version, runs: list[TrialRun],
        seconds: float, status: str,
    ) -> Measured:  # fmt: skip
        """Record the trial of `variant` (built as `version`) from its runs, wherever they
        ran (a cluster back end records its workers' runs here first)."""
        pairs = [r for r in runs if r.value is not None]
        results = SeedResults([r.value for r in pairs], [r.base_value for r in pairs])  # type: ignore[misc]
        delta, error = (split_delta if rung.resplits else paired_delta)(results)
        if status == "ok" and delta is None:
            status = "failed"  # the metric came out NaN or missing: nothing to compare
        values = [r.value for r in pairs]
        bases = [r.base_value for r in pairs if r.base_value is not None]
        trial_id = self.session.history.record_trial(
            variant.id, self.base.version_id, rung.fidelity, metric=self.primary,
            goal=self.goal, status=status, runs=runs, delta=delta, uncertainty=error,
            value=_mean(values), base_value=_mean(bases), seconds=seconds,
        )  # fmt: skip
        return Measured(
            variant=variant, rung=rung, trial_id=trial_id, status=status, delta=delta,
            uncertainty=error, value=_mean(values), base_value=_mean(bases), seconds=seconds,
            run_id=runs[-1].run_id, version_id=version.version_id, goal=self.goal,
        )  # fmt: skip

    # -- costs ---------------------------------------------------------------------

    def predict_seconds(self, variant: Variant, rung: Rung) -> float:
        """Predicted wall seconds of a trial of `variant` at `rung` (base runs excluded):
        what is downstream of the changed operators is recomputed, the rest loaded; an
        operator whose boosting budget the variant multiplies takes that much longer."""
        affected = self.workflow.closure(variant.ops, "downstream")
        scale = self._budget_scale(variant)
        per_run = sum(self._op_seconds(op, rung.fidelity) * scale.get(op, 1.0) for op in affected)
        return rung.runs * (per_run + RUN_OVERHEAD)

    def _budget_scale(self, variant: Variant) -> dict[str, float]:
        """op → new/old of the budget knobs (n_estimators, max_iter, ...) the variant moves."""
        scale: dict[str, float] = {}
        for part in variant.parts:
            name = str(part.get("op"))
            op = self.workflow.operators.get(name)
            knob = op.knob(str(part.get("knob"))) if op and part.get("kind") == "knob" else None
            old, new = part.get("old"), part.get("new")
            if knob is not None and is_budget(knob) and _positive(old) and _positive(new):
                scale[name] = scale.get(name, 1.0) * new / old
        return scale

    def predict_base_seconds(self, rung: Rung) -> float:
        missing = [f for f in rung.fidelities() if not self.has_base(f)]
        missing += [s for s in split_seeds(rung.resplits) if s not in self._resplit_bases]
        per_run = sum(self._op_seconds(op, rung.fidelity) for op in self.workflow.operators)
        return len(missing) * (per_run + RUN_OVERHEAD)

    def _op_seconds(self, op: str, fidelity: Fidelity) -> float:
        seconds = self.costs.compute_seconds(op, fidelity.fraction)
        if fidelity.budget < 1 and has_budget(self.workflow.operators[op]):
            seconds *= fidelity.budget
        return seconds


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def split_seeds(n: int) -> list[int]:
    """The `random_state`s of `n` other splits: fixed, so every variant of a base and the
    base itself meet on the same splits (and their runs are cached)."""
    return [1009 + 7919 * k for k in range(n)]


def split_delta(results: SeedResults) -> tuple[float | None, float | None]:
    """The delta on the user's split (the first pair: what `apply` then shows) and the
    spread of the deltas over all splits (how far one split's delta strays by chance)."""
    pairs = [c - p for c, p in zip(results.current, results.parent, strict=True) if p is not None]
    if not pairs:
        return None, None
    if len(pairs) < 2:
        return pairs[0], None
    mean = sum(pairs) / len(pairs)
    return pairs[0], (sum((d - mean) ** 2 for d in pairs) / (len(pairs) - 1)) ** 0.5


def _metric(metrics: dict[str, float] | Any, primary: str) -> float | None:
    value = metrics.get(primary)
    if value is None:
        value = next((v for k, v in metrics.items() if k.startswith(f"{primary}.")), None)
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def _mean(values: list[Any]) -> float | None:
    numbers = [float(v) for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _fidelity_text(f: Fidelity) -> str:
    return "full data" if f.is_full else f"a {f.fraction:.0%} sample (seed {f.seed})"
