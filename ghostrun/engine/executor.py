"""Running one version at one fidelity: plan, then compute, load or prune each operator.

Cache keys depend on the *content* of inputs (early cutoff), so the key of an operator
below one that must recompute is unknown until that operator has run. The walk therefore
plans online: it resolves every key it can, asks the exact planner (`plan.plan`) for the
cheapest assignment, computes the first operator the plan says to compute, and re-plans
with what that revealed. Values are loaded lazily, only when a computation or a target
needs them; everything else is pruned.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ghostrun.engine.costs import CostModel
from ghostrun.engine.keys import cache_key
from ghostrun.engine.plan import PlanNode, State, plan
from ghostrun.engine.usercode import call_operator, metric_values, row_count
from ghostrun.engine.warmstart import WarmKind, WarmStarts, approximate_key
from ghostrun.errors import RunCancelled, StoreError
from ghostrun.reuse.digest import Digest, digest
from ghostrun.workflow.datafiles import record_opened_files
from ghostrun.workflow.types import FULL, Fidelity, Operator
from ghostrun.workflow.version import Version


class CachedEntry(Protocol):
    @property
    def content_hash(self) -> str: ...
    @property
    def nbytes(self) -> int: ...


class ResultStore(Protocol):
    """What a run needs of the result cache (`ghostrun.reuse.cache.ResultCache`)."""

    def lookup(self, key: str) -> CachedEntry | None: ...
    def load(self, key: str) -> Any: ...
    def load_seconds(self, key: str, nbytes: int) -> float | None: ...
    def save(
        self, key: str, value: Any, digest: Digest, *, op: str, seconds: float, persist: bool
    ) -> Any: ...


@dataclass(frozen=True)
class OpOutcome:
    name: str
    state: State
    seconds: float
    key: str
    content_hash: str
    rows: int | None = None
    nbytes: int | None = None
    warm_start: WarmKind | None = None  # computed by continuing a parent's model (warmstart.py)


@dataclass
class ExecutionHooks:
    """How callers observe and steer a run without the executor knowing about them."""

    on_op: Callable[[OpOutcome], None] = lambda outcome: None
    cancelled: Callable[[], bool] = lambda: False
    should_store: Callable[[Operator, float, int], bool] = lambda op, seconds, nbytes: True
    on_opened_files: Callable[[str, list[str]], None] = lambda op, paths: None


@dataclass
class ExecutionResult:
    outcomes: dict[str, OpOutcome]
    metrics: dict[str, float]
    values: dict[str, Any] = field(repr=False, default_factory=dict)


class Executor:
    def __init__(
        self,
        version: Version,
        store: ResultStore,
        fidelity: Fidelity,
        hooks: ExecutionHooks | None = None,
        costs: CostModel | None = None,
        min_sample_rows: int = 1500,
        warm: WarmStarts | None = None,
    ):
        self.min_sample_rows = min_sample_rows
        self.warm = warm or WarmStarts()  # record fits; continue from `warm.sources`
        self.version = version
        self.store = store
        self.fidelity = fidelity
        self.hooks = hooks or ExecutionHooks()
        self.costs = costs or CostModel()
        self.root: Path = version.workflow.root

    def run(self, targets: Iterable[str] | None = None) -> ExecutionResult:
        wanted = list(targets) if targets is not None else list(self.version.workflow.sinks)
        return _Walk(self, wanted).run()


class _Walk:
    """The state of one run: keys, content hashes, values in memory, outcomes."""

    def __init__(self, ex: Executor, targets: list[str]):
        self.ex = ex
        workflow = ex.version.workflow
        self.targets = set(targets)
        needed = workflow.closure(targets, "upstream")
        self.order = [n for n in workflow.operators if n in needed]
        self.ops: dict[str, Operator] = {n: workflow.operators[n] for n in self.order}
        self.keys: dict[str, str] = {}
        self.entries: dict[str, CachedEntry] = {}
        self.content: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.held: dict[str, str] = {}  # digest of each value as held, to detect mutation
        self.outcomes: dict[str, OpOutcome] = {}
        self.consumers = {n: sum(n in self.ops[d].inputs for d in self.order) for n in self.order}

    def run(self) -> ExecutionResult:
        while (name := self._next_to_compute()) is not None:
            self._compute(name)
        metrics: dict[str, float] = {}
        for name in self.order:
            if name in self.targets:
                value = self._value(name)
                if self.ops[name].kind == "metric":
                    metrics.update(metric_values(self.ops[name], value))
        for name in self.order:
            if name not in self.outcomes:
                entry = self.entries.get(name)
                self._finish(name, "pruned", 0.0, entry.nbytes if entry else None)
        outcomes = {n: self.outcomes[n] for n in self.order}
        kept = {n: v for n, v in self.values.items() if n in self.targets}
        return ExecutionResult(outcomes=outcomes, metrics=metrics, values=kept)

    def _next_to_compute(self) -> str | None:
        if self.ex.hooks.cancelled():
            raise RunCancelled("run cancelled by a newer request")
        self._resolve_keys()
        states = plan({n: self._plan_node(n) for n in self.order})
        return next(
            (n for n in self.order if states[n] == "computed" and n not in self.values), None
        )

    def _resolve_keys(self) -> None:
        """Key and look up every operator whose inputs' content is known."""
        for name in self.order:
            op = self.ops[name]
            if name in self.keys or any(i not in self.content for i in op.inputs):
                continue
            self.keys[name] = cache_key(
                self.ex.version.local_keys[name],
                self.ex.fidelity,
                [(i, self.content[i]) for i in op.inputs],
            )
            entry = self.ex.store.lookup(self.keys[name])
            if entry is not None:
                self.content[name] = entry.content_hash
                if getattr(entry, "loadable", True):
                    self.entries[name] = entry

    def _plan_node(self, name: str) -> PlanNode:
        op = self.ops[name]
        target = name in self.targets
        if name in self.values:
            return PlanNode(op.inputs, compute=0.0, load=0.0, target=target)
        entry = self.entries.get(name)
        load = None if entry is None else self._load_seconds(name, entry)
        compute = self.ex.costs.compute_seconds(name, self.ex.fidelity.fraction)
        return PlanNode(op.inputs, compute=compute, load=load, target=target)

    def _load_seconds(self, name: str, entry: CachedEntry) -> float:
        hot = self.ex.store.load_seconds(self.keys[name], entry.nbytes)
        return hot if hot is not None else self.ex.costs.load_seconds(entry.nbytes)

    def _value(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name not in self.entries:
            return self._compute(name)
        started = time.perf_counter()
        try:
            value = self.ex.store.load(self.keys[name])
        except (KeyError, StoreError):
            del self.entries[name]
            return self._compute(name)
        self.values[name] = value
        # Pickling may rebuild shared references differently (a fitted model's dtypes,
        # its random generator), so the loaded object is checked against its own digest.
        self.held[name] = digest(value).hex
        seconds = time.perf_counter() - started
        self._finish(name, "loaded", seconds, self.entries[name].nbytes, row_count(value))
        return value

    def _compute(self, name: str) -> Any:
        op = self.ops[name]
        inputs = {i: self._value(i) for i in op.inputs}
        if name not in self.keys:
            # an input recomputed on the way to other content than its entry promised
            # (`_set_content` dropped this key): key it on the inputs it really got
            self._resolve_keys()
        started = time.perf_counter()
        with self.ex.warm.tracker(op, self.ex.store) as warm:  # warm starts (warmstart.py)
            if op.kind == "source":
                value = self._source_value(op, inputs)
            else:
                value = call_operator(op, inputs, self.ex.root)
        seconds = time.perf_counter() - started
        if op.kind == "metric":
            metric_values(op, value)
        d = digest(value)
        if warm.kind == "approximate":  # never under the key of an exact result
            self.keys[name] = approximate_key(self.keys[name])
        self._set_content(name, d.hex)
        self.values[name] = value
        self.held[name] = d.hex
        persist = self.ex.hooks.should_store(op, seconds, d.nbytes)
        self._save(name, value, d, seconds, persist)
        warm.save_records(self.keys[name], value, seconds=seconds, persist=persist)
        self._finish(name, "computed", seconds, d.nbytes, row_count(value), warm.kind)
        self._check_inputs_intact(name, inputs)
        self._release(op.inputs)
        return value

    def _check_inputs_intact(self, name: str, inputs: dict[str, Any]) -> None:
        """An operator that changed an input in place must not leak that change into
        other operators' results (and so into their cache entries): the changed value is
        dropped, and later consumers get the original back from the cache or recompute it."""
        for i, value in inputs.items():
            if self.values.get(i) is value and digest(value).hex != self.held[i]:
                del self.values[i]
                warnings.warn(
                    f"operator '{name}' modified its input '{i}' in place; later operators get "
                    f"the original. Copy it first (e.g. `{i} = {i}.copy()`) to silence this.",
                    stacklevel=2,
                )

    def _source_value(self, op: Operator, inputs: dict[str, Any]) -> Any:
        """A source's output at this run's fidelity: the full output, then row-sampled and
        downcast as the fidelity says. The full output is cached under its own key, so
        every sample size and seed starts from one read of the data."""
        fidelity = self.ex.fidelity
        sampled = fidelity.fraction < 1 and (op.source_options is None or op.source_options.sample)
        if not sampled and fidelity.precision == "float64":
            return self._run_source(op, inputs)
        # Imported here: they need numpy, pandas and pyarrow, which a run that only loads
        # cached results never imports.
        from ghostrun.approx.precision import downcast
        from ghostrun.approx.sampling import SampleSpec, sample

        value = self._full_source_value(op, inputs)
        if sampled:
            by = op.source_options.sample_by if op.source_options else None
            spec = SampleSpec(fidelity.fraction, fidelity.seed, by, self.ex.min_sample_rows)
            value = sample(value, spec).value
        return downcast(value) if fidelity.precision == "float32" else value

    def _full_source_value(self, op: Operator, inputs: dict[str, Any]) -> Any:
        content = [(i, self.content[i]) for i in op.inputs]
        key = cache_key(self.ex.version.local_keys[op.name], FULL, content)
        entry = self.ex.store.lookup(key)
        if entry is not None and getattr(entry, "loadable", True):
            try:
                return self.ex.store.load(key)
            except (KeyError, StoreError):
                pass
        started = time.perf_counter()
        value = self._run_source(op, inputs)
        seconds = time.perf_counter() - started
        d = digest(value)
        persist = self.ex.hooks.should_store(op, seconds, d.nbytes)
        try:
            self.ex.store.save(key, value, d, op=op.name, seconds=seconds, persist=persist)
        except (OSError, StoreError) as exc:
            warnings.warn(f"could not cache '{op.name}': {exc}", stacklevel=2)
        return value

    def _run_source(self, op: Operator, inputs: dict[str, Any]) -> Any:
        with record_opened_files(self.ex.root) as opened:
            value = call_operator(op, inputs, self.ex.root)
        self.ex.hooks.on_opened_files(op.name, opened)
        return value

    def _set_content(self, name: str, content: str) -> None:
        """Record an output's content; if it differs from what a cache entry promised
        (non-deterministic code, a corrupt entry), keys below it are resolved again."""
        expected = self.content.get(name)
        self.content[name] = content
        if expected is not None and expected != content:
            below = self.ex.version.workflow.closure([name], "downstream") - {name}
            for other in below:
                if other not in self.values:
                    self.keys.pop(other, None)
                    self.entries.pop(other, None)
                    self.content.pop(other, None)

    def _save(self, name: str, value: Any, d: Digest, seconds: float, persist: bool) -> None:
        try:
            entry = self.ex.store.save(
                self.keys[name], value, d, op=name, seconds=seconds, persist=persist
            )
            if entry is not None:
                self.entries[name] = entry
        except (OSError, StoreError) as exc:
            warnings.warn(f"could not cache '{name}': {exc}", stacklevel=2)

    def _release(self, inputs: Iterable[str]) -> None:
        """Drop values from memory once every consumer in this run has them."""
        for name in inputs:
            self.consumers[name] -= 1
            if self.consumers[name] <= 0 and name not in self.targets:
                self.values.pop(name, None)

    def _finish(
        self,
        name: str,
        state: State,
        seconds: float,
        nbytes: int | None,
        rows: int | None = None,
        warm: WarmKind | None = None,
    ) -> None:
        key, content = self.keys[name], self.content[name]
        outcome = OpOutcome(name, state, seconds, key, content, rows, nbytes, warm)
        self.outcomes[name] = outcome
        self.ex.hooks.on_op(outcome)
