"""Warm starts (DESIGN §3, Sherlock): when only a boosting budget grew, continue from the
previous fitted model instead of training again from scratch.

Responsibilities: record what each estimator an operator with a budget knob fits was fitted
on; and, when the parent version left such a record, let a fit of the same estimator with a
larger budget continue from the parent's model.

The proof of "same training" is local to one `fit` call, not a guess from the change set:
a record holds the class, the library version, every parameter but the budget (plain values
only) and a content digest of the `fit` arguments (X, y, sample weights). A fit continues
from an old model only when all of these are equal and its budget is larger. Records are
kept only for models whose state is exactly one fit's result (checked by digest when the
operator returns), so an exactly continued model can be continued again.

Exact families, used for full results, continue the library's own way and end in the same
model as training from scratch (tests/engine/test_warmstart.py proves it per family, field
by field): scikit-learn RandomForest*, ExtraTrees*, GradientBoosting* and
HistGradientBoosting* with `warm_start`, given a fixed integer `random_state`
(HistGradientBoosting: also None where the seed is provably unused), no early stopping and
`fit(X, y[, sample_weight])`; XGBoost with `xgb_model` when nothing is sampled (its
generator restarts). LightGBM (`init_model`) keeps the continuation in the model (iteration
count, init predictor): approximate only, as is any family outside its conditions.
Approximate continuations happen only with `WarmStarts(approximate=True)`, and the executor
then keeps the result off the normal key.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ghostrun.approx.scaling import is_budget
from ghostrun.engine.warmfamilies import Call, Family, Fit, family_of, is_integer, loaded_classes
from ghostrun.reuse.digest import digest
from ghostrun.reuse.loaded import loaded_types
from ghostrun.workflow.hashing import hash_parts
from ghostrun.workflow.types import Change, Fidelity, OpChange, Operator
from ghostrun.workflow.version import Version

WarmKind = Literal["exact", "approximate"]
_FORMAT = "ghostrun-warmstart-1"
_MAX_DEPTH = 6  # how deep outputs are searched for estimators


class _Store(Protocol):
    def load(self, key: str) -> Any: ...
    def save(
        self, key: str, value: Any, digest: Any, *, op: str, seconds: float, persist: bool
    ) -> Any: ...


class _Invocation(Protocol):  # what warm_sources needs of engine.results.Invocation
    @property
    def version(self) -> Version: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def changes(self) -> list[OpChange]: ...


class _History(Protocol):
    def runs(self, *, limit: int, version_id: str | None, status: str | None) -> list[Any]: ...


def records_key(key: str) -> str:
    """Where the fit records of the output stored under `key` are kept."""
    return hash_parts(_FORMAT, key)


def approximate_key(key: str) -> str:
    """The key an approximately warm-started result goes under: never the normal one."""
    return hash_parts("ghostrun-warm-approximate", key)


# --- which parent results an operator may continue from -------------------------------------


def budget_only_grew(change: OpChange, op: Operator) -> bool:
    """Whether the operator's own change is budget knobs that all grew, and nothing else."""
    if change.change is not Change.KNOB or not change.knobs:
        return False
    for name, (old, new) in change.knobs.items():
        knob = op.knob(name)
        if knob is None or not is_budget(knob) or not (_count(old) and _count(new)):
            return False
        if new <= old:
            return False
    return True


def warm_sources(history: _History, invocation: _Invocation, fidelity: Fidelity) -> dict[str, str]:
    """op → its output's key in the parent version's latest ok run at `fidelity`, for each
    operator whose only change is grown budgets."""
    ops = invocation.version.workflow.operators
    changes = invocation.changes
    grown = {c.op for c in changes if c.op in ops and budget_only_grew(c, ops[c.op])}
    if invocation.parent_id is None or not grown:
        return {}
    for run in history.runs(version_id=invocation.parent_id, status="ok", limit=20):
        if run.fidelity == fidelity:
            return {e.op: e.key for e in run.ops if e.op in grown and e.key}
    return {}


@dataclass(frozen=True)
class WarmStarts:
    """What one run may continue from: `sources` maps an operator to its output's key in
    the parent run; `approximate` allows continuations that differ from training again."""

    sources: Mapping[str, str] = field(default_factory=dict)
    approximate: bool = False

    def tracker(self, op: Operator, store: _Store) -> FitTracker:
        active = any(is_budget(k) for k in op.knobs)
        source = self.sources.get(op.name) if active else None
        return FitTracker(op.name, store, source, self.approximate, active=active)


# --- one operator call ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    """What a fit was, comparable with a stored record."""

    cls: str
    version: str
    params: Any
    budget: int
    data: str

    def continues(self, record: Mapping[str, Any]) -> bool:
        """Whether this fit is `record`'s fit with a larger budget."""
        same = {"cls": self.cls, "version": self.version, "params": self.params, "data": self.data}
        old = record.get("budget")
        grew = isinstance(old, int) and 0 < old < self.budget
        return grew and all(record.get(k) == v for k, v in same.items())


class FitTracker:
    """Patches `fit` of the family classes for one operator call (restored on exit), notes
    every fit, and continues a fit from the parent's model where a record proves it may."""

    def __init__(
        self, op: str, store: _Store, source: str | None, approximate: bool, *, active: bool
    ):
        self.op = op
        self.store = store
        self.source = source
        self.approximate = approximate
        self.active = active
        self.kinds: set[WarmKind] = set()
        self.reasons: list[str] = []  # why a continuation that was possible was not exact
        self._notes: dict[int, tuple[weakref.ref[Any], dict[str, Any], str]] = {}
        self._previous: list[tuple[Any, Mapping[str, Any] | None]] | None = None
        self._restore: list[Callable[[], None]] = []
        self._depth = 0

    @property
    def kind(self) -> WarmKind | None:
        """'approximate' if any fit continued approximately, else 'exact' if any did."""
        if "approximate" in self.kinds:
            return "approximate"
        return "exact" if self.kinds else None

    def __enter__(self) -> FitTracker:
        if self.active:
            for kind, family in loaded_classes():
                self._patch(kind, family)
        return self

    def __exit__(self, *exc: object) -> None:
        while self._restore:
            self._restore.pop()()

    def _patch(self, kind: type, family: Family) -> None:
        original = kind.fit  # type: ignore[attr-defined]
        own = kind.__dict__.get("fit")

        @functools.wraps(original)
        def fit(est: Any, *args: Any, **kwargs: Any) -> Any:
            if type(est) is not kind or self._depth:
                return original(est, *args, **kwargs)
            self._depth += 1
            try:
                return self._fit(family, original, est, Call(args, kwargs))
            finally:
                self._depth -= 1

        kind.fit = fit  # type: ignore[attr-defined]
        self._restore.append(
            (lambda: delattr(kind, "fit")) if own is None else (lambda: setattr(kind, "fit", own))
        )

    def _fit(self, family: Family, fit: Fit, est: Any, call: Call) -> Any:
        spec = _describe(family, est, call)
        kind = self._continue(family, spec, fit, est, call) if spec else None
        result = est if kind is not None else fit(est, *call.args, **call.kwargs)
        self._notes.pop(id(est), None)
        if kind is not None:
            self.kinds.add(kind)
        if spec is not None and kind != "approximate":
            self._notes[id(est)] = (weakref.ref(est), dataclasses.asdict(spec), _state(est))
        return result

    def _continue(
        self, family: Family, spec: _Fit, fit: Fit, est: Any, call: Call
    ) -> WarmKind | None:
        for old, record in self._candidates():
            if record is None or type(old) is not type(est) or not spec.continues(record):
                continue
            if family.rounds(old) != record["budget"]:
                continue
            reason = family.inexact(est, old, call)
            if reason is not None:
                self.reasons.append(f"{type(est).__name__}: {reason}")
                if not self.approximate:
                    return None
            if family.resume(family, est, old, fit, call, reason is None):
                return "exact" if reason is None else "approximate"
            return None
        return None

    def _candidates(self) -> list[tuple[Any, Mapping[str, Any] | None]]:
        if self._previous is None:
            self._previous = _load_previous(self.store, self.source) if self.source else []
        return self._previous

    def records(self, value: Any) -> list[dict[str, Any] | None] | None:
        """One record per estimator found in `value` (None where its state is not exactly
        one fit's result), or None when there is nothing to record."""
        if not self.active:
            return None
        records = [self._record(est) for est in _estimators(value)]
        return records if any(r is not None for r in records) else None

    def _record(self, est: Any) -> dict[str, Any] | None:
        held = self._notes.get(id(est))
        if held is None or held[0]() is not est or _state(est) != held[2]:
            return None
        return held[1]

    def save_records(self, key: str, value: Any, *, seconds: float, persist: bool) -> None:
        """Keep the records beside the output saved under `key` (best effort)."""
        records = self.records(value)
        if records is None:
            return
        payload = (_FORMAT, records)
        try:
            self.store.save(
                records_key(key), payload, digest(payload), op=self.op, seconds=seconds,
                persist=persist,
            )  # fmt: skip
        except Exception:  # noqa: BLE001 - losing a record only loses a future warm start
            return


def _load_previous(store: _Store, key: str) -> list[tuple[Any, Mapping[str, Any] | None]]:
    """The parent's estimators paired with their records; empty on any problem."""
    try:
        tag, records = store.load(records_key(key))
        old = store.load(key)
    except Exception:  # noqa: BLE001 - no usable parent result: train from scratch
        return []
    found = list(_estimators(old))
    if tag != _FORMAT or len(found) != len(records):
        return []
    return list(zip(found, records, strict=True))


def _describe(family: Family, est: Any, call: Call) -> _Fit | None:
    """The comparable description of a fit, or None when it cannot be compared."""
    try:
        params = est.get_params(deep=False)
        budget = params.pop(family.budget)
        params.pop("warm_start", None)
        plain = _canon(params)
    except (_NotPlain, KeyError, AttributeError, TypeError):
        return None
    data = digest((call.args, tuple(sorted(call.kwargs.items()))))
    if not _count(budget) or not data.stable:
        return None
    kind = type(est)
    version = str(getattr(sys.modules.get(kind.__module__.split(".")[0]), "__version__", ""))
    return _Fit(f"{kind.__module__}.{kind.__name__}", version, plain, int(budget), data.hex)


def _state(est: Any) -> str:
    """A digest of a model's state, without what a meta-estimator sets only during `fit`."""
    return digest({k: v for k, v in vars(est).items() if k != "_parent_callback_ctx"}).hex


def _estimators(value: Any, depth: int = 0) -> Iterator[Any]:
    """Family estimators inside an output, in an order that survives pickling: the value
    itself, items of lists, tuples and dicts, attributes of scikit-learn objects."""
    if depth > _MAX_DEPTH:
        return
    if family_of(type(value)) is not None:
        yield value
        return
    if isinstance(value, dict):
        children: list[Any] = list(value.values())
    elif isinstance(value, list | tuple):
        children = list(value)
    elif type(value).__module__.startswith("sklearn.") and hasattr(value, "__dict__"):
        children = list(vars(value).values())
    else:
        return
    for child in children:
        yield from _estimators(child, depth + 1)


class _NotPlain(Exception):
    pass


def _canon(value: Any) -> Any:
    """A comparable form of a parameter value; only plain values are accepted."""
    scalars = (bool, int, float, str, *loaded_types("numpy", "generic"))
    if value is None or isinstance(value, scalars):
        return (type(value).__name__, repr(value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _canon(v)) for k, v in value.items())))
    raise _NotPlain(type(value).__name__)


def _count(value: Any) -> bool:
    return is_integer(value) and bool(value > 0)
