"""The immutable records that `History` returns; plain data, no database handles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ghostrun.workflow.types import FULL, Fidelity

RUN_KINDS = ("user", "explore", "manual")
RUN_STATUSES = ("running", "ok", "failed", "cancelled", "interrupted")
FINAL_STATUSES = RUN_STATUSES[1:]
OP_STATES = ("computed", "loaded", "pruned")


@dataclass(frozen=True)
class OpExecution:
    """One operator's execution inside one run; the raw material of the cost models.

    `fidelity` is the fidelity of the run it belongs to, so that a cost model can scale
    seconds and bytes measured on a sample.
    """

    op: str
    state: str
    seconds: float
    rows: int | None
    nbytes: int | None
    key: str | None
    content_hash: str | None
    change: str | None
    run_id: int
    fidelity: Fidelity = FULL


@dataclass(frozen=True)
class RunRecord:
    """One run of one workflow version at one fidelity, with what it measured.

    `finished` and `seconds` are None while the run is running and for runs found
    interrupted. A metric stored as NaN comes back as NaN.
    """

    run_id: int
    version_id: str
    parent_id: str | None
    kind: str
    fidelity: Fidelity
    status: str
    started: float
    finished: float | None
    seconds: float | None
    error: str | None
    metrics: Mapping[str, float] = field(default_factory=dict)
    uncertainty: Mapping[str, float] = field(default_factory=dict)
    primary: str | None = None
    ops: tuple[OpExecution, ...] = ()

    @property
    def primary_value(self) -> float | None:
        """The value of the primary metric, if the run recorded one."""
        return None if self.primary is None else self.metrics.get(self.primary)

    def to_json(self) -> dict[str, Any]:
        """One entry of `ghostrun history --json` (and the daemon's `history` reply)."""
        return {
            "run_id": self.run_id,
            "version_id": self.version_id,
            "parent_id": self.parent_id,
            "kind": self.kind,
            "fidelity": self.fidelity.to_json(),
            "status": self.status,
            "started": self.started,
            "seconds": self.seconds,
            "metrics": dict(self.metrics),
            "primary": self.primary,
            "error": self.error,
        }


TRIAL_STATUSES = ("ok", "failed")


@dataclass(frozen=True)
class VariantRecord:
    """A variant of one base version, as exploration measured it (DESIGN §7).

    `change` is the variant's JSON form (`Variant.to_json()`), enough to rebuild it on the
    base or, when it still applies, on a later version. `base_fingerprints` are the base's
    fingerprints of the operators it modifies: `apply` refuses once they moved on.
    `version_id` is the overlaid version (None when it could not be built).
    """

    variant_id: str
    base_version: str
    kind: str
    change: Mapping[str, Any]
    description: str
    location: str
    ops: tuple[str, ...]
    base_fingerprints: Mapping[str, str]
    version_id: str | None = None
    created: float = 0.0


@dataclass(frozen=True)
class TrialRun:
    """One sample seed of a trial: the variant's run and the base's run on the same rows."""

    seed: int
    run_id: int
    base_run_id: int | None
    value: float | None
    base_value: float | None


@dataclass(frozen=True)
class TrialRecord:
    """A variant measured against its base at one fidelity (every seed of it).

    `delta` is the mean paired difference variant − base of the primary metric (None when
    no pair could be formed, e.g. a failed run), `uncertainty` its standard error over
    seeds (None with one seed). `seconds` is the variant's run time summed over seeds.
    """

    trial_id: int
    variant_id: str
    base_version: str
    fidelity: Fidelity
    metric: str | None
    goal: str
    status: str
    delta: float | None
    uncertainty: float | None
    value: float | None
    base_value: float | None
    seconds: float
    created: float
    runs: tuple[TrialRun, ...] = ()

    @property
    def gain(self) -> float | None:
        """The delta in the goal's direction: positive is an improvement."""
        if self.delta is None:
            return None
        return self.delta if self.goal == "max" else -self.delta
