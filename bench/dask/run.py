"""The two measurements of the cluster bench, each on a fresh copy of the project.

- `exploration`: the user runs the version once, then `explore` for the budget; every
  finished trial is timed, and after each confirmation on full data the ranking is asked
  whether its top suggestion is confirmed yet.
- `overhead`: the same variants measured one at a time (nothing else in flight, the worker
  warm after a first trial): wall time per trial against the seconds its runs took where
  they ran. What is left is the price of a trial beyond its own work.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.dask.project import make_project
from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.suggest.backends import Backend
from ghostrun.suggest.generate import neighbours
from ghostrun.suggest.halving import FULL_RUNG
from ghostrun.suggest.rank import suggestions
from ghostrun.suggest.search import explore
from ghostrun.suggest.trials import Measured, Trials
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.ondemand import real_workflow


def knob_moves(workflow: Workflow) -> list[Variant]:
    """Knob moves only: trials of like cost on both sides (an estimator swap to a random
    forest costs many knob moves, so which ones a side happened to try would decide)."""
    return [v for v in neighbours(workflow) if v.kind == "knob"]


def exploration(
    root: Path, rows: int, budget: float, seed: int, backend: Backend, all_moves: bool
) -> dict[str, Any]:
    _fresh(root, rows)
    with Session(Project.open(root)) as session:
        version = session.load()
        user = session.run_stage(session.prepare(version))  # the user's own run comes first
        events: list[tuple[float, dict[str, Any]]] = []
        confirmed: list[float] = []
        started = time.monotonic()

        def on_result(event: dict[str, Any]) -> None:
            now = time.monotonic() - started
            events.append((now, event))
            if confirmed or event["status"] != "ok" or event["fidelity"]["fraction"] < 1:
                return
            top = suggestions(session.history, event["version_id"], n=1)
            if top and top[0].confirmed_full and top[0].expected_delta > 0:
                confirmed.append(now)

        generate = None if all_moves else knob_moves
        report = explore(session, budget=budget, seed=seed, on_result=on_result, backend=backend,
                         generate=generate)  # fmt: skip
        wall = time.monotonic() - started
        ranked = suggestions(session.history, report.version_id, n=3)
    return {
        "user_run_seconds": user.seconds,
        "report": report.to_json(),
        "wall_seconds": wall,
        "trials": report.trials,
        "trials_per_minute": 60 * report.trials / wall if wall else 0.0,
        "first_result_seconds": events[0][0] if events else None,
        "first_confirmed_seconds": confirmed[0] if confirmed else None,
        "top": [{"description": s.description, "expected_delta": s.expected_delta,
                 "confirmed_full": s.confirmed_full} for s in ranked],  # fmt: skip
    }


def overhead(root: Path, rows: int, count: int, backend: Backend) -> dict[str, Any]:
    """Per-trial wall time beyond the trial's own runs, one trial in flight at a time,
    after a first round that warms every slot (one trial per worker)."""
    _fresh(root, rows)
    with Session(Project.open(root)) as session:
        version = session.load()
        workflow = real_workflow(version.workflow)
        trials = Trials(session, session.prepare(version), workflow, workflow.primary or "",
                        lambda: False)  # fmt: skip
        variants = knob_moves(workflow)
        slots = backend.slots()
        warmup, timed = variants[:slots], variants[slots : slots + count]
        t0 = time.monotonic()
        first = _measure(backend, trials, warmup)
        cold = time.monotonic() - t0
        rows_out: list[dict[str, Any]] = []
        for variant in timed:
            t0 = time.monotonic()
            ((measured, payload),) = _measure(backend, trials, [variant])
            wall = time.monotonic() - t0
            task = payload["task_seconds"] if payload else wall
            rows_out.append({"variant": variant.describe(), "wall": wall, "task": task,
                             "runs": measured.seconds})  # fmt: skip
    setups = [p["setup_seconds"] for _, p in first if p]
    return {
        "slots": slots,
        "cold_round_wall": cold,
        "cold_setup": statistics.median(setups) if setups else None,
        "trials": rows_out,
        **{f"warm_{k}": _median(rows_out, k) for k in ("wall", "task", "runs")},
        "warm_overhead": _median([{"x": r["wall"] - r["runs"]} for r in rows_out], "x"),
        "warm_transport": _median([{"x": r["wall"] - r["task"]} for r in rows_out], "x"),
    }


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    return statistics.median(r[key] for r in rows) if rows else None


def _measure(
    backend: Backend, trials: Trials, variants: list[Any]
) -> list[tuple[Measured, dict[str, Any] | None]]:
    """Submit all, wait for all: each result with the worker's payload (cluster only)."""
    pending = [backend.submit(trials, v, FULL_RUNG) for v in variants]
    done = []
    while pending:
        for handle in backend.wait(pending, timeout=0.05):
            pending.remove(handle)
            measured = handle.result()
            done.append((measured, getattr(handle, "payload", None)))
    return done


def _fresh(root: Path, rows: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    make_project(root, rows)
