"""Recording a trial measured elsewhere in the project's own history, as if run here.

The worker's runs become runs of kind "explore" here (the variant's version built and
saved here, the base's runs saved once per fidelity), then the trial is recorded through
`Trials.record`, so the variants, trials and runs look exactly like a local exploration's
and `rank`/`suggest` need nothing else. Operator timings are kept for the cost models;
cache keys are not (the results live in the worker's cache, not here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ghostrun.history import History, TrialRun
from ghostrun.suggest.halving import Rung
from ghostrun.suggest.trials import BaseFailed, Measured, Trials
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.types import Fidelity
from ghostrun.workflow.version import Version

__all__ = ["record_failure", "record_remote"]


def record_remote(
    trials: Trials, variant: Variant, rung: Rung, version: Version, payload: Mapping[str, Any]
) -> Measured:
    """Record what a worker returned for `variant` (built here as `version`) at `rung`.

    Raises BaseFailed when the base version failed on the worker."""
    if "error" in payload:
        if payload.get("kind") == "BaseFailed":
            raise BaseFailed(str(payload["error"]))
        return record_failure(trials, variant, rung, version, f"on the cluster: {payload['error']}")
    history = trials.session.history
    runs: list[TrialRun] = []
    for seed in payload["runs"]:
        run = seed["run"]
        if run is None:
            continue
        base_run = _base_run(trials, seed["base"])
        run_id = save_run(history, version.version_id, trials.base.version_id, run)
        trials.runs += 1
        runs.append(TrialRun(int(seed["seed"]), run_id, base_run, seed["value"],
                             seed["base_value"]))  # fmt: skip
    if not runs:
        return record_failure(trials, variant, rung, version, "the worker returned no run")
    return trials.record(variant, rung, version, runs, float(payload["seconds"]),
                         str(payload["status"]))  # fmt: skip


def record_failure(
    trials: Trials, variant: Variant, rung: Rung, version: Version, error: str
) -> Measured:
    """A trial that never produced a result (its worker died, the cluster refused it):
    recorded failed, with one failed run saying why, so it is never silently lost."""
    history = trials.session.history
    fidelity = rung.fidelities()[0]
    run_id = history.start_run(
        version.version_id, kind="explore", fidelity=fidelity, parent_id=trials.base.version_id
    )
    history.finish_run(run_id, status="failed", seconds=0.0, error=error)
    runs = [TrialRun(fidelity.seed, run_id, None, None, None)]
    return trials.record(variant, rung, version, runs, 0.0, "failed")


def _base_run(trials: Trials, base: Mapping[str, Any] | None) -> int | None:
    """This history's run of the base at the worker's fidelity: the one already here, else
    the worker's, saved once."""
    if base is None:
        return None
    history = trials.session.history
    fidelity = Fidelity.from_json(base["fidelity"])
    found = history.run_at(trials.base.version_id, fidelity)
    if found is not None or base["status"] != "ok":
        return found.run_id if found is not None else None
    trials.runs += 1
    return save_run(history, trials.base.version_id, trials.invocation.parent_id, base)


def save_run(
    history: History, version_id: str, parent_id: str | None, run: Mapping[str, Any]
) -> int:
    """One worker run (`copies.run_json`) as a finished explore run of `version_id`."""
    fidelity = Fidelity.from_json(run["fidelity"])
    run_id = history.start_run(version_id, kind="explore", fidelity=fidelity, parent_id=parent_id)
    for op, state, seconds, rows, nbytes, change in run["ops"]:
        history.record_op(run_id, op, state=state, seconds=seconds, rows=rows, nbytes=nbytes,
                          key=None, content_hash=None, change=change)  # fmt: skip
    status = run["status"] if run["status"] in ("ok", "failed") else "failed"
    history.finish_run(
        run_id, status=status, seconds=float(run["seconds"]), metrics=run["metrics"] or None,
        primary=run["primary"], error=run["error"],
    )  # fmt: skip
    return run_id
