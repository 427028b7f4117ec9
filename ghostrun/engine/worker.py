"""The run worker: a long-lived process that runs the user's workflow, keeping hot results.

User code never runs in the caller's process (the daemon, a benchmark): the worker
imports the workflow fresh for every request (so edits are seen) but keeps recent
intermediates in memory across requests, bounded by `memory_budget`. The caller talks to
it over a pipe: a request, then zero or more event messages, then one result or error.
A worker that dies mid-run is reported as a `WorkerCrashed` and restarted on next use.
"""

from __future__ import annotations

import multiprocessing as mp
import os
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
    """Parent side of the run worker: start, send run requests, stop."""

    def __init__(self, project_root: Path, overrides: Mapping[str, Any] | None = None):
        self.project_root = Path(project_root)
        self.overrides = dict(overrides or {})
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None

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
        self._process = ctx.Process(
            target=serve,
            args=(child, str(self.project_root), self.overrides),
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
        the `ghostrun run --json` object."""
        if full:
            mode = "full"
        return self.request({"cmd": "run", "mode": mode, "kind": kind}, on_event)

    def request(self, request: Message, on_event: EventCallback | None = None) -> Message:
        self.start()
        conn = self._conn
        if conn is None:  # pragma: no cover - start() sets it
            raise WorkerCrashed("the run worker could not be started")
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


def serve(conn: Connection, root: str, overrides: Mapping[str, Any]) -> None:
    """Child side: one session for the worker's life; one request at a time."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see ghostrun.cli
    from ghostrun.engine.session import Session
    from ghostrun.project import Project
    from ghostrun.reuse.memory import MemoryCache

    project = Project.open(Path(root), overrides)
    with Session(project, MemoryCache(project.settings.memory_budget)) as session:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request.get("cmd") == "stop":
                return
            conn.send(_handle(session, request, conn))


def _handle(session: Any, request: Message, conn: Connection) -> Message:
    from ghostrun.engine.session import RunFailed
    from ghostrun.engine.stages import run_ladder

    try:
        if request.get("cmd") != "run":
            raise GhostrunError(f"unknown worker command {request.get('cmd')!r}")
        invocation = session.prepare(session.load())

        def send_stage(stage: Any) -> None:
            conn.send({"type": "event", "event": {"topic": "run.stage", **stage.to_json()}})

        run_ladder(
            session,
            invocation,
            mode=request.get("mode", "full"),
            kind=request.get("kind", "user"),
            on_stage=send_stage,
        )
        return {"type": "result", "result": invocation.to_json()}
    except RunFailed as exc:
        return {"type": "error", "error": _failure(exc)}
    except GhostrunError as exc:
        return {
            "type": "error",
            "error": {"code": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code},
        }
    except Exception as exc:  # noqa: BLE001 - a ghostrun bug must not kill the worker
        return {
            "type": "error",
            "error": {
                "code": "internal",
                "message": repr(exc),
                "traceback": traceback.format_exc(),
                "exit_code": 1,
            },
        }


def _failure(exc: Any) -> Message:
    return {
        "code": "user_code",
        "message": str(exc.cause),
        "op": exc.cause.op,
        "traceback": exc.cause.traceback_text,
        "run_id": exc.run_id,
        "version_id": exc.invocation.version.version_id,
        "exit_code": 1,
    }
