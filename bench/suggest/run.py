"""One workflow through the bench: a user run, exploration, the suggestions checked on
held-out rows, then Optuna's TPE for the same wall clock, checked the same way."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from bench.suggest.plain import evaluate, gain
from bench.suggest.tpe import tune
from bench.suggest.workflows import BenchWorkflow, write_project
from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.suggest.rank import Suggestion, suggestions
from ghostrun.suggest.search import explore
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.ondemand import real_workflow
from ghostrun.workflow.overlay import with_knobs


def run_workflow(
    spec: BenchWorkflow, workdir: Path, budget: float, seed: int, log: Any = print
) -> dict[str, Any]:
    root = workdir / spec.name
    if root.exists():
        shutil.rmtree(root)
    write_project(spec, root)
    with Session(Project.open(root)) as session:
        version = session.load()
        invocation = session.prepare(version)
        base_run = session.run_stage(invocation)  # the user's own run, before exploring
        log(f"  {spec.name}: base run {base_run.seconds:.2f} s; exploring for {budget:g} s")
        started = time.monotonic()
        report = explore(session, budget=budget, seed=seed)
        explore_seconds = time.monotonic() - started
        ranked = suggestions(session.history, report.version_id, n=20)
    workflow = real_workflow(version.workflow)
    goal = workflow.goal
    base = _scores(workflow)
    log(f"  {spec.name}: {report.trials} trials, {len(ranked)} suggestions; TPE for {budget:g} s")
    top = ranked[0] if ranked else None
    confirmed = next((s for s in ranked if s.confirmed_full), None)
    tpe = tune(workflow, budget, seed)
    tpe_scores = _scores(with_knobs(workflow, tpe.best_params) if tpe.best_params else workflow)
    return {
        "name": spec.name,
        "description": spec.description,
        "metric": workflow.primary,
        "goal": goal,
        "base": {**base, "ghostrun_valid": base_run.metrics.get(workflow.primary or "")},
        "explore": {**report.to_json(), "wall_seconds": explore_seconds},
        "top": _suggestion(top, workflow, base, goal),
        "confirmed": _suggestion(confirmed, workflow, base, goal),
        "tpe": {
            "trials": tpe.trials,
            "seconds": tpe.seconds,
            "dimensions": tpe.dimensions,
            "params": tpe.best_params,
            "best_valid": tpe.best_value,
            **tpe_scores,
            "valid_gain": gain(tpe_scores["valid"], base["valid"], goal),
            "holdout_gain": gain(tpe_scores["holdout"], base["holdout"], goal),
        },
    }


def _scores(workflow: Workflow) -> dict[str, float]:
    return {"valid": evaluate(workflow), "holdout": evaluate(workflow, holdout=True)}


def _suggestion(
    s: Suggestion | None, workflow: Workflow, base: dict[str, float], goal: str
) -> dict[str, Any] | None:
    if s is None:
        return None
    try:
        scores = _scores(s.variant.apply_to(workflow))
    except Exception as exc:  # noqa: BLE001 - reported, not fatal to the bench
        return {"id": s.id, "description": s.description, "error": repr(exc)}
    return {
        "id": s.id,
        "rank": s.rank,
        "description": s.description,
        "expected_delta": s.expected_delta,
        "uncertainty": s.uncertainty,
        "confirmed_full": s.confirmed_full,
        "fidelities": s.fidelities,
        "why": s.why,
        **scores,
        "valid_gain": gain(scores["valid"], base["valid"], goal),
        "holdout_gain": gain(scores["holdout"], base["holdout"], goal),
    }


def improved(entry: dict[str, Any] | None) -> bool:
    if not entry or "holdout_gain" not in entry:
        return False
    value = entry["holdout_gain"]
    return not math.isnan(value) and value > 0
