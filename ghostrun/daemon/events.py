"""Where the daemon's events go: the IPC event socket, the log, and desktop notifications.

One notification per run request (a save), replaced as its stages finish; a failure
replaces it with the error. Cancelled and superseded runs notify nobody: a newer save is
already on its way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ghostrun.notify import Notifier, failure_message, stage_message

_QUIET_FAILURES = ("cancelled", "superseded")


class EventSink:
    """Fans each event out to the publisher, the log and the notifier; never raises."""

    def __init__(
        self,
        publish: Callable[[str, dict[str, Any]], None],
        notifier: Notifier,
        log: logging.Logger,
    ):
        self._publish = publish
        self.notifier = notifier
        self.log = log
        self._lock = threading.Lock()
        self._context: dict[int, dict[str, Any]] = {}  # invocation → run.started facts

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        try:
            self._publish(topic, payload)
        except Exception:  # noqa: BLE001 - losing one event must not lose the run
            self.log.exception("could not publish %s", topic)
        try:
            self._follow(topic, payload)
        except Exception:  # noqa: BLE001 - nor must a notification problem
            self.log.exception("could not notify about %s", topic)

    def _follow(self, topic: str, payload: dict[str, Any]) -> None:
        invocation = payload.get("invocation")
        key = f"run-{invocation}"
        if topic == "run.started":
            with self._lock:
                self._context[invocation] = payload
            changed = ", ".join(f"{c['op']} ({c['change']})" for c in payload.get("changes", []))
            self.log.info("run %s started: %s", invocation, changed or "nothing changed")
        elif topic in ("run.stage", "run.finished"):
            if topic == "run.finished":
                with self._lock:
                    self._context.pop(invocation, None)
                return  # its last stage was already shown
            message = stage_message(payload, self._stage_context(invocation, payload))
            self.log.info("run %s: %s · %s", invocation, message.title, message.body)
            self.notifier.show(key, message)
        elif topic == "run.failed":
            with self._lock:
                self._context.pop(invocation, None)
            error = payload.get("error", {})
            if error.get("code") in _QUIET_FAILURES:
                self.log.info("run %s %s", invocation, error.get("code"))
                return
            message = failure_message(error)
            self.log.warning("run %s: %s · %s", invocation, message.title, message.body)
            self.notifier.show(key, message)
        elif topic == "daemon.state" and "announce" not in payload:
            self.log.info("daemon %s", payload.get("state"))

    def _stage_context(self, invocation: Any, stage: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            started = self._context.get(invocation, {})
        fidelity = stage.get("fidelity") or {}
        final = fidelity.get("fraction", 1.0) >= 1.0 and fidelity.get("budget", 1.0) >= 1.0
        return {
            "primary": started.get("primary"),
            "goal": started.get("goal", "max"),
            "changes": started.get("changes", []),
            "reran": stage.get("reran"),
            "reused": stage.get("reused"),
            "full_eta": None,
            "final": final,
        }
