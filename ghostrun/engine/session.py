"""A session: one project's history and store, and the user-facing run of a version.

The CLI opens one per command; the daemon's run worker keeps one alive across saves.
A run loads the workflow fresh (or, in a fresh process whose workflow provably did not
change, reuses the recorded version without importing it: `workflow.quickload`),
fingerprints it, classifies it against the previous user run, executes its stages, and
records everything in the history.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from ghostrun.approx.scaling import budget_overrides
from ghostrun.engine.costs import CostModel
from ghostrun.engine.executor import ExecutionHooks, Executor, OpOutcome
from ghostrun.engine.results import Invocation, RunResult, StageResult
from ghostrun.engine.verdict import Comparison, compare
from ghostrun.engine.warmstart import WarmStarts, warm_sources
from ghostrun.errors import GhostrunError, RunCancelled, UserCodeError
from ghostrun.history import History
from ghostrun.project import Project
from ghostrun.reuse.cache import ResultCache
from ghostrun.reuse.materialize import (
    KEEP_SUPERSEDED,
    MaterializationPolicy,
    enforce_budget,
    prune_superseded,
    read_chances,
    survival_chances,
)
from ghostrun.reuse.memory import MemoryCache
from ghostrun.reuse.store import Store
from ghostrun.workflow.changes import classify
from ghostrun.workflow.datafiles import FileHasher
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.loader import LoadOptions, LoadSources, load_workflow_with_sources
from ghostrun.workflow.ondemand import CodeOnDemand, real_workflow
from ghostrun.workflow.overlay import with_knobs
from ghostrun.workflow.quickload import load_context, quick_version, remember
from ghostrun.workflow.types import FULL, Fidelity
from ghostrun.workflow.version import Version, build_version

RunKind = Literal["user", "explore", "manual"]


class RunFailed(GhostrunError):
    """A stage failed in user code; carries what was known before it failed."""

    exit_code = 1

    def __init__(self, cause: UserCodeError, invocation: Invocation, run_id: int):
        self.cause = cause
        self.invocation = invocation
        self.run_id = run_id
        super().__init__(str(cause))


class Session:
    """Responsibilities: own the history and store of one project; load versions;
    run stages and record them."""

    def __init__(self, project: Project, memory: MemoryCache | None = None, *, quick: bool = False):
        """`quick`: may `load` reuse the last version without importing the workflow
        (`workflow.quickload`)? Worth it in a fresh process (the CLI), where importing the
        workflow's libraries is most of what an unchanged rerun waits for. Its operators'
        functions are then stand-ins until needed: code that overlays or inspects them
        takes `ondemand.real_workflow(version.workflow)` first. A long-lived worker has the
        libraries imported already and wants the modules a real import brings in."""
        self.project = project
        self.quick = quick
        self._code: CodeOnDemand | None = None
        project.ensure_state_dir()
        self.history = History(project.history_path)
        self.store = Store(project.cache_dir)
        self.cache = ResultCache(self.store, memory, known=self.history.known_output)
        self.history.mark_interrupted()
        # Called with each run's id as it starts: the daemon's `run.started` event.
        self.on_run_start: Callable[[int, Fidelity], None] | None = None

    def close(self) -> None:
        if self._code is not None:
            self._code.close()
        self.history.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self) -> Version:
        """Fingerprint the workflow (data file contents included): quickly from the last
        record if nothing it depends on changed, else by importing it fresh."""
        s = self.project.settings
        options = LoadOptions(
            metric=s.metric,
            goal=s.goal if s.metric else None,
            inputs=s.inputs,
            estimator_modules=tuple(s.estimator_modules),
        )
        path, root = self.project.require_workflow(), self.project.root
        context = load_context(path, root, options)
        hasher = FileHasher(self.history)
        if self._code is not None:
            self._code.close()
        self._code = CodeOnDemand(lambda: self._import(path, options)[0])
        if self.quick:
            quick = quick_version(self._quick_file, context, hasher, self._opened, self._code)
            if quick is not None:
                return quick
        workflow, sources = self._import(path, options)
        version = build_version(workflow, hasher, self._opened(workflow.operators))
        remember(self._quick_file, context, workflow, version, sources)
        return version

    @property
    def _quick_file(self) -> Path:
        return self.project.state_dir / "quickload.json"

    def _import(self, path: Path, options: LoadOptions) -> tuple[Workflow, LoadSources]:
        with working_directory(self.project.root):
            return load_workflow_with_sources(path, self.project.root, options)

    def _opened(self, names: Iterable[str]) -> dict[str, list[str]]:
        return {name: self.history.opened_files(name) for name in names}

    def prepare(self, version: Version) -> Invocation:
        """Classify `version` against the last user run and record both in the history."""
        parent_id = self.history.current_version("user")
        parent = self.history.load_version(parent_id) if parent_id else None
        snapshot = version.snapshot()
        changes = classify(parent, snapshot)
        self.history.save_version(snapshot, workflow_path=version.workflow.relpath)
        self.history.save_changes(version.version_id, parent_id, changes)
        return Invocation(version=version, parent_id=parent_id, changes=changes)

    def execute(
        self,
        invocation: Invocation,
        fidelity: Fidelity = FULL,
        *,
        kind: RunKind = "user",
        cancelled: Callable[[], bool] | None = None,
        on_op: Callable[[OpOutcome], None] | None = None,
    ) -> RunResult:
        """Run the invocation's version at one fidelity and record it as one run."""
        version = invocation.version
        run_id = self.history.start_run(
            version.version_id, kind=kind, fidelity=fidelity, parent_id=invocation.parent_id
        )
        if self.on_run_start:
            self.on_run_start(run_id, fidelity)
        costs = CostModel(self.history)
        policy = self._policy(version)
        hooks = self._hooks(run_id, invocation, on_op, cancelled, policy)
        warm = WarmStarts(warm_sources(self.history, invocation, fidelity))  # warmstart.py
        t0 = time.perf_counter()
        try:
            with working_directory(self.project.root):
                executed = self._at_budget(version, fidelity.budget)
                min_rows = self.project.settings.min_sample_rows
                executor = Executor(executed, self.cache, fidelity, hooks, costs, min_rows, warm)
                result = executor.run()
        except UserCodeError as exc:
            self._fail(run_id, t0, exc.traceback_text or str(exc), "failed")
            raise RunFailed(exc, invocation, run_id) from exc
        except BaseException as exc:
            self._fail(run_id, t0, str(exc), "cancelled" if _is_cancel(exc) else "failed")
            raise
        seconds = time.perf_counter() - t0
        current = {o.key for o in result.outcomes.values()}
        invocation.used_keys.update(current)
        invocation.fidelities.add(fidelity)
        if kind == "user" and fidelity.is_full:
            # After the last stage only, sparing every stage's entries, and keeping one set
            # of superseded entries per fidelity the ladder runs (the next edit pairs with them).
            keep = KEEP_SUPERSEDED * max(1, len(invocation.fidelities))
            prune_superseded(self.store, invocation.used_keys, keep=keep)
        enforce_budget(self.store, self.project.settings.storage_budget, policy.survival, current)
        primary = _primary_name(version, result.metrics)
        self.history.finish_run(
            run_id, status="ok", seconds=seconds, metrics=result.metrics, primary=primary
        )
        return RunResult(run_id, fidelity, result.metrics, primary, seconds, result.outcomes)

    def _at_budget(self, version: Version, budget: float) -> Version:
        """The version to execute: with boosting budgets scaled down for a budget < 1."""
        if budget >= 1.0:
            return version
        overrides = budget_overrides(version.workflow, budget)
        if not overrides:
            return version
        workflow = with_knobs(real_workflow(version.workflow), overrides)
        opened = {name: self.history.opened_files(name) for name in workflow.operators}
        return build_version(workflow, FileHasher(self.history), opened)

    def run_stage(
        self,
        invocation: Invocation,
        fidelity: Fidelity = FULL,
        *,
        kind: RunKind = "user",
        started: float | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_op: Callable[[OpOutcome], None] | None = None,
    ) -> StageResult:
        """Run one exact stage, append it to `invocation.stages` and return it."""
        started = time.perf_counter() if started is None else started
        run = self.execute(invocation, fidelity, kind=kind, cancelled=cancelled, on_op=on_op)
        stage = StageResult(
            run_id=run.run_id,
            fidelity=fidelity,
            metrics=run.metrics,
            elapsed=time.perf_counter() - started,
            seconds=run.seconds,
            comparison=self._compare(invocation, fidelity, run.metrics, run.primary),
            outcomes=run.outcomes,
        )
        invocation.stages.append(stage)
        return stage

    def _policy(self, version: Version) -> MaterializationPolicy:
        workflow = version.workflow
        recent = self.history.recent_changes(limit=20)
        inputs = {name: op.inputs for name, op in workflow.operators.items()}
        consumers = {name: workflow.dependents(name) for name in workflow.operators}
        return MaterializationPolicy.online(
            survival_chances(recent, workflow.operators), inputs, read_chances(recent, consumers)
        )

    def _hooks(
        self,
        run_id: int,
        invocation: Invocation,
        on_op: Callable[[OpOutcome], None] | None,
        cancelled: Callable[[], bool] | None,
        policy: MaterializationPolicy,
    ) -> ExecutionHooks:
        def record(outcome: OpOutcome) -> None:
            self.history.record_op(
                run_id,
                outcome.name,
                state=outcome.state,
                seconds=outcome.seconds,
                rows=outcome.rows,
                nbytes=outcome.nbytes,
                key=outcome.key,
                content_hash=outcome.content_hash,
                change=invocation.change_of(outcome.name).value,
            )
            policy.finished(outcome.name, outcome.state, outcome.seconds, outcome.nbytes)
            if on_op:
                on_op(outcome)

        return ExecutionHooks(
            on_op=record,
            cancelled=cancelled or (lambda: False),
            should_store=lambda op, seconds, nbytes: policy.should_store(
                op.name, seconds, nbytes, is_metric=op.kind == "metric"
            ),
            on_opened_files=self.history.set_opened_files,
        )

    def _fail(self, run_id: int, t0: float, error: str, status: str) -> None:
        self.history.finish_run(
            run_id, status=status, seconds=time.perf_counter() - t0, error=error
        )

    def _compare(
        self,
        invocation: Invocation,
        fidelity: Fidelity,
        metrics: dict[str, float],
        primary: str | None,
    ) -> Comparison | None:
        if invocation.parent_id is None or primary is None:
            return None
        before = self.history.metrics_for(invocation.parent_id, fidelity)
        if not before or primary not in before:
            return None
        return compare(metrics[primary], before[primary], invocation.version.workflow.goal)


def _primary_name(version: Version, metrics: dict[str, float]) -> str | None:
    primary = version.workflow.primary
    if primary is None:
        return None
    if primary in metrics:
        return primary
    return next((m for m in metrics if m.startswith(f"{primary}.")), None)


def _is_cancel(exc: BaseException) -> bool:
    return isinstance(exc, RunCancelled | KeyboardInterrupt)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """User code resolves relative paths against the project root, as when run by hand."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
