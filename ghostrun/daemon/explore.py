"""Think-time exploration: variants of the user's version, tried in a low-priority worker.

Responsibilities: start an exploration when the user goes quiet (or on request); stop it
at once when they save (the user's own run comes first: cancel, then kill the worker if it
does not stop within `PREEMPT_GRACE`); publish each finished trial (`explore.result`) and
the new ranking (`suggest.updated`); keep the last ranking for `suggest` requests; notify
when a confirmed improvement clears the threshold, at most once per `notify_interval`.
The search itself runs inside the explorer worker (`ghostrun.suggest.search`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ghostrun.engine.worker import RunWorker, WorkerCrashed, WorkerError
from ghostrun.notify import Message, Notifier

Publish = Callable[[str, dict[str, Any]], None]
PREEMPT_GRACE = 0.5
EXPLORER_NICE = 10


class ExploreSupervisor:
    """See the module docstring."""

    def __init__(
        self,
        worker: RunWorker,
        publish: Publish,
        notifier: Notifier,
        *,
        threshold: float,
        notify_interval: float,
        log: logging.Logger,
    ):
        self.worker = worker
        self.publish = publish
        self.notifier = notifier
        self.threshold = threshold
        self.notify_interval = notify_interval
        self.log = log
        self.suggestions: list[dict[str, Any]] | None = None
        self.version_id: str | None = None
        self.last_report: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._preempted = False
        self._notified_at = 0.0
        self._notified: set[str] = set()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def start(self, budget: float, reason: str = "idle") -> bool:
        """Explore for about `budget` seconds in the background; False if already exploring."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._preempted = False
            self._thread = threading.Thread(
                target=self._explore, args=(budget, reason), name="ghostrun-explore", daemon=True
            )
            self._thread.start()
        return True

    def preempt(self) -> None:
        """A save: stop exploring now. Returns at once: a cancelled search stops between
        operators; one stuck in a long fit is killed after PREEMPT_GRACE."""
        with self._lock:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._preempted = True
        self.worker.cancel()
        timer = threading.Timer(PREEMPT_GRACE, self._kill_if_alive, args=(thread,))
        timer.daemon = True
        timer.start()

    def _kill_if_alive(self, thread: threading.Thread) -> None:
        if thread.is_alive():
            self.log.info("the explorer did not stop within %.1f s; replacing it", PREEMPT_GRACE)
            self.worker.interrupt()

    def stop(self) -> None:
        with self._lock:
            thread = self._thread
        self.preempt()
        if thread is not None:
            thread.join(timeout=10)
        self.worker.stop()

    def _explore(self, budget: float, reason: str) -> None:
        self.log.info("exploring for up to %.0f s (%s)", budget, reason)
        started = time.time()
        try:
            result = self.worker.explore(budget, on_event=self._on_event)
        except WorkerError as exc:
            if exc.payload.get("code") != "cancelled":
                self.log.warning("exploration failed: %s", exc.payload.get("message"))
            else:
                self.log.info("exploration stopped by a save")
            return
        except WorkerCrashed as exc:
            if not self._preempted:
                self.log.warning("the explorer worker died: %s", exc)
            return
        report = result.get("report", {})
        self.last_report = report
        self.suggestions = list(result.get("suggestions", []))
        self.version_id = report.get("version_id")
        if report.get("stopped") == "cancelled":
            self.log.info("exploration stopped by a save after %d trials", report.get("trials", 0))
        else:
            self.log.info("explored %d trials in %.0f s (%s); %d suggestions",
                          report.get("trials", 0), time.time() - started, report.get("stopped"),
                          len(self.suggestions))
        self.publish("suggest.updated", {
            "version_id": self.version_id,
            "suggestions": self.suggestions,
            "report": report,
        })
        self._maybe_notify()

    def _on_event(self, event: dict[str, Any]) -> None:
        topic = event.pop("topic")
        self.publish(topic, event)

    def _maybe_notify(self) -> None:
        best = next((s for s in self.suggestions or [] if s["evidence"]["confirmed_full"]), None)
        if best is None or best["id"] in self._notified:
            return
        if abs(best["expected_delta"]) < self.threshold:
            return
        if time.time() - self._notified_at < self.notify_interval:
            return
        self._notified.add(best["id"])
        self._notified_at = time.time()
        uncertainty = best.get("uncertainty")
        spread = f" ±{uncertainty:.4g}" if uncertainty is not None else ""
        self.notifier.show("explore", Message(
            title=f"ghostrun found: {best['description']}",
            body=f"{best['expected_delta']:+.4g}{spread} confirmed on the full data · "
                 f"{best['location']} · `ghostrun apply {best['rank']}` makes it",
        ))


def explorer_worker(root: Any, overrides: dict[str, Any], memory_limit: int) -> RunWorker:
    return RunWorker(root, overrides, memory_limit=memory_limit, nice=EXPLORER_NICE)
