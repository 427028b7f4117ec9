"""The daemon: one process per project that watches, runs, publishes and notifies.

Responsibilities: own the project's lock and state files; wire the specialists together
(watcher → run supervisor → event sink → IPC and notifications; the idle scheduler for
quiet-time work); answer requests on the IPC loop, which is the main thread; shut down
cleanly on `stop`, SIGTERM or Ctrl-C. It never imports user code or the data libraries:
that all happens in worker processes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ghostrun import __version__
from ghostrun.daemon import handlers
from ghostrun.daemon.events import EventSink
from ghostrun.daemon.explore import ExploreSupervisor, explorer_worker
from ghostrun.daemon.lock import PidLock
from ghostrun.daemon.runs import RunSupervisor
from ghostrun.daemon.scheduler import IdleScheduler
from ghostrun.engine.worker import RunWorker
from ghostrun.history import History
from ghostrun.ipc import (
    ControlServer,
    DaemonInfo,
    Request,
    endpoints_for,
    remove_daemon_info,
    write_daemon_info,
)
from ghostrun.notify import Notifier
from ghostrun.project import Project
from ghostrun.watcher import ProjectWatcher

log = logging.getLogger("ghostrun.daemon")
IDLE_RETRY = 5.0


class Daemon:
    """See the module docstring. `run()` blocks until the daemon is asked to stop."""

    def __init__(self, project: Project, overrides: dict[str, Any] | None = None):
        self.project = project
        self.overrides = dict(overrides or {})
        self.started = time.time()
        self._stop = threading.Event()
        self._paused = False
        self._missed: set[str] = set()  # saves seen while paused
        self._history: History | None = None
        self._lock = PidLock(project.pid_path)
        self.state = "starting"

    # -- lifecycle -----------------------------------------------------------------------

    def run(self) -> None:
        project, settings = self.project, self.project.settings
        project.ensure_state_dir()
        self._lock.acquire()
        try:
            self._install_signal_handlers()
            endpoints = endpoints_for(project.state_dir)
            self.server = ControlServer(endpoints, self._handle, log=log)
            self.server.start()
            self.sink = EventSink(self.server.publish, Notifier.create(settings.notify, log=log),
                                  log)
            self.watcher = ProjectWatcher(project.root, self._on_save)
            self.runs = RunSupervisor(
                RunWorker(project.root, self.overrides, memory_limit=settings.worker_memory),
                self.sink.publish,
                run_timeout=settings.run_timeout,
                memory_limit=settings.worker_memory,
                log=log,
                on_watch=self._watch,
            )
            self.explorer = ExploreSupervisor(
                explorer_worker(project.root, self.overrides, settings.worker_memory),
                self.sink.publish,
                self.sink.notifier,
                threshold=settings.improvement_threshold,
                notify_interval=settings.notify_interval,
                log=log,
            )
            self.scheduler = IdleScheduler(settings.idle_after, log)
            self.scheduler.on_idle(self._on_idle)
            self.scheduler.every_interval(self._clean_cache)
            self._serve(endpoints)
        finally:
            self._lock.release()

    def _serve(self, endpoints: Any) -> None:
        self.watcher.watch(self._always_watched())
        self.watcher.start()
        self.runs.start()
        self.scheduler.start()
        info = DaemonInfo(os.getpid(), __version__, endpoints.control, endpoints.events)
        write_daemon_info(self.project.state_dir, info)
        log.info("ghostrun %s watching %s (pid %d, notifications: %s)", __version__,
                 self.project.root, os.getpid(), self.sink.notifier.backend)
        try:
            self.set_state("ready")
            self.runs.submit(mode="ladder", reason="start")
            self.server.serve(self._stop)
        finally:
            self.set_state("stopping")
            self._shutdown()

    def _shutdown(self) -> None:
        for step in (self.scheduler.stop, self.watcher.stop, self.explorer.stop, self.runs.stop,
                     self.sink.notifier.close, self.server.close):
            try:
                step()
            except Exception:  # noqa: BLE001 - finish shutting down whatever failed
                log.exception("error while stopping (%s)", getattr(step, "__qualname__", step))
        if self._history is not None:
            self._history.close()
        remove_daemon_info(self.project.state_dir, os.getpid())
        log.info("stopped")

    def request_stop(self) -> None:
        self._stop.set()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: self._stop.set())

    # -- events from the watcher and the scheduler ---------------------------------------

    def _on_save(self, paths: Iterable[Path]) -> None:
        changed = {str(p) for p in paths}
        self.scheduler.touch()
        config = self.project.config_path
        if config is not None and str(config.resolve()) in changed:
            log.info("%s changed: the next run uses a fresh worker with its settings", config.name)
            self.runs.restart_worker()
        if self._paused:
            self._missed |= changed
            return
        self.runs.submit(mode="ladder", reason="save", paths=changed)
        self.explorer.preempt()

    def _watch(self, paths: Iterable[str]) -> None:
        self.watcher.watch([Path(p) for p in paths] + self._always_watched())

    def _always_watched(self) -> list[Path]:
        config = self.project.config_path
        return [self.project.workflow_path] + ([config] if config is not None else [])

    def _on_idle(self) -> None:
        if self.runs.busy:  # the user's run is still going: look again shortly
            self.scheduler.touch(delay=IDLE_RETRY)
            return
        self.set_state("idle")
        self._clean_cache()
        if not self._paused:
            self.explore(self.project.settings.explore_budget, reason="idle")

    def explore(self, budget: float, reason: str) -> bool:
        started = self.explorer.start(budget, reason)
        if started:
            self.publish_state()
        return started

    def _clean_cache(self) -> None:
        if not self.runs.busy:
            self.runs.run_maintenance(lambda worker: log.info("cache: %s", worker.clean_cache()))

    # -- state and requests --------------------------------------------------------------

    def pause(self) -> None:
        self._paused = True
        self.explorer.preempt()
        self.set_state("paused")

    def resume(self) -> None:
        self._paused = False
        missed, self._missed = self._missed, set()
        self.set_state("ready")
        if missed:
            self.runs.submit(mode="ladder", reason="save", paths=missed)

    def set_state(self, state: str) -> None:
        self.state = state
        self.publish_state()

    def publish_state(self, announce: str | None = None) -> None:
        payload: dict[str, Any] = {"state": self.current_state(), "version_id": self._version()}
        if announce is not None:
            payload["announce"] = announce
        self.sink.publish("daemon.state", payload)

    def current_state(self) -> str:
        if self.state in ("starting", "stopping") or self._paused:
            return "paused" if self._paused else self.state
        if self.runs.busy:
            return "running"
        if self.explorer.running:
            return "exploring"
        return "idle" if self.scheduler.idle else "ready"

    def status(self) -> dict[str, Any]:
        runs = self.runs.status()
        watched = self.watcher.watched
        return {
            "state": self.current_state(),
            "pid": os.getpid(),
            "version": __version__,
            "project": str(self.project.root),
            "uptime": round(time.time() - self.started, 3),
            "paused": self._paused,
            "version_id": self._version(),
            "run": runs["current"],
            "pending": runs["pending"],
            "last": runs["last"],
            "worker": runs["worker"],
            "notify": self.sink.notifier.backend,
            "exploring": self.explorer.running,
            "suggestions": len(self.explorer.suggestions or []),
            "watching": sorted(str(p) for p in watched.files | watched.trees),
        }

    def history(self) -> History:
        """The IPC thread's own connection (SQLite connections stay in their thread)."""
        if self._history is None:
            self._history = History(self.project.history_path)
        return self._history

    def _version(self) -> str | None:
        last = self.runs.last
        return last.get("version_id") if last else None

    def _handle(self, request: Request) -> Any:
        return handlers.handle(self, request)
