"""Idle-time work on APScheduler: what the daemon does while the user thinks.

A save pushes the "idle" job `idle_after` seconds into the future (APScheduler's
`replace_existing` makes that one call); when the user has been quiet that long the idle
hooks run: cache clean-up now, and the explorer (issue 6) registers itself as one more
hook through `on_idle`. A periodic clean-up also runs every `GC_INTERVAL` in case the
user never stops saving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

GC_INTERVAL = timedelta(hours=1)
IdleHook = Callable[[], None]


class IdleScheduler:
    """Runs hooks after a quiet period and periodic maintenance, off the daemon's loop."""

    def __init__(self, idle_after: float, log: logging.Logger):
        self.idle_after = idle_after
        self.log = log
        self._hooks: list[IdleHook] = []
        self._periodic: list[IdleHook] = []
        self._idle = threading.Event()
        self._scheduler = BackgroundScheduler(
            daemon=True,
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            logger=log.getChild("scheduler"),
        )

    @property
    def idle(self) -> bool:
        """True once the quiet period has passed since the last save."""
        return self._idle.is_set()

    def on_idle(self, hook: IdleHook) -> None:
        """The explorer's seam: `hook` runs each time the user goes quiet."""
        self._hooks.append(hook)

    def every_interval(self, hook: IdleHook) -> None:
        self._periodic.append(hook)

    def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(
            self._run_periodic, "interval", seconds=GC_INTERVAL.total_seconds(), id="periodic"
        )
        self.touch()

    def touch(self, delay: float | None = None) -> None:
        """A save: the user is active again; idle work waits for the next quiet period (or
        `delay` seconds, to try again soon when a run was still busy)."""
        self._idle.clear()
        wait = self.idle_after if delay is None else delay
        when = datetime.now(UTC) + timedelta(seconds=wait)
        self._scheduler.add_job(self._run_idle, "date", run_date=when, id="idle",
                                replace_existing=True)

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _run_idle(self) -> None:
        self._idle.set()
        self._call(self._hooks)

    def _run_periodic(self) -> None:
        self._call(self._periodic)

    def _call(self, hooks: list[IdleHook]) -> None:
        for hook in list(hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001 - a failing hook must not stop the others
                self.log.exception("idle-time task %s failed", getattr(hook, "__name__", hook))
