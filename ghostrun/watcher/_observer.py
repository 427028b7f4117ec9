"""The watchdog observer ProjectWatcher uses: inotify without the half-second move hold.

watchdog's inotify emitter holds every IN_MOVED_FROM for 0.5 s to pair it with its
IN_MOVED_TO, and everything queued behind it waits too. An editor that moves the original
out of the project before writing the new file (vim with `backupdir` elsewhere, emacs
backups) would then take ~550 ms from save to report. ProjectWatcher does not need moves
paired (a move is "source gone, destination written" to it), so its non-recursive watches
release a move source at once. Recursive watches (watched directory trees) keep the pairing,
which they need to keep their sub-watches' paths right when a subdirectory is renamed.

This leans on watchdog's inotify internals (checked against 7.1); if they are not there,
or on other platforms, watchdog's own `Observer` is used and only the latency differs.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

_log = logging.getLogger("ghostrun.watcher")


def make_observer() -> BaseObserver:
    """An observer whose non-recursive watches report moves without delay, where possible."""
    if not sys.platform.startswith("linux"):
        return Observer()
    try:
        observer_class = _prompt_observer_class()
    except (ImportError, AttributeError, TypeError) as exc:
        _log.debug("using watchdog's default observer: %s", exc)
        return Observer()
    return observer_class()


@functools.cache
def _prompt_observer_class() -> Callable[[], BaseObserver]:
    from watchdog.observers.inotify import InotifyEmitter, InotifyObserver, InotifyWatchGroup
    from watchdog.observers.inotify_c import InotifyFD
    from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper

    class PromptMoveGrouper(InotifyMoveEventGrouper):
        delay = 0.0

    @dataclass
    class PromptWatchGroup(InotifyWatchGroup):
        _move_event_grouper: InotifyMoveEventGrouper = field(
            default_factory=PromptMoveGrouper, init=False
        )

    class PromptEmitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            if self.watch.is_recursive:
                super().on_thread_start()
                return
            self._inotify = PromptWatchGroup(
                self._inotify_fd,
                os.fsencode(self.watch.path),
                is_recursive=False,
                event_mask=self.get_event_mask_from_filter(),
                follow_symlink=self.watch.follow_symlink,
            )

    class PromptInotifyObserver(InotifyObserver):
        # InotifyObserver.__init__ with our emitter class (BaseObserver takes it as documented)
        def __init__(self) -> None:
            self._inotify_fd = InotifyFD()
            self._inotify_fd.start()
            BaseObserver.__init__(self, PromptEmitter, inotify_fd=self._inotify_fd)

    return PromptInotifyObserver
