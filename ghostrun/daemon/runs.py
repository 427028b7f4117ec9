"""The user's runs: one at a time on the hot run worker, the newest save first.

Responsibilities: queue run requests (a newer one replaces a pending one, and cancels the
one running); drive the run worker from one thread; contain it (per-run timeout, memory
ceiling, a cancelled run that will not stop) by killing and replacing it; turn what the
worker reports into `run.*` events. Nothing here runs user code: the worker does.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ghostrun.engine.worker import RunWorker, WorkerCrashed, WorkerError

Publish = Callable[[str, dict[str, Any]], None]

# A cancelled run stops at the next operator boundary; one stuck inside a long operator
# is killed after this long (the hot cache is lost, but the newer save runs at once).
CANCEL_GRACE = 2.0
_CHECK_EVERY = 0.25

_KILLED = {
    "timeout": "the run took longer than run_timeout ({limit:.0f} s) and was stopped",
    "memory": "the run used more than worker_memory ({limit}) and was stopped",
    "cancelled": "the run was cancelled by a newer save",
    "shutdown": "the daemon is shutting down",
}


@dataclass
class RunRequest:
    invocation: int
    mode: str
    reason: str
    paths: tuple[str, ...] = ()
    requested: float = field(default_factory=time.time)
    started: float | None = None  # monotonic, once the worker has it

    def describe(self) -> dict[str, Any]:
        return {
            "invocation": self.invocation,
            "mode": self.mode,
            "reason": self.reason,
            "paths": list(self.paths),
            "requested": self.requested,
        }


class RunSupervisor:
    """Runs requests on the run worker; see the module docstring."""

    def __init__(
        self,
        worker: RunWorker,
        publish: Publish,
        *,
        run_timeout: float,
        memory_limit: int,
        log: logging.Logger,
        on_watch: Callable[[Iterable[str]], None] = lambda paths: None,
    ):
        self.worker = worker
        self.publish = publish
        self.run_timeout = run_timeout
        self.memory_limit = memory_limit
        self.log = log
        self.on_watch = on_watch
        self.last: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._pending: RunRequest | None = None
        self._current: RunRequest | None = None
        self._maintenance: list[Callable[[RunWorker], None]] = []
        self._kill_reason: str | None = None
        self._cancel_deadline: float | None = None
        self._stopping = False
        self._restart = False
        self._watch: set[str] = set()
        self._threads = [
            threading.Thread(target=self._loop, name="ghostrun-runs", daemon=True),
            threading.Thread(target=self._guard, name="ghostrun-run-guard", daemon=True),
        ]

    # -- the daemon's side ---------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, mode: str = "ladder", reason: str = "save", paths: Iterable[str] = ()) -> int:
        """Queue a run of whatever is on disk now; returns its invocation id.

        A save supersedes a pending request and cancels the running one (it is for an older
        version); an explicit request waits for the running one to finish.
        """
        with self._cond:
            request = RunRequest(next(self._ids), mode, reason, tuple(sorted(paths)))
            superseded, self._pending = self._pending, request
            if superseded is not None:
                self._publish_failed(
                    superseded,
                    {"code": "superseded", "message": "replaced by a newer request"},
                    superseded_by=request.invocation,
                )
            if reason == "save" and self._current is not None:
                self._cancel_current()
            self._cond.notify_all()
        return request.invocation

    def restart_worker(self) -> None:
        """Start a fresh worker before the next run (the project's settings changed)."""
        with self._cond:
            self._restart = True

    def run_maintenance(self, task: Callable[[RunWorker], None]) -> None:
        """Run `task(worker)` in the run thread when no user run is waiting (clean-up)."""
        with self._cond:
            self._maintenance.append(task)
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._current is not None or self._pending is not None

    def status(self) -> dict[str, Any]:
        with self._cond:
            current, pending = self._current, self._pending
        return {
            "current": current.describe() if current else None,
            "pending": pending.describe() if pending else None,
            "last": self.last,
            "worker": {"pid": self.worker.pid, "rss": self.worker.rss()},
        }

    def stop(self) -> None:
        """Cancel what runs, stop the worker, end the threads."""
        with self._cond:
            self._stopping = True
            self._pending = None
            if self._current is not None:
                self._kill_reason = "shutdown"
                self.worker.interrupt()
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=10)
        self.worker.stop()

    # -- the run thread ------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._pending is None and not self._maintenance:
                    self._cond.wait()
                if self._stopping:
                    return
                if self._pending is None:
                    task = self._maintenance.pop(0)
                    request = None
                else:
                    request, self._pending = self._pending, None
                    request.started = time.monotonic()
                    self._current, self._kill_reason, self._cancel_deadline = request, None, None
                    self._cond.notify_all()  # wakes the guard
            if request is None:
                self._maintain(task)
                continue
            if self._restart:
                self._restart = False
                self.worker.stop()
            try:
                self._run(request)
            except Exception:  # noqa: BLE001 - the run thread must outlive any bug
                self.log.exception("run %d: unexpected error in the daemon", request.invocation)
            finally:
                with self._cond:
                    self._current = None

    def _maintain(self, task: Callable[[RunWorker], None]) -> None:
        try:
            task(self.worker)
        except (WorkerError, WorkerCrashed) as exc:
            self.log.warning("maintenance task failed: %s", exc)
        except Exception:  # noqa: BLE001 - the run thread must outlive any bug
            self.log.exception("maintenance task failed")

    def _run(self, request: RunRequest) -> None:
        def on_event(event: dict[str, Any]) -> None:
            topic = event.pop("topic")
            if topic == "run.started":
                event["latency"] = round(time.time() - request.requested, 4)
            self.publish(topic, {**event, **_tags(request)})

        self.log.info("run %d: %s", request.invocation, _why(request))
        try:
            result = self.worker.run(mode=request.mode, on_event=on_event)
        except WorkerError as exc:
            self._watch_update(exc.payload.get("watch", ()), keep_old=True)
            self._publish_failed(request, exc.payload)
            return
        except WorkerCrashed as exc:
            reason = self._kill_reason or "crashed"
            message = _KILLED.get(reason, str(exc)).format(
                limit=self.run_timeout if reason == "timeout" else _size(self.memory_limit)
            )
            self._publish_failed(request, {"code": reason, "message": message})
            self._respawn()
            return
        self._watch_update(result.pop("watch", ()), keep_old=False)
        last_stage = result["stages"][-1] if result.get("stages") else {}
        self.last = {"status": "ok", "invocation": request.invocation, **_summary(result)}
        self.publish(
            "run.finished",
            {
                **last_stage,
                "run_id": result.get("run_id"),
                "version_id": result.get("version_id"),
                "parent_id": result.get("parent_id"),
                "primary": result.get("primary"),
                "result": result,
                **_tags(request),
            },
        )

    def _respawn(self) -> None:
        """Start the replacement worker now, so the next save does not wait for it."""
        if self._stopping:
            return
        try:
            self.worker.start()
        except OSError as exc:
            self.log.warning("could not start a new run worker yet: %s", exc)

    def _publish_failed(
        self, request: RunRequest, error: dict[str, Any], **extra: Any
    ) -> None:
        code = error.get("code", "internal")
        shown = {k: error[k] for k in ("code", "message", "op", "location", "traceback")
                 if error.get(k) is not None}
        if code not in ("cancelled", "superseded"):
            self.last = {"status": "failed", "invocation": request.invocation, "error": shown}
            self.log.warning("run %d failed (%s): %s", request.invocation, code,
                             error.get("message"))
        self.publish(
            "run.failed",
            {
                "run_id": error.get("run_id"),
                "version_id": error.get("version_id"),
                "error": shown,
                **_tags(request),
                **extra,
            },
        )

    def _watch_update(self, paths: Iterable[str], *, keep_old: bool) -> None:
        fresh = set(paths)
        self._watch = self._watch | fresh if keep_old else fresh
        self.on_watch(sorted(self._watch))

    # -- the guard thread ----------------------------------------------------------------

    def _cancel_current(self) -> None:
        """Caller holds the condition."""
        self.worker.cancel()
        if self._cancel_deadline is None:
            self._cancel_deadline = time.monotonic() + CANCEL_GRACE
        self._cond.notify_all()

    def _guard(self) -> None:
        """Kills a run that outlives its timeout, its memory ceiling or its cancellation."""
        while True:
            with self._cond:
                while not self._stopping and self._current is None:
                    self._cond.wait()
                if self._stopping:
                    return
                self._cond.wait(timeout=_CHECK_EVERY)
                current = self._current
                if current is None or current.started is None or self._kill_reason:
                    continue
                reason = self._breach(current)
                if reason:
                    self._kill_reason = reason
            if reason:
                self.log.warning("run %d: stopping the worker (%s)", current.invocation, reason)
                self.worker.interrupt()

    def _breach(self, current: RunRequest) -> str | None:
        now = time.monotonic()
        if self._cancel_deadline is not None and now > self._cancel_deadline:
            return "cancelled"
        if current.started is not None and now - current.started > self.run_timeout:
            return "timeout"
        rss = self.worker.rss()
        if rss is not None and rss > self.memory_limit:
            return "memory"
        return None


def _tags(request: RunRequest) -> dict[str, Any]:
    return {"invocation": request.invocation, "reason": request.reason, "time": time.time()}


def _why(request: RunRequest) -> str:
    if request.reason == "save" and request.paths:
        names = ", ".join(p.rsplit("/", 1)[-1] for p in request.paths[:3])
        return f"saved {names}"
    return request.reason


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": result.get("run_id"),
        "version_id": result.get("version_id"),
        "metrics": result.get("metrics"),
        "primary": result.get("primary"),
        "seconds": result.get("seconds"),
    }


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"
