"""Trials as tasks on an existing `dask.distributed` cluster (DESIGN §9).

Each trial is one task (`remote.run_trial`) carrying the bundle of the base version (code,
settings, data specs), the variant's change JSON and the rung; data files reach the
workers by a shared path or are scattered once (`shipping`). The variant's version is built
and recorded here before the task goes out (a variant that does not apply never leaves),
and what comes back is recorded here (`record`), so the history is the same as after a
local exploration.

Cancellation sets a `distributed.Event` the running tasks look at between operators and
cancels every outstanding future. A worker that dies mid-trial is the scheduler's to
retry (its `allowed-failures`); when it gives up (`KilledWorker`) the trial is recorded
failed. A trial lost otherwise (the scheduler forgot it) is submitted once more, then
recorded failed: no trial is ever silently lost.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from distributed import Client, Event, Future, KilledWorker, wait

from ghostrun.errors import RunCancelled
from ghostrun.suggest.backends import TrialHandle
from ghostrun.suggest.backends.bundle import ProjectBundle, bundle_of
from ghostrun.suggest.backends.errors import ClusterError
from ghostrun.suggest.backends.record import record_failure, record_remote
from ghostrun.suggest.backends.remote import TrialCopies, run_trial, warm, worker_info
from ghostrun.suggest.backends.shipping import SCATTER_LIMIT, DataShipper
from ghostrun.suggest.halving import Rung
from ghostrun.suggest.trials import Measured, Trials
from ghostrun.suggest.variant import Variant
from ghostrun.workflow.version import Version

__all__ = ["CONNECT_TIMEOUT", "ClusterTrial", "DaskBackend"]

CONNECT_TIMEOUT = 15.0  # seconds to reach the scheduler and see a first worker
RESUBMITS = 1  # submissions of a lost trial beyond the first
SLOTS_EVERY = 2.0  # seconds between two counts of the cluster's workers
log = logging.getLogger("ghostrun.cluster")


class ClusterTrial:
    """A submitted trial: its future, and what is needed to record its result here."""

    def __init__(self, backend: DaskBackend, trials: Trials, variant: Variant, rung: Rung,
                 version: Version, bundle: ProjectBundle):  # fmt: skip
        self.backend = backend
        self.trials = trials
        self.variant = variant
        self.rung = rung
        self.version = version
        self.bundle = bundle
        self.submissions = 0
        self.payload: dict[str, Any] | None = None  # what the worker returned, once done
        self.future: Future = backend._send(self)

    def lost(self) -> bool:
        """Finished without a result nor an error of its own (the scheduler lost it)."""
        return self.future.status == "cancelled" and not self.backend.cancelling(self)

    def result(self) -> Measured:
        if self.backend.cancelling(self):
            raise RunCancelled("the exploration was cancelled")
        status = self.future.status
        if status == "finished":
            payload = self.payload = self.future.result()
            if payload.get("kind") == "ClusterError":
                self.backend.shipper.forget(self.bundle)  # ask the workers again next time
            self.backend.check_env(payload)
            return record_remote(self.trials, self.variant, self.rung, self.version, payload)
        return record_failure(self.trials, self.variant, self.rung, self.version,
                              self._why(str(status)))  # fmt: skip

    def _why(self, status: str) -> str:
        if status == "error":
            exc = self.future.exception()
            if isinstance(exc, KilledWorker):
                return (
                    "the cluster worker running this trial died, and so did the ones it was "
                    f"retried on ({exc}); see the workers' logs (memory, a crash in native code)"
                )
            return f"the trial failed on the cluster: {type(exc).__name__}: {exc}"
        return f"the cluster lost this trial ({status}) after {self.submissions} submissions"


class DaskBackend:
    """Responsibilities: talk to one cluster through one client: register the worker
    plugin, submit trials (bounded by the workers there are), wait, cancel, and record."""

    def __init__(self, client: Client, *, share: bool = True, scatter_limit: int = SCATTER_LIMIT,
                 owns_client: bool = False):  # fmt: skip
        """`share=False` sends every data file instead of relying on a shared path."""
        self.client = client
        self.owns_client = owns_client
        self.shipper = DataShipper(client, share=share, limit=scatter_limit)
        self._bundles: dict[str, ProjectBundle] = {}
        self._cancelled: set[Any] = set()  # keys of the futures this back end cancelled
        self._warned = False
        self._slots = (-SLOTS_EVERY, 1)  # (when counted, workers)
        self._new_event()
        _check_workers(client)
        client.register_plugin(TrialCopies(), name=TrialCopies.name)
        client.run(warm, wait=False)

    @classmethod
    def connect(
        cls, address: str, *, timeout: float = CONNECT_TIMEOUT, **options: Any
    ) -> DaskBackend:
        """A back end with its own client of the scheduler at `address`."""
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {address} ({exc}); start it, or fix the "
                "`cluster` setting."
            ) from None
        try:
            return cls(client, owns_client=True, **options)
        except BaseException:
            client.close()
            raise

    # -- the Backend protocol -------------------------------------------------------

    def slots(self) -> int:
        """One trial per worker process (a trial owns its process: see `remote`), asked of
        the scheduler at most every SLOTS_EVERY seconds (workers come and go)."""
        now = time.monotonic()
        if now - self._slots[0] > SLOTS_EVERY:
            self._slots = (now, max(1, len(self.client.nthreads())))
        return self._slots[1]

    def submit(self, trials: Trials, variant: Variant, rung: Rung) -> TrialHandle:
        version = trials.build(variant)  # WorkflowError here when it does not apply
        base = trials.base
        bundle = self._bundles.get(base.version_id)
        if bundle is None:
            bundle = bundle_of(trials.session.project, base, trials.session.history)
            self._bundles = {base.version_id: bundle}
        return ClusterTrial(self, trials, variant, rung, version, bundle)

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> list[TrialHandle]:
        mine = [h for h in handles if isinstance(h, ClusterTrial)]
        if not mine:
            return []
        try:
            with self.client.as_current():  # `wait` asks for the default client otherwise
                done, _ = wait([h.future for h in mine], timeout, "FIRST_COMPLETED")
        except TimeoutError:
            return []
        ready: list[TrialHandle] = []
        for handle in mine:
            if handle.future not in done:
                continue
            if handle.lost() and handle.submissions <= RESUBMITS:
                handle.future = self._send(handle)
                continue
            ready.append(handle)
        return ready

    def cancel(self, handles: Sequence[TrialHandle]) -> None:
        futures = [h.future for h in handles if isinstance(h, ClusterTrial)]
        self._cancelled.update(f.key for f in futures)
        self._event.set()  # running tasks stop between operators
        self._new_event()
        if futures:
            self.client.cancel(futures, force=True)

    def close(self) -> None:
        try:
            self.shipper.release()
        finally:
            if self.owns_client:
                self.client.close()

    # -- helpers --------------------------------------------------------------------

    def cancelling(self, handle: ClusterTrial) -> bool:
        return handle.future.key in self._cancelled

    def check_env(self, payload: dict[str, Any]) -> None:
        if payload.get("env_matches") is False and not self._warned:
            self._warned = True
            log.warning("worker %s runs other versions of Python or pandas/numpy/pyarrow than "
                        "here; its measurements may differ from local ones", payload.get("worker"))

    def _send(self, handle: ClusterTrial) -> Future:
        handle.submissions += 1
        rung = {"fidelity": handle.rung.fidelity.to_json(), "seeds": handle.rung.seeds}
        key = f"ghostrun-trial-{handle.variant.id}-{uuid.uuid4().hex[:12]}"
        shipped = dict(self.shipper.shipped(handle.bundle))
        return self.client.submit(
            run_trial, handle.bundle, shipped, handle.variant.to_json(), rung,
            self._event_name, key=key, pure=False,
        )  # fmt: skip

    def _new_event(self) -> None:
        self._event_name = f"ghostrun-cancel-{uuid.uuid4().hex}"
        self._event = Event(self._event_name, client=self.client)


def _check_workers(client: Client) -> None:
    """A first worker within CONNECT_TIMEOUT, and ghostrun importable on every worker."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(
            f"the Dask scheduler at {client.scheduler.address} has no workers; start some "
            "(`dask worker ADDRESS`) to explore on the cluster."
        ) from None
    try:
        found = client.run(worker_info)
    except Exception as exc:  # noqa: BLE001 - whatever the worker says, the fix is the same
        raise ClusterError(
            f"the cluster's workers cannot run ghostrun ({type(exc).__name__}: {exc}); "
            "`pip install ghostrun` on every worker."
        ) from None
    import ghostrun

    other = {info["ghostrun"] for info in found.values()} - {ghostrun.__version__}
    if other:
        log.warning("the cluster's workers run ghostrun %s, this is %s",
                    ", ".join(sorted(other)), ghostrun.__version__)  # fmt: skip
