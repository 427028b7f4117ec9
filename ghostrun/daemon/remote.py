"""The command line's side of a running daemon: `ghostrun run` through it, live events.

`ghostrun run` with a daemon up asks the daemon to run (its hot worker answers faster than
a fresh process) and follows that request on the event stream until it finishes. When a
newer request supersedes it, or a save cancels it, the newest run is followed instead:
the user asked for the result of what is on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ghostrun.daemon.lock import holder
from ghostrun.errors import GhostrunError
from ghostrun.ipc import Client, DaemonUnavailable
from ghostrun.project import Project

RUN_TOPICS = ("run.started", "run.stage", "run.finished", "run.failed")
_POLL = 1.0


class RemoteRunFailed(GhostrunError):
    """The daemon's run failed; carries its `run.failed` payload."""

    def __init__(self, payload: dict[str, Any]):
        self.payload = payload
        error = payload.get("error", {})
        self.exit_code = 1 if error.get("code") in ("user_code", "timeout", "memory",
                                                     "crashed", "MetricValueError") else 2
        where = f" in {error['op']}" if error.get("op") else ""
        super().__init__(f"the run failed{where}: {error.get('message', 'unknown error')}")


def daemon_running(project: Project) -> bool:
    return holder(project.pid_path) is not None


def run_through_daemon(
    project: Project, mode: str, on_stage: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Run through the daemon; returns the `ghostrun run --json` object."""
    with Client(project.state_dir, timeout=10.0) as client, client.events(RUN_TOPICS) as stream:
        following: int | None = client.request("run", {"mode": mode})["invocation"]
        for topic, payload in _events(project, stream):
            invocation = payload.get("invocation")
            if following is None and topic == "run.started":
                following = invocation
            if invocation != following:
                continue
            if topic == "run.stage":
                on_stage(payload)
            elif topic == "run.finished":
                return dict(payload["result"])
            elif topic == "run.failed":
                code = payload.get("error", {}).get("code")
                if code == "superseded":
                    following = payload.get("superseded_by")
                elif code == "cancelled":
                    following = None  # the save that cancelled it starts the next run
                else:
                    raise RemoteRunFailed(payload)
    raise DaemonUnavailable("the daemon stopped before the run finished")


def _events(project: Project, stream: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Events until the daemon goes away (checked whenever the stream is quiet)."""
    while True:
        event = stream.next(timeout=_POLL)
        if event is not None:
            yield event
        elif not daemon_running(project):
            return


def watch_events(project: Project) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every event the daemon publishes, until it stops."""
    with Client(project.state_dir, timeout=10.0) as client, client.events() as stream:
        yield "daemon.state", client.request("status")
        yield from _events(project, stream)


def explore_through_daemon(
    project: Project, budget: float, on_result: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Ask the daemon to explore now and follow it until it publishes the new ranking."""
    topics = ("explore.result", "suggest.updated")
    with Client(project.state_dir, timeout=10.0) as client, client.events(topics) as stream:
        client.request("explore", {"budget": budget})
        for topic, payload in _events(project, stream):
            if topic == "explore.result":
                on_result(payload)
            else:
                return payload
    raise DaemonUnavailable("the daemon stopped before the exploration finished")


def daemon_suggestions(project: Project, n: int) -> list[dict[str, Any]] | None:
    """The daemon's ranking from its last exploration, or None when it has none."""
    with Client(project.state_dir, timeout=10.0) as client:
        return client.request("suggest", {"n": n}).get("suggestions")
