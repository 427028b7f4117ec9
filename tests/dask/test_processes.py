"""Exploration on a scheduler and two workers started as separate `dask` processes: the
`cluster` setting alone sends trials there; cancelling cancels the futures and stops the
running trials between operators; a worker killed mid-trial loses no trial."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghostrun.engine.session import Session
from ghostrun.project import Project
from ghostrun.suggest.halving import FULL_RUNG
from ghostrun.suggest.search import ExploreReport, explore
from ghostrun.workflow.graph import Workflow

from .conftest import DaskProcesses
from .project import make_project
from .test_cluster import first_moves, knob_moves

distributed = pytest.importorskip("distributed")

WAIT = 120  # generous bound on each wait: CI machines are busy


def until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def trial_tasks(client: Any) -> dict[str, list[str]]:
    """Worker address -> keys of the ghostrun trials it is running."""
    return {
        worker: [k for k in keys if str(k).startswith("ghostrun-trial-")]
        for worker, keys in client.processing().items()
    }


class Background:
    """`explore` in a thread (as in the daemon's explorer), cancelled on demand."""

    def __init__(self, root: Path, generate: Callable[[Workflow], list[Any]], cluster: str):
        self.stop = threading.Event()
        self.report: ExploreReport | None = None
        self.error: BaseException | None = None
        self.results: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._run, args=(root, generate, cluster))
        self.thread.start()

    def _run(self, root: Path, generate: Any, cluster: str) -> None:
        try:
            with Session(Project.open(root, {"cluster": cluster})) as session:
                self.report = explore(session, budget=120, rungs=[FULL_RUNG], generate=generate,
                                      cancelled=self.stop.is_set,
                                      on_result=self.results.append)  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - re-raised by join()
            self.error = exc

    def join(self) -> ExploreReport:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "explore did not return"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def test_the_cluster_setting_explores_on_the_cluster(
    tmp_path: Path, dask_processes: DaskProcesses
) -> None:
    root = make_project(tmp_path / "proj")
    explorer = Background(root, first_moves(3), dask_processes.address)
    report = explorer.join()
    assert report.stopped == "exhausted" and report.trials == len(explorer.results) >= 3
    with distributed.Client(dask_processes.address, set_as_default=False) as client:
        copies = client.run(_copy_key)
    assert any(copies.values())  # the workers made their copies of the project
    with Session(Project.open(root)) as session:
        history = session.history
        for trial in history.trials(base_version=report.version_id):
            for seed in trial.runs:  # run on a worker: timings kept, no cache key here
                run = history.run(seed.run_id)
                assert run is not None and run.ops and all(o.key is None for o in run.ops)


def _copy_key(dask_worker: Any) -> str | None:
    copy = dask_worker.plugins["ghostrun-trials"].copy
    return None if copy is None else copy.key


def test_cancelling_cancels_the_futures_and_stops_running_trials(
    tmp_path: Path, dask_processes: DaskProcesses
) -> None:
    root = make_project(tmp_path / "proj", pause=2.0)
    with distributed.Client(dask_processes.address, set_as_default=False) as client:
        explorer = Background(root, knob_moves, dask_processes.address)
        until(lambda: sum(map(len, trial_tasks(client).values())) >= 2, "two trials running")
        explorer.stop.set()  # a save
        report = explorer.join()
        assert report.stopped == "cancelled"
        until(lambda: not client.run_on_scheduler(_trial_keys), "the trials to be forgotten")
        statuses = until(lambda: _settled(client.run(_copy_runs)), "running trials to stop")
    assert "cancelled" in {s for runs in statuses.values() for s in runs}  # between operators
    with Session(Project.open(root)) as session:  # nothing half-recorded here
        assert all(t.status == "ok" for t in session.history.trials())
        assert len(session.history.trials()) == report.trials == len(explorer.results)


def _trial_keys(dask_scheduler: Any) -> list[str]:
    return [k for k in dask_scheduler.tasks if str(k).startswith("ghostrun-trial-")]


def _copy_runs(dask_worker: Any) -> list[str]:
    copy = dask_worker.plugins["ghostrun-trials"].copy
    return [] if copy is None else [r.status for r in copy.session.history.runs(limit=100)]


def _settled(statuses: dict[str, list[str]]) -> dict[str, list[str]] | None:
    runs = [s for found in statuses.values() for s in found]
    return statuses if runs and "running" not in runs else None


def test_a_worker_killed_mid_trial_loses_no_trial(
    tmp_path: Path, dask_processes: DaskProcesses
) -> None:
    root = make_project(tmp_path / "proj", pause=1.0)
    generate = first_moves(4)
    with distributed.Client(dask_processes.address, set_as_default=False) as client:
        pids = dask_processes.worker_pids(client)
        explorer = Background(root, generate, dask_processes.address)
        running = until(lambda: [(w, k) for w, ks in trial_tasks(client).items() for k in ks],
                        "a trial running")  # fmt: skip
        worker, key = running[0]
        os.kill(pids[worker], signal.SIGKILL)
        report = explorer.join()
    killed = next(p for p in dask_processes.workers if p.pid == pids[worker])
    assert killed.wait(timeout=WAIT) == -signal.SIGKILL
    assert report.stopped == "exhausted"
    with Session(Project.open(root)) as session:
        trials = session.history.trials(base_version=report.version_id)
    recorded = {t.variant_id: t for t in trials}
    with Session(Project.open(root)) as session:
        moves = {v.id for v in knob_moves(session.load().workflow)[:4]}
    assert moves <= set(recorded)  # every single move measured or recorded failed
    assert len(trials) == report.trials == len(explorer.results)
    victim = str(key).split("-")[2]  # ghostrun-trial-<variant id>-<uuid>
    assert recorded[victim].status in ("ok", "failed")
