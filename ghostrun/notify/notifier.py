"""`Notifier`: one notification per key (a save), replaced as the save's stages finish.

Responsibilities: choose the best working backend (desktop-notifier, notify-send, the log),
deliver off the caller's thread on a private asyncio loop, coalesce a burst of updates to
the same key into the newest one, and fall back to the next backend when one fails.
`show` never raises and returns at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from ghostrun.notify.backends import Backend, LogBackend, NotifySendBackend
from ghostrun.notify.desktop import DesktopBackend, desktop_usable
from ghostrun.notify.message import Message

MODES = ("auto", "off", "desktop-notifier", "notify-send", "log")
_CHAIN = ("desktop-notifier", "notify-send", "log")
_PROBE_SECONDS = 2.0
_SHOW_SECONDS = 10.0  # a backend call taking longer counts as failed
_CLOSE_SECONDS = 5.0

T = TypeVar("T")


class Notifier:
    """Delivers `Message`s, keyed so that a later message for the same key replaces the
    earlier notification. Build it with `Notifier.create`."""

    def __init__(self, backends: list[Backend], log: logging.Logger) -> None:
        self._backends = backends
        self._log = log
        self._pending: dict[str, Message] = {}  # touched on the loop thread only
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._closing = False

    @classmethod
    def create(
        cls, mode: str = "auto", app_name: str = "ghostrun", log: logging.Logger | None = None
    ) -> Notifier:
        """`mode` "auto" picks the first backend that works here; "off" shows nothing; a
        backend's name starts the fallback chain at that backend (for testing a machine)."""
        if mode not in MODES:
            raise ValueError(f"Notification mode {mode!r} is unknown; use one of {MODES}.")
        log = log or logging.getLogger("ghostrun.notify")
        notifier = cls([], log)
        if mode == "off":
            return notifier
        notifier._start_loop()
        wanted = _CHAIN[_CHAIN.index(mode):] if mode in _CHAIN else _CHAIN
        try:
            notifier._backends = notifier._call(_choose(wanted, app_name, log), _PROBE_SECONDS + 3)
        except Exception as exc:  # never let notifications stop the daemon from starting
            log.warning("no notification backend could be chosen (%r); using the log", exc)
            notifier._backends = [LogBackend(log)]
        return notifier

    @property
    def backend(self) -> str:
        """The backend the next notification goes to: "desktop-notifier", "notify-send",
        "log", or "off"."""
        backends = self._backends
        return backends[0].name if backends else "off"

    def show(self, key: str, message: Message) -> None:
        """Queue `message` as the notification for `key`, replacing that key's earlier one."""
        loop = self._loop
        if loop is None or self._closing:
            return
        try:
            loop.call_soon_threadsafe(self._enqueue, key, message)
        except RuntimeError:  # the loop has stopped under us (interpreter shutdown)
            self._log.debug("notification dropped, notifier stopped: %s", message.title)

    def flush(self, timeout: float = _CLOSE_SECONDS) -> bool:
        """Wait until every queued notification was handed to a backend; False on timeout."""
        if self._loop is None or not self._loop.is_running():
            return True
        try:
            self._call(self._wait_idle(), timeout)
        except Exception:  # a timeout or a stopped loop: not idle
            return False
        return True

    def close(self) -> None:
        """Deliver what is queued (bounded), release the backends and stop the loop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or self._closing:
            return
        try:
            self._call(self._shutdown(), _CLOSE_SECONDS)
        except Exception as exc:  # closing must not fail the caller
            self._log.debug("notifier shutdown: %r", exc)
        self._closing = True
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CLOSE_SECONDS)

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loop thread -------------------------------------------------------------

    def _start_loop(self) -> None:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                _finish(loop)

        self._loop = loop
        self._thread = threading.Thread(target=run, name="ghostrun-notify", daemon=True)
        self._thread.start()
        started.wait(_CLOSE_SECONDS)
        self._call(self._start_drainer(), _CLOSE_SECONDS)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run a coroutine on the loop thread and wait for its result."""
        if self._loop is None:
            raise RuntimeError("the notifier has no event loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _start_drainer(self) -> None:
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def _enqueue(self, key: str, message: Message) -> None:
        if self._wake is None or self._idle is None:
            return
        self._pending[key] = message
        self._idle.clear()
        self._wake.set()

    async def _drain(self) -> None:
        if self._wake is None or self._idle is None:
            return
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                key = next(iter(self._pending))
                await self._deliver(key, self._pending.pop(key))
            self._idle.set()

    async def _deliver(self, key: str, message: Message) -> None:
        while self._backends:
            backend = self._backends[0]
            try:
                await asyncio.wait_for(backend.show(key, message), _SHOW_SECONDS)
                return
            except Exception as exc:  # any failure means: try the next one
                if len(self._backends) == 1:
                    self._log.warning("%s notification failed: %r", backend.name, exc)
                    return
                self._backends = self._backends[1:]
                self._log.warning(
                    "%s notification failed (%s); using %s from now on",
                    backend.name, str(exc) or type(exc).__name__, self._backends[0].name,
                )
                await _close_quietly(backend, self._log)

    async def _wait_idle(self) -> None:
        if self._idle is not None:
            await self._idle.wait()

    async def _shutdown(self) -> None:
        try:
            await asyncio.wait_for(self._wait_idle(), _CLOSE_SECONDS - 1)
        except TimeoutError:
            self._log.warning("notifications still queued at shutdown were dropped")
        if self._drainer is not None:
            self._drainer.cancel()
        for backend in self._backends:
            await _close_quietly(backend, self._log)


async def _choose(wanted: tuple[str, ...], app_name: str, log: logging.Logger) -> list[Backend]:
    """The working backends among `wanted`, best first; the log always comes last."""
    chosen: list[Backend] = []
    if "desktop-notifier" in wanted and await desktop_usable(_PROBE_SECONDS):
        try:
            chosen.append(DesktopBackend(app_name))
        except Exception as exc:  # a broken install: fall back
            log.warning("desktop-notifier unusable: %r", exc)
    if "notify-send" in wanted:
        found = await asyncio.to_thread(NotifySendBackend.find, app_name)
        if found is not None:
            chosen.append(found)
    chosen.append(LogBackend(log))
    return chosen


async def _close_quietly(backend: Backend, log: logging.Logger) -> None:
    try:
        await asyncio.wait_for(backend.close(), 1.0)
    except Exception as exc:  # a dead backend may fail to close; no matter
        log.debug("closing %s: %r", backend.name, exc)


def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left on the stopped loop and close it."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
