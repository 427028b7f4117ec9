"""ProjectWatcher: tells the daemon, once per save, which of the files that matter changed.

Responsibilities:
- keep watchdog watches on exactly the directories the watched paths hang from
  (`WatchSet.plan`), re-planning when one of those directories appears, disappears or is
  replaced;
- reduce raw events to relevant paths (`WatchSet` + `IgnoreRules`) on one worker thread;
- coalesce them (`Coalescer`) and call `on_change` from that thread, never letting an
  exception in `on_change` kill it.

Why not a recursive watch on the root: a recursive inotify watch walks and watches every
subdirectory, so a 20k-file `.venv/` or a deep `data/` makes start-up slow and can exhaust
`fs.inotify.max_user_watches`; here start-up costs a few watches whatever lies beside.
"""

from __future__ import annotations

import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch

from ghostrun.watcher._observer import make_observer
from ghostrun.watcher.coalesce import Coalescer
from ghostrun.watcher.ignore import IgnoreRules
from ghostrun.watcher.watchset import WatchSet

_log = logging.getLogger("ghostrun.watcher")

OnChange = Callable[[frozenset[Path]], None]

# Opening or reading a file (as the run worker does with data files) must not wake us up.
_EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
# Re-planning stops once no new directory appeared while it scheduled the previous ones.
_MAX_PLAN_ROUNDS = 16
_STOP = object()


@dataclass(frozen=True)
class _Scheduled:
    watch: ObservedWatch
    recursive: bool
    identity: tuple[int, int]


class _Forward(FileSystemEventHandler):
    """Runs on watchdog's dispatch thread: hands events over and returns at once."""

    def __init__(self, sink: queue.SimpleQueue[object]) -> None:
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        self._sink.put(event)


class ProjectWatcher:
    """Watches the files that matter to a project's workflow and reports changes to them.

    `on_change` is called from the watcher's own thread with the resolved absolute paths
    that changed, once per burst of events (see `Coalescer`); it should return quickly.
    Which paths count:
    - a watched file (created, written, replaced by a move, moved away or deleted), even
      when it did not exist at `watch()` time;
    - for a watched directory (a path that is a directory when `watch()` sees it), any path
      beneath it that changed;
    - never anything `IgnoreRules.always_ignored` (`.git/`, venvs, editor temp files...);
      but a watched path wins over `.gitignore`, since data files are commonly gitignored.
    """

    def __init__(
        self,
        root: Path,
        on_change: OnChange,
        *,
        quiet: float = 0.05,
        max_delay: float = 0.5,
        rules: IgnoreRules | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.rules = rules if rules is not None else IgnoreRules(self.root)
        self._on_change = on_change
        self._batch = Coalescer(quiet, max_delay)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._handler = _Forward(self._queue)
        self._lock = threading.RLock()  # guards _set, _observer and _scheduled
        self._set = WatchSet(self.root)
        self._observer: BaseObserver | None = None
        self._scheduled: dict[Path, _Scheduled] = {}
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    def watch(self, paths: Iterable[Path]) -> None:
        """Replace the watched set; safe from any thread, effective when this returns."""
        new = WatchSet.build(self.root, paths, self.rules)
        with self._lock:
            self._set = new
            self._reconcile()

    @property
    def watched(self) -> WatchSet:
        with self._lock:
            return self._set

    def watched_dirs(self) -> dict[Path, bool]:
        """Directories under watch now, each with whether it is watched recursively."""
        with self._lock:
            return {directory: s.recursive for directory, s in self._scheduled.items()}

    def start(self) -> None:
        """Begin watching; the watches are in place when this returns."""
        with self._lock:
            if self._observer is not None or self._stopping.is_set():
                raise RuntimeError("a ProjectWatcher starts once; create a new one to restart")
            observer = make_observer()
            observer.start()
            self._observer = observer
            self._reconcile()
        self._worker = threading.Thread(target=self._run, name="ghostrun-watcher", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching; once this returns `on_change` is not running and won't be called."""
        self._stopping.set()
        self._queue.put(_STOP)
        with self._lock:
            observer, self._observer = self._observer, None
            self._scheduled.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout)
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
            if worker.is_alive():
                _log.warning("on_change still running %.0f s after stop()", timeout)

    def __enter__(self) -> ProjectWatcher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._next(self._batch.deadline())
            if item is _STOP:
                return
            if isinstance(item, FileSystemEvent):
                self._absorb(item)
            self._deliver(self._batch.take(time.monotonic()))

    def _next(self, deadline: float | None) -> object:
        try:
            if deadline is None:
                return self._queue.get()
            return self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def _absorb(self, event: FileSystemEvent) -> None:
        try:
            if event.is_directory:
                paths = self._directory_change(event)
            else:
                paths = self._file_change(event)
        except Exception:
            _log.exception("could not process file event %r", event)
            return
        self._batch.add(paths, time.monotonic())

    def _deliver(self, paths: frozenset[Path]) -> None:
        if not paths or self._stopping.is_set():
            return
        try:
            self._on_change(paths)
        except Exception:
            _log.exception("on_change failed for %s", ", ".join(sorted(map(str, paths))))

    def _file_change(self, event: FileSystemEvent) -> set[Path]:
        watched = self.watched
        return {p for p in _event_paths(event) if self._relevant(watched, p, is_dir=False)}

    def _directory_change(self, event: FileSystemEvent) -> set[Path]:
        """A directory appeared, vanished or moved: re-plan if watched paths hang from it.

        Watched paths beneath a directory that went away are reported (they are gone, or
        were swapped); beneath one that appeared, those that exist once its watches are in
        place (which covers files written before the watch could see them).
        """
        gone, came = _directory_moves(event)
        if any(self.watched.hangs_from(d) for d in (*gone, *came)):
            with self._lock:
                self._reconcile()
        watched = self.watched
        changed = {p for d in gone for p in watched.beneath(d)}
        changed |= {p for d in came for p in watched.beneath(d) if p.exists()}
        changed |= {d for d in (*gone, *came) if self._relevant(watched, d, is_dir=True)}
        return changed

    def _relevant(self, watched: WatchSet, path: Path, *, is_dir: bool) -> bool:
        if path in watched.files:
            return True
        return watched.in_tree(path) and not self.rules.always_ignored(path, is_dir=is_dir)

    # -- scheduling (called with self._lock held) -----------------------------------------

    def _reconcile(self) -> None:
        if self._observer is None:
            return
        for _ in range(_MAX_PLAN_ROUNDS):
            if not self._apply(self._set.plan()):
                return

    def _apply(self, plan: dict[Path, bool]) -> bool:
        """Make the scheduled watches match `plan`; True if a new directory was scheduled."""
        for directory, scheduled in list(self._scheduled.items()):
            if not self._still_valid(directory, scheduled, plan):
                self._unschedule(directory)
        added = False
        for directory, recursive in plan.items():
            if directory not in self._scheduled:
                added = self._schedule(directory, recursive) or added
        return added

    def _still_valid(self, directory: Path, scheduled: _Scheduled, plan: dict[Path, bool]) -> bool:
        # a directory that was deleted or replaced keeps a dead (or misplaced) watch
        return (
            plan.get(directory) == scheduled.recursive
            and _identity(directory) == scheduled.identity
            and self._emitter_alive(scheduled.watch)
        )

    def _emitter_alive(self, watch: ObservedWatch) -> bool:
        if self._observer is None:
            return False
        return any(e.watch == watch and e.is_alive() for e in self._observer.emitters)

    def _schedule(self, directory: Path, recursive: bool) -> bool:
        identity = _identity(directory)
        if identity is None or self._observer is None:
            return False
        try:
            watch = self._observer.schedule(
                self._handler, str(directory), recursive=recursive, event_filter=_EVENT_TYPES
            )
        except OSError as exc:
            _log.warning("cannot watch %s: %s", directory, exc)
            return False
        self._scheduled[directory] = _Scheduled(watch, recursive, identity)
        return True

    def _unschedule(self, directory: Path) -> None:
        scheduled = self._scheduled.pop(directory)
        if self._observer is None:
            return
        try:
            self._observer.unschedule(scheduled.watch)
        except KeyError:
            pass


def _event_paths(event: FileSystemEvent) -> list[Path]:
    paths = [Path(os.fsdecode(event.src_path))]
    if isinstance(event, FileMovedEvent) and event.dest_path:
        paths.append(Path(os.fsdecode(event.dest_path)))
    return paths


def _directory_moves(event: FileSystemEvent) -> tuple[list[Path], list[Path]]:
    """(directories that went away, directories that appeared) for one directory event."""
    src = Path(os.fsdecode(event.src_path))
    if isinstance(event, DirMovedEvent):
        gone = [src] if event.src_path else []
        came = [Path(os.fsdecode(event.dest_path))] if event.dest_path else []
        return gone, came
    if isinstance(event, DirDeletedEvent):
        return [src], []
    if isinstance(event, DirCreatedEvent):
        return [], [src]
    return [], []


def _identity(directory: Path) -> tuple[int, int] | None:
    """(device, inode) of a directory, None if it is missing or not a directory."""
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None
