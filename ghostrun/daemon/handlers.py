"""Answers to the DESIGN §5 requests, one function per command.

Handlers run on the IPC loop's thread, so each returns at once: `run` queues a request and
answers with its invocation id (the client follows it on the event stream), history reads
are single SQLite queries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ghostrun.ipc import Request, RequestError

if TYPE_CHECKING:
    from ghostrun.daemon.service import Daemon

Handler = Callable[["Daemon", Mapping[str, Any]], Any]
RUN_MODES = ("ladder", "approx", "full")
RUN_KINDS = ("user", "explore", "manual")


def handle(daemon: Daemon, request: Request) -> Any:
    handler = HANDLERS.get(request.cmd)
    if handler is None:
        raise RequestError("unknown_command", f"no command {request.cmd!r}")
    return handler(daemon, request.args)


def status(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    token = args.get("announce")
    if token is not None:
        daemon.publish_state(announce=str(token))
    return daemon.status()


def history(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    limit = _int_arg(args, "limit", 30, low=1, high=10_000)
    kind = args.get("kind")
    if kind is not None and kind not in RUN_KINDS:
        raise RequestError("bad_request", f"kind must be one of {', '.join(RUN_KINDS)}")
    runs = daemon.history().runs(limit=limit, kind=kind)
    return {"runs": [run.to_json() for run in runs]}


def run(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    mode = args.get("mode", "ladder")
    if mode not in RUN_MODES:
        raise RequestError("bad_request", f"mode must be one of {', '.join(RUN_MODES)}")
    invocation = daemon.runs.submit(mode=mode, reason="request")
    daemon.explorer.preempt()  # the user's own run comes first
    return {"invocation": invocation}


def pause(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    daemon.pause()
    return daemon.status()


def resume(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    daemon.resume()
    return daemon.status()


def stop(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    daemon.request_stop()
    return {"stopping": True}


def explore(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    budget = args.get("budget", daemon.project.settings.explore_budget)
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not budget > 0:
        raise RequestError("bad_request", "budget must be a number of seconds above 0")
    return {"started": daemon.explore(float(budget), reason="request")}


def suggest(daemon: Daemon, args: Mapping[str, Any]) -> dict[str, Any]:
    """The ranking of the last exploration; `suggestions` is null when there is none yet
    (the client then ranks from the history itself, which needs the data libraries this
    process keeps out of memory)."""
    n = _int_arg(args, "n", 10, low=1, high=1000)
    cached = daemon.explorer.suggestions
    return {
        "version_id": daemon.explorer.version_id,
        "suggestions": cached[:n] if cached is not None else None,
    }


def _int_arg(args: Mapping[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError("bad_request", f"{name} must be a whole number from {low} to {high}")
    return value


HANDLERS: dict[str, Handler] = {
    "status": status,
    "history": history,
    "run": run,
    "pause": pause,
    "resume": resume,
    "stop": stop,
    "suggest": suggest,
    "explore": explore,
}
