"""A real project directory, a ProjectWatcher on it, and a recorder of its calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ghostrun.watcher import ProjectWatcher

# Generous on purpose: the steps of one simulated save must always fall inside one quiet
# window, even on a loaded machine. The production default (50 ms) has its own test.
QUIET = 0.25
MAX_DELAY = 2.0
# How long a test waits for a call that must come, and for one that must not.
TIMEOUT = 5.0
SILENCE = 1.0


class Recorder:
    """Collects on_change calls; tests wait on it instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[frozenset[Path]] = []
        self._changed = threading.Condition()

    def __call__(self, paths: frozenset[Path]) -> None:
        with self._changed:
            self.calls.append(paths)
            self._changed.notify_all()

    def wait_calls(self, count: int, timeout: float = TIMEOUT) -> list[frozenset[Path]]:
        """The first `count` calls; fails the test if they do not arrive in time."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.calls) >= count, timeout)
            assert arrived, f"expected {count} call(s) within {timeout} s, got {self.calls}"
            return list(self.calls)

    def wait_for(self, path: Path, timeout: float = TIMEOUT) -> list[frozenset[Path]]:
        """All calls up to the first one that reports `path`."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: any(path in c for c in self.calls), timeout)
            assert arrived, f"{path} not reported within {timeout} s, got {self.calls}"
            return list(self.calls)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path.resolve() / "project"
    root.mkdir()
    (root / "pipeline.py").write_text("x = 1\n")
    (root / "sentinel.py").write_text("")
    return root


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def start_watcher(project: Path, recorder: Recorder) -> Iterator[Callable[..., ProjectWatcher]]:
    """Start a watcher on `project` watching the given paths (and `sentinel.py`)."""
    started: list[ProjectWatcher] = []

    def start(*paths: Path, quiet: float = QUIET, max_delay: float = MAX_DELAY) -> ProjectWatcher:
        watcher = ProjectWatcher(project, recorder, quiet=quiet, max_delay=max_delay)
        watcher.watch([*paths, project / "sentinel.py"])
        watcher.start()
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()


def touch_sentinel(project: Path, recorder: Recorder) -> list[frozenset[Path]]:
    """Prove the watcher is alive and flush: every call up to the sentinel's own."""
    sentinel = project / "sentinel.py"
    sentinel.write_text(sentinel.read_text() + "#\n")
    return recorder.wait_for(sentinel)
