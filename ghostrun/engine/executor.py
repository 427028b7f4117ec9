"""Running one version at one fidelity: compute what is missing, load what is needed.

The walk goes in topological order. An operator whose key is in the store is not loaded
right away: its recorded content hash is enough to key its dependents. Its value is read
only when an operator that must compute needs it, or when it is a target (a metric);
otherwise it is pruned. This is the exact optimum when loading never costs more than
recomputing; the cost-based plan that also weighs recompute-instead-of-load lives in
`ghostrun.engine.plan` once histories exist to estimate costs from.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ghostrun.engine.keys import cache_key
from ghostrun.engine.usercode import call_operator, metric_values, row_count
from ghostrun.errors import RunCancelled, StoreError
from ghostrun.reuse.digest import Digest, digest
from ghostrun.workflow.datafiles import record_opened_files
from ghostrun.workflow.types import Fidelity, Operator
from ghostrun.workflow.version import Version

State = Literal["computed", "loaded", "pruned"]
MAX_ATTEMPTS = 3


class ResultStore(Protocol):
    def lookup(self, key: str) -> Any | None: ...
    def load(self, key: str) -> Any: ...
    def save(self, key: str, value: Any, digest: Digest, *, op: str, seconds: float) -> Any: ...


@dataclass(frozen=True)
class OpOutcome:
    name: str
    state: State
    seconds: float
    key: str
    content_hash: str
    rows: int | None = None
    nbytes: int | None = None


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


class _CacheInconsistent(Exception):
    """A corrupt entry recomputed to different content: restart with fresh keys."""


class Executor:
    def __init__(
        self,
        version: Version,
        store: ResultStore,
        fidelity: Fidelity,
        hooks: ExecutionHooks | None = None,
    ):
        self.version = version
        self.store = store
        self.fidelity = fidelity
        self.hooks = hooks or ExecutionHooks()
        self.root: Path = version.workflow.root

    def run(self, targets: Iterable[str] | None = None) -> ExecutionResult:
        ops = self.version.workflow.operators
        wanted = list(targets) if targets is not None else list(self.version.workflow.sinks)
        for attempt in range(MAX_ATTEMPTS):
            try:
                return _Walk(self, ops, wanted).run()
            except _CacheInconsistent:
                if attempt == MAX_ATTEMPTS - 1:
                    raise StoreError(
                        "the result cache keeps changing under this run; run `ghostrun gc` "
                        "and try again."
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover


class _Walk:
    """The state of one attempt: keys, content hashes, values in memory, outcomes."""

    def __init__(self, ex: Executor, ops: Any, targets: list[str]):
        self.ex = ex
        self.ops: dict[str, Operator] = dict(ops)
        self.needed = ex.version.workflow.closure(targets, "upstream")
        self.targets = set(targets)
        self.keys: dict[str, str] = {}
        self.content: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self.outcomes: dict[str, OpOutcome] = {}
        self.consumers = {n: sum(n in self.ops[d].inputs for d in self.needed) for n in self.needed}

    def run(self) -> ExecutionResult:
        order = [n for n in self.ops if n in self.needed]
        for name in order:
            if self.ex.hooks.cancelled():
                raise RunCancelled(f"run cancelled before operator '{name}'")
            op = self.ops[name]
            self.keys[name] = cache_key(
                self.ex.version.local_keys[name],
                self.ex.fidelity,
                [(i, self.content[i]) for i in op.inputs],
            )
            entry = self.ex.store.lookup(self.keys[name])
            if entry is not None:
                self.content[name] = entry.content_hash
                self.pending[name] = entry
            else:
                self._compute(name)
        metrics: dict[str, float] = {}
        for name in order:
            if name in self.targets:
                value = self._value(name)
                if self.ops[name].kind == "metric":
                    metrics.update(metric_values(self.ops[name], value))
        for name in order:
            if name not in self.outcomes:
                self._finish(name, "pruned", 0.0, self.pending[name].nbytes)
        outcomes = {n: self.outcomes[n] for n in order}
        kept = {n: v for n, v in self.values.items() if n in self.targets}
        return ExecutionResult(outcomes=outcomes, metrics=metrics, values=kept)

    def _value(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        entry = self.pending.pop(name)
        started = time.perf_counter()
        try:
            value = self.ex.store.load(self.keys[name])
        except (KeyError, StoreError):
            recorded = self.content[name]
            value = self._compute(name)
            if self.content[name] != recorded:
                raise _CacheInconsistent(name) from None
            return value
        self.values[name] = value
        self._finish(name, "loaded", time.perf_counter() - started, entry.nbytes, row_count(value))
        return value

    def _compute(self, name: str) -> Any:
        op = self.ops[name]
        inputs = {i: self._value(i) for i in op.inputs}
        started = time.perf_counter()
        if op.kind == "source":
            with record_opened_files(self.ex.root) as opened:
                value = call_operator(op, inputs, self.ex.root)
            self.ex.hooks.on_opened_files(name, opened)
        else:
            value = call_operator(op, inputs, self.ex.root)
        seconds = time.perf_counter() - started
        if op.kind == "metric":
            metric_values(op, value)
        d = digest(value)
        self.content[name] = d.hex
        self.values[name] = value
        if self.ex.hooks.should_store(op, seconds, d.nbytes):
            self._save(name, value, d, seconds)
        self._finish(name, "computed", seconds, d.nbytes, row_count(value))
        self._release(op.inputs)
        return value

    def _save(self, name: str, value: Any, d: Digest, seconds: float) -> None:
        try:
            self.ex.store.save(self.keys[name], value, d, op=name, seconds=seconds)
        except (OSError, StoreError) as exc:
            warnings.warn(f"could not cache '{name}': {exc}", stacklevel=2)

    def _release(self, inputs: Iterable[str]) -> None:
        """Drop values from memory once every consumer in this run has them."""
        for name in inputs:
            self.consumers[name] -= 1
            if self.consumers[name] <= 0 and name not in self.targets:
                self.values.pop(name, None)

    def _finish(
        self, name: str, state: State, seconds: float, nbytes: int | None, rows: int | None = None
    ) -> None:
        outcome = OpOutcome(name, state, seconds, self.keys[name], self.content[name], rows, nbytes)
        self.outcomes[name] = outcome
        self.ex.hooks.on_op(outcome)
