"""Primitive types of a workflow: operators, knobs, locations, change kinds, snapshots.

This module sits at the bottom of the package: it imports no other ghostrun module, and
every other subpackage may import it. Everything here is immutable; a new save yields new
objects, never edited old ones.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

OpKind = Literal["source", "op", "metric"]
Goal = Literal["max", "min"]


class Change(enum.StrEnum):
    """How an operator differs from the same-named operator of the parent version."""

    UNCHANGED = "unchanged"
    CODE = "code"
    KNOB = "knob"
    DATA = "data"
    UPSTREAM = "upstream"
    NEW = "new"
    REMOVED = "removed"


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class KnobRange:
    """The search range declared with `gr.knob`; exploration stays inside it."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None
    budget: bool = False


@dataclass(frozen=True)
class Knob:
    """One tunable value of an operator.

    `name` is the parameter name for explicit knobs and `Estimator.param` (with `#2`, `#3`
    for repeated constructors) for implicit literal keyword arguments.
    """

    name: str
    value: Any
    location: Location
    implicit: bool = False
    range: KnobRange | None = None
    is_data: bool = False
    estimator: str | None = None


@dataclass(frozen=True)
class SourceOptions:
    sample: bool = True
    sample_by: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricOptions:
    goal: Goal = "max"
    primary: bool = False


@dataclass(frozen=True)
class Operator:
    """One node of the workflow DAG, as loaded from the user's module."""

    name: str
    kind: OpKind
    func: Callable[..., Any] = field(repr=False, compare=False)
    inputs: tuple[str, ...]
    knobs: tuple[Knob, ...]
    location: Location
    source_text: str = field(repr=False)
    code_hash: str
    deps: Mapping[str, str] = field(default_factory=dict)
    source_options: SourceOptions | None = None
    metric_options: MetricOptions | None = None

    def knob(self, name: str) -> Knob | None:
        return next((k for k in self.knobs if k.name == name), None)

    @property
    def explicit_knob_values(self) -> dict[str, Any]:
        """The keyword arguments ghostrun passes when calling the operator."""
        return {k.name: k.value for k in self.knobs if not k.implicit}


@dataclass(frozen=True)
class OpSnapshot:
    """What history keeps of one operator of one version: enough to classify and diff
    against a later version without the old code being importable."""

    name: str
    kind: OpKind
    inputs: tuple[str, ...]
    code_hash: str
    knobs: Mapping[str, Any]
    data: Mapping[str, str]
    env_hash: str
    fingerprint: str
    source: str
    file: str
    line: int
    deps: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionSnapshot:
    version_id: str
    ops: Mapping[str, OpSnapshot]
    packages: Mapping[str, str]
    primary: str | None
    goal: Goal

    def op(self, name: str) -> OpSnapshot | None:
        return self.ops.get(name)


@dataclass(frozen=True)
class OpChange:
    """The classification of one operator against the parent version, with details
    (`knobs`: name → (old, new); `files`: paths whose content changed; `reason`)."""

    op: str
    change: Change
    knobs: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    reason: str = ""

    def details(self) -> str:
        """`num_leaves 31 → 63 · data/x.csv · reason`: what changed, for people."""
        parts = []
        if self.knobs:
            parts.append(", ".join(f"{k} {_short(a)} → {_short(b)}"
                                   for k, (a, b) in self.knobs.items()))
        if self.files:
            parts.append(", ".join(self.files))
        if self.reason and self.change is not Change.UPSTREAM:
            parts.append(self.reason)
        return " · ".join(parts)


@dataclass(frozen=True)
class Fidelity:
    """Row fraction, float precision and boosting-budget scale of a run."""

    fraction: float = 1.0
    precision: Literal["float64", "float32"] = "float64"
    budget: float = 1.0
    seed: int = 0  # which deterministic row sample; several seeds measure sampling noise

    @property
    def is_full(self) -> bool:
        return self.fraction >= 1.0 and self.precision == "float64" and self.budget >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "precision": self.precision,
            "budget": self.budget,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fidelity:
        return cls(
            fraction=float(data.get("fraction", 1.0)),
            precision=data.get("precision", "float64"),
            budget=float(data.get("budget", 1.0)),
            seed=int(data.get("seed", 0)),
        )

    def key(self) -> str:
        """A stable text used inside cache keys."""
        if self.fraction >= 1.0:
            return f"f=1;p={self.precision};b={self.budget:.6g}"  # no sample: seed is moot
        return f"f={self.fraction:.6g};p={self.precision};b={self.budget:.6g};s={self.seed}"


FULL = Fidelity()


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
