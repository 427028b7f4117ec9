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
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._request: tuple[float, str] | None = None
        self._busy = False
        self._stopping = False
        self._session = 0
        self._preempted = False
        self._notified_at = 0.0
        self._notified: set[str] = set()

    @property
    def running(self) -> bool:
        with self._cond:
            return self._busy

    def start(self, budget: float, reason: str = "idle") -> bool:
        """Explore for about `budget` seconds in the background; False if already exploring."""
        with self._cond:
            if self._busy or self._stopping:
                return False
            if self._thread is None:
                # One long-lived thread: the worker it spawns dies with the thread that
                # spawned it (see RunWorker), so the hot explorer survives between sessions.
                self._thread = threading.Thread(target=self._loop, name="ghostrun-explore",
                                                daemon=True)
                self._thread.start()
            self._busy, self._preempted, self._request = True, False, (budget, reason)
            self._cond.notify_all()
        return True

    def preempt(self) -> None:
        """A save: stop exploring now. Returns at once: a cancelled search stops between
        operators; one stuck in a long fit is killed after PREEMPT_GRACE."""
        with self._cond:
            if not self._busy:
                return
            self._preempted = True
            session = self._session
        self.worker.cancel()
        timer = threading.Timer(PREEMPT_GRACE, self._kill_if_still, args=(session,))
        timer.daemon = True
        timer.start()

    def _kill_if_still(self, session: int) -> None:
        with self._cond:
            still = self._busy and self._session == session
        if still:
            self.log.info("the explorer did not stop within %.1f s; replacing it", PREEMPT_GRACE)
            self.worker.interrupt()

    def stop(self) -> None:
        self.preempt()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self.worker.stop()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._request is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                (budget, reason), self._request = self._request, None
                self._session += 1
            try:
                self._explore(budget, reason)
            except Exception:  # noqa: BLE001 - the explorer thread must outlive any bug
                self.log.exception("exploration failed unexpectedly")
            finally:
                with self._cond:
                    self._busy = False

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
