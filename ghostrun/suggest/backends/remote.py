"""What runs on a Dask worker: the trial task and the plugin holding the project copy.

Workers need nothing but `pip install ghostrun` (which brings this module): the client
sends a bundle (code, settings, data specs), the bytes of data files the worker cannot see,
and the variant's change JSON; the task rebuilds the project once per bundle in a private
directory (`copies`) and measures the variant paired with the base there.

One trial at a time per worker process: a run changes the working directory, `sys.path`
and `sys.modules`, which are process-wide. The task never raises for a failure the client
should record (it returns `{"error", "kind"}`); only cancellation raises.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from distributed import Event, WorkerPlugin, get_worker

import ghostrun
from ghostrun.errors import RunCancelled
from ghostrun.suggest.backends.bundle import DataFile, ProjectBundle, sees
from ghostrun.suggest.backends.copies import ProjectCopy, remove_orphans
from ghostrun.suggest.halving import Rung
from ghostrun.workflow.types import Fidelity

__all__ = ["PLUGIN", "TrialCopies", "probe", "run_trial", "warm", "worker_info"]

PLUGIN = "ghostrun-trials"
POLL = 0.2  # seconds between two looks at the cancellation event
CLOSE_GRACE = 5.0  # seconds a closing worker waits for its running trial to stop


class TrialCopies(WorkerPlugin):
    """Responsibilities: keep this worker's copy of the project being explored (one at a
    time: a new bundle replaces it) and the lock that runs one trial at a time; remove
    the copy when the worker closes."""

    idempotent = True  # a second client's registration keeps the copy warm
    name = PLUGIN

    def __init__(self) -> None:
        self.copy: ProjectCopy | None = None
        self.lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {}  # sent from the client: nothing of its state travels

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.copy = None
        self.lock = threading.Lock()

    def setup(self, worker: Any) -> None:
        self.copy = None
        remove_orphans()  # copies of workers killed on this machine before

    def teardown(self, worker: Any) -> None:
        # A cancelled trial still running stops at its next operator: let it, then clean up.
        got = self.lock.acquire(timeout=CLOSE_GRACE)
        try:
            self.drop()
        finally:
            if got:
                self.lock.release()

    def open(self, bundle: ProjectBundle, shipped: Mapping[str, bytes]) -> ProjectCopy:
        """The copy of `bundle`, made now unless this worker has it already."""
        if self.copy is not None and self.copy.key == bundle.key:
            return self.copy
        self.drop()
        self.copy = ProjectCopy(bundle, shipped)
        return self.copy

    def drop(self) -> None:
        copy, self.copy = self.copy, None
        if copy is not None:
            copy.close()


def run_trial(
    bundle: ProjectBundle, shipped: Mapping[str, bytes], change: Mapping[str, Any],
    rung: Mapping[str, Any], cancel: str,
) -> dict[str, Any]:  # fmt: skip
    """Measure one variant at one rung on this worker (see the module docstring). `rung`
    is `{"fidelity": ..., "seeds": n}`; `cancel` names the client's cancellation event."""
    started = time.perf_counter()
    worker = get_worker()
    copies = worker.plugins.get(PLUGIN)
    if not isinstance(copies, TrialCopies):
        return {"error": "the ghostrun worker plugin is not registered", "kind": "ClusterError"}
    cancelled = _poller(cancel)
    with copies.lock:
        if cancelled():
            raise RunCancelled("the exploration was cancelled before this trial started")
        try:
            waited = time.perf_counter()
            copy = copies.open(bundle, shipped)
            setup = time.perf_counter() - waited
            step = Rung(Fidelity.from_json(rung["fidelity"]), int(rung["seeds"]))
            payload = copy.measure(change, step, cancelled)
        except RunCancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded by the client as a failed trial
            copies.drop()  # a half-made or broken copy is not reused
            return {"error": str(exc) or repr(exc), "kind": type(exc).__name__}
    timing = {"setup_seconds": setup, "task_seconds": time.perf_counter() - started}
    return {**payload, **timing, "worker": worker.address, "pid": os.getpid()}


def _poller(name: str) -> Callable[[], bool]:
    """`cancelled()` for runs on this worker: the client's event, looked at every POLL s."""
    event = Event(name)
    state = {"at": 0.0, "set": False}

    def cancelled() -> bool:
        now = time.monotonic()
        if not state["set"] and now - state["at"] >= POLL:
            state["at"] = now
            state["set"] = bool(event.is_set())
        return bool(state["set"])

    return cancelled


def probe(specs: Sequence[DataFile]) -> list[str]:
    """Run on every worker: the data files it sees at their own path."""
    return [spec.path for spec in specs if sees(spec)]


async def warm() -> None:
    """Run on every worker when a client connects, without waiting for it (`Client.run`
    takes only coroutines for that): what a first trial would import and measure anyway,
    done while the client prepares its search."""
    import ghostrun.suggest.variant  # noqa: F401 - brings libcst, for the overlays
    from ghostrun.workflow.version import environment_hash

    environment_hash()


def worker_info() -> dict[str, Any]:
    """Run on every worker when connecting: proves ghostrun imports there."""
    return {"ghostrun": ghostrun.__version__, "pid": os.getpid()}
