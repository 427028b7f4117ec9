"""What runs produce, in the shapes the CLI, the daemon and `--json` report.

`Invocation.to_json()` is the `ghostrun run --json` contract (DESIGN §8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ghostrun.engine.executor import OpOutcome
from ghostrun.engine.verdict import Comparison
from ghostrun.workflow.types import Change, Fidelity, OpChange
from ghostrun.workflow.version import Version


@dataclass(frozen=True)
class RunResult:
    """One recorded execution at one fidelity."""

    run_id: int
    fidelity: Fidelity
    metrics: dict[str, float]
    primary: str | None
    seconds: float
    outcomes: dict[str, OpOutcome]


@dataclass(frozen=True)
class StageResult:
    run_id: int
    fidelity: Fidelity
    metrics: dict[str, float]
    elapsed: float
    seconds: float
    comparison: Comparison | None
    outcomes: dict[str, OpOutcome]
    seeds: int = 1
    extrapolated: float | None = None
    # an early report of an approximate stage (its first sample seed); the same stage
    # follows, refined on every seed
    provisional: bool = False

    def to_json(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "fidelity": _fidelity_json(self.fidelity),
            "metrics": self.metrics,
            "elapsed": round(self.elapsed, 4),
            "delta": c.delta if c else None,
            "uncertainty": c.uncertainty if c else None,
            "verdict": c.verdict if c else None,
            "seeds": self.seeds,
            "extrapolated": self.extrapolated,
            "provisional": self.provisional,
            "run_id": self.run_id,
        }


@dataclass(frozen=True)
class Invocation:
    """Everything one `ghostrun run` produced, in the shape of the `--json` contract."""

    version: Version
    parent_id: str | None
    changes: list[OpChange]
    stages: list[StageResult] = field(default_factory=list)
    # Cache keys and fidelities every run of this invocation used: retention spares them.
    used_keys: set[str] = field(default_factory=set)
    fidelities: set[Fidelity] = field(default_factory=set)

    @property
    def last(self) -> StageResult:
        return self.stages[-1]

    def change_of(self, op: str) -> Change:
        return next((c.change for c in self.changes if c.op == op), Change.NEW)

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "run_id": last.run_id,
            "version_id": self.version.version_id,
            "parent_id": self.parent_id,
            "fidelity": _fidelity_json(last.fidelity),
            "metrics": last.metrics,
            "primary": self.version.workflow.primary,
            "goal": self.version.workflow.goal,
            "ops": [
                {
                    "name": o.name,
                    "state": o.state,
                    "seconds": round(o.seconds, 4),
                    "change": self.change_of(o.name).value,
                    "warm_start": o.warm_start,  # None, "exact" or "approximate"
                }
                for o in last.outcomes.values()
            ],
            "seconds": round(last.seconds, 4),
            "stages": [s.to_json() for s in self.stages],
        }


def _fidelity_json(f: Fidelity) -> dict[str, Any]:
    return {"fraction": f.fraction, "precision": f.precision, "budget": f.budget}
