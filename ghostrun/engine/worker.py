"""The run worker: a long-lived process that runs the user's workflow, keeping hot results.

User code never runs in the caller's process (the daemon, a benchmark): the worker
imports the workflow fresh for every request (so edits are seen) but keeps recent
intermediates in memory across requests, bounded by `memory_budget`. The caller talks to
it over a pipe: a request, then zero or more event messages (`run.started`, `run.stage`),
then one result or error. A worker that dies mid-run is reported as a `WorkerCrashed` and
restarted on next use.

Containment: an optional address-space limit turns runaway allocation in user code into a
MemoryError (reported like any failure of user code); an optional nice increment keeps
explorer workers behind the user's own runs; `cancel()` stops a run between operators.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ghostrun.errors import GhostrunError

Message = dict[str, Any]
EventCallback = Callable[[Message], None]
_STOP_GRACE = 5.0


class WorkerError(GhostrunError):
    """A request failed in the worker; carries the worker's error payload."""

    def __init__(self, payload: Mapping[str, Any]):
        self.payload = dict(payload)
        self.exit_code = int(payload.get("exit_code", 1))
        super().__init__(str(payload.get("message", "the run worker failed")))


class WorkerCrashed(GhostrunError):
    """The worker process died (user code crashed it, or it was killed)."""

    exit_code = 1


class RunWorker:
    """Parent side of the run worker: start, send run requests, cancel, stop.

    `request` blocks its calling thread; `cancel` and `interrupt` may be called from any
    other thread while it does.
    """

    def __init__(
        self,
        project_root: Path,
        overrides: Mapping[str, Any] | None = None,
        *,
        memory_limit: int | None = None,
        nice: int = 0,
    ):
        self.project_root = Path(project_root)
        self.overrides = dict(overrides or {})
        self.memory_limit = memory_limit
        self.nice = nice
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel: Any = None

    def __enter__(self) -> RunWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        if self.alive:
            return
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._cancel = ctx.Event()
        limits = {"memory": self.memory_limit, "nice": self.nice, "parent": os.getpid()}
        self._process = ctx.Process(
            target=serve,
            args=(child, str(self.project_root), self.overrides, self._cancel, limits),
            daemon=True,
            name="ghostrun-run-worker",
        )
        self._process.start()
        child.close()
        self._conn = parent

    def run(
        self,
        *,
        mode: str = "full",
        kind: str = "user",
        on_event: EventCallback | None = None,
        full: bool | None = None,
    ) -> Message:
        """Run the current version: `mode` is "ladder", "approx" or "full" (`full=True` is
        the same as mode "full"). Each finished stage arrives first as an event; returns
        the `ghostrun run --json` object plus `watch`, the files the version depends on."""
        if full:
            mode = "full"
        return self.request({"cmd": "run", "mode": mode, "kind": kind}, on_event)

    def request(self, request: Message, on_event: EventCallback | None = None) -> Message:
        self.start()
        conn = self._conn
        if conn is None:  # pragma: no cover - start() sets it
            raise WorkerCrashed("the run worker could not be started")
        self._cancel.clear()
        try:
            conn.send(request)
            while True:
                message = conn.recv()
                if message.get("type") == "event":
                    if on_event:
                        on_event(message["event"])
                    continue
                if message.get("type") == "error":
                    raise WorkerError(message["error"])
                return dict(message["result"])
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            code = self._reap()
            raise WorkerCrashed(
                f"the run worker died (exit code {code}) while running your workflow; it "
                "will be restarted for the next run"
            ) from exc

    def cancel(self) -> None:
        """Ask the run in progress to stop at the next operator boundary."""
        if self._cancel is not None:
            self._cancel.set()

    def interrupt(self) -> None:
        """Kill the process now, from any thread: the blocked `request` raises WorkerCrashed
        and reaps it (a hung run, or one that would not stop when cancelled)."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def rss(self) -> int | None:
        """Resident memory of the worker process in bytes (Linux), None when unknown."""
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return pages * os.sysconf("SC_PAGE_SIZE")

    def _reap(self) -> int | None:
        process, self._process, self._conn = self._process, None, None
        if process is None:
            return None
        process.join(timeout=_STOP_GRACE)
        return process.exitcode

    def kill(self) -> None:
        """Stop the worker at once (a hung run, a newer save that must preempt it)."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        self._reap()

    def explore(
        self, budget: float, *, seed: int = 0, n: int = 10, on_event: EventCallback | None = None
    ) -> Message:
        """Explore variants for about `budget` seconds (issue 6); `explore.result` events
        arrive as trials finish; returns the report and the ranked suggestions."""
        request = {"cmd": "explore", "budget": budget, "seed": seed, "n": n}
        return self.request(request, on_event)

    def clean_cache(self) -> Message:
        """Apply the storage budget in the worker (keeps the daemon free of pandas)."""
        return self.request({"cmd": "gc"})

    def stop(self) -> None:
        """Ask the worker to exit; kill it after a grace period."""
        if self._conn is not None:
            try:
                self._conn.send({"cmd": "stop"})
            except (BrokenPipeError, OSError):
                pass
        process = self._process
        if process is not None:
            process.join(timeout=_STOP_GRACE)
            if process.is_alive():
                process.kill()
        self._reap()


def serve(
    conn: Connection,
    root: str,
    overrides: Mapping[str, Any],
    cancel: Any = None,
    limits: Mapping[str, Any] | None = None,
) -> None:
    """Child side: one session for the worker's life; one request at a time."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see ghostrun.cli
    _apply_limits(limits or {})
    from ghostrun.engine.session import Session
    from ghostrun.project import Project
    from ghostrun.reuse.memory import MemoryCache

    project = Project.open(Path(root), overrides)
    cancelled = cancel.is_set if cancel is not None else None
    with Session(project, MemoryCache(project.settings.memory_budget)) as session:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request.get("cmd") == "stop":
                return
            conn.send(_handle(session, request, conn, cancelled))


def _apply_limits(limits: Mapping[str, Any]) -> None:
    _die_with_parent(limits.get("parent"))
    if limits.get("nice"):
        os.nice(int(limits["nice"]))
    memory = limits.get("memory")
    if memory:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))


def _die_with_parent(parent: int | None) -> None:
    """Linux: the kernel kills the worker if its parent dies (even by SIGKILL), so a killed
    daemon never leaves a worker behind still writing to the project's state."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent is not None and os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


Send = Callable[[str, Message], None]


def _handle(
    session: Any, request: Message, conn: Connection, cancelled: Callable[[], bool] | None
) -> Message:
    """One request → one result or error message; the command's events go out as it runs."""
    watch: list[str] = []

    def send(topic: str, payload: Message) -> None:
        conn.send({"type": "event", "event": {"topic": topic, "time": time.time(), **payload}})

    try:
        command = _COMMANDS.get(request.get("cmd", ""))
        if command is None:
            raise GhostrunError(f"unknown worker command {request.get('cmd')!r}")
        return {"type": "result", "result": command(session, request, send, cancelled, watch)}
    except Exception as exc:  # noqa: BLE001 - nothing the user's code does may kill the worker
        return {"type": "error", "error": {**_error_payload(exc), "watch": watch}}


def _run(
    session: Any, request: Message, send: Send, cancelled: Callable[[], bool] | None,
    watch: list[str],
) -> Message:
    """The ladder (or one stage) for the version on disk; `watch` is filled as soon as the
    files it depends on are known, so even a failed run reports them."""
    from ghostrun.engine.stages import run_ladder

    watch.append(str(session.project.workflow_path))
    version = session.load()
    watch[:] = watched_files(version, session.project.root)
    invocation = session.prepare(version)
    tags = {"version_id": version.version_id, "primary": version.workflow.primary}
    started: list[int] = []

    def on_run_start(run_id: int, fidelity: Any) -> None:
        if not started:
            started.append(run_id)
            send("run.started", {**tags, **_started_event(invocation, run_id)})

    session.on_run_start = on_run_start
    try:
        run_ladder(
            session,
            invocation,
            mode=request.get("mode", "full"),
            kind=request.get("kind", "user"),
            on_stage=lambda stage: send("run.stage", {**tags, **_stage_event(stage)}),
            cancelled=cancelled,
        )
    finally:
        session.on_run_start = None
    return {**invocation.to_json(), "watch": list(watch)}


def _gc(session: Any, request: Message, send: Send, cancelled: Any, watch: list[str]) -> Message:
    return _clean(session)


def _explore(
    session: Any, request: Message, send: Send, cancelled: Callable[[], bool] | None,
    watch: list[str],
) -> Message:
    """Explore variants of the version on disk for `budget` seconds; each finished trial is
    an `explore.result` event; the result holds the report and the ranked suggestions."""
    from ghostrun.suggest.rank import suggestions
    from ghostrun.suggest.search import explore

    report = explore(
        session,
        budget=float(request.get("budget", 60.0)),
        cancelled=cancelled or (lambda: False),
        on_result=lambda result: send("explore.result", result),
        seed=int(request.get("seed", 0)),
    )
    ranked = suggestions(session.history, report.version_id, n=int(request.get("n", 10)))
    return {"report": report.to_json(), "suggestions": [s.to_json() for s in ranked]}


_COMMANDS: dict[str, Callable[..., Message]] = {"run": _run, "gc": _gc, "explore": _explore}


def _clean(session: Any) -> Message:
    """Applies the storage budget here, where the cache's libraries are already loaded."""
    from dataclasses import asdict

    from ghostrun.reuse.cleanup import clean_cache

    return asdict(clean_cache(session.project))


def _error_payload(exc: Exception) -> Message:
    from ghostrun.engine.session import RunFailed
    from ghostrun.errors import RunCancelled

    if isinstance(exc, RunFailed):
        return _failure(exc)
    if isinstance(exc, RunCancelled):
        return _error("cancelled", str(exc), 1)
    if isinstance(exc, GhostrunError):
        return _error(type(exc).__name__, str(exc), exc.exit_code)
    if isinstance(exc, MemoryError):
        return _error("memory", "the run ran out of memory (see the worker_memory setting)", 1)
    return {**_error("internal", repr(exc), 1), "traceback": traceback.format_exc()}


def _error(code: str, message: str, exit_code: int) -> Message:
    return {"code": code, "message": message, "exit_code": exit_code}


def _stage_event(stage: Any) -> Message:
    states = [o.state for o in stage.outcomes.values()]
    reran = states.count("computed")
    return {**stage.to_json(), "reran": reran, "reused": len(states) - reran}


def _started_event(invocation: Any, run_id: int) -> Message:
    workflow = invocation.version.workflow
    return {
        "run_id": run_id,
        "parent_id": invocation.parent_id,
        "goal": workflow.goal,
        "changes": [
            {"op": c.op, "change": c.change.value, "reason": c.details()}
            for c in invocation.changes
            if c.change.value != "unchanged"
        ],
    }


def watched_files(version: Any, root: Path) -> list[str]:
    """Absolute paths whose change can change this version: the workflow module, the
    project modules imported with it, and the data files its operators read."""
    from ghostrun.workflow.dependencies import is_project_file

    root = Path(root)
    files = {str(version.workflow.path)}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and str(path).endswith(".py") and is_project_file(path, root):
            files.add(str(Path(path).resolve()))
    for digests in version.data.values():
        files.update(str((root / p).resolve()) for p in digests)
    return sorted(files)


def _failure(exc: Any) -> Message:
    return {
        "code": "user_code",
        "message": str(exc.cause),
        "op": exc.cause.op,
        "location": getattr(exc.cause, "location", None),
        "traceback": exc.cause.traceback_text,
        "run_id": exc.run_id,
        "version_id": exc.invocation.version.version_id,
        "exit_code": 1,
    }
