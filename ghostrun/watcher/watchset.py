"""The set of paths a ProjectWatcher cares about, and the directories that must be watched
to see every change to them.

Watching only those directories (instead of the project recursively) keeps start-up and the
inotify watch count independent of a big `.venv/` or `data/` next to the workflow: a
recursive watch would walk and watch every subdirectory there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ghostrun.watcher.ignore import IgnoreRules

_log = logging.getLogger("ghostrun.watcher")


@dataclass(frozen=True)
class WatchSet:
    """Watched files, watched directory trees, and the directories they hang from.

    A watched *file* is reported when it is created, written, replaced (the destination of a
    move), moved away or deleted; it need not exist yet. A watched *tree* (a path that was a
    directory when `build` saw it) is reported through the paths changed beneath it, so a
    source that reads a whole folder sees its files come and go.
    """

    root: Path
    files: frozenset[Path] = frozenset()
    trees: frozenset[Path] = frozenset()

    @classmethod
    def build(cls, root: Path, paths: Iterable[Path], rules: IgnoreRules) -> WatchSet:
        """Resolve `paths` and drop those that are always ignored (a venv, `.git/`, ...)."""
        files: set[Path] = set()
        trees: set[Path] = set()
        for raw in paths:
            path = (root / raw).resolve()
            is_dir = path.is_dir()
            if rules.always_ignored(path, is_dir=is_dir):
                _log.debug("not watching %s: always ignored", path)
                continue
            (trees if is_dir else files).add(path)
        return cls(root, frozenset(files), frozenset(trees))

    def watches(self, path: Path) -> bool:
        """Whether a change at `path` concerns a watched file or a watched tree."""
        if path in self.files:
            return True
        return self.in_tree(path)

    def in_tree(self, path: Path) -> bool:
        return path in self.trees or any(parent in self.trees for parent in path.parents)

    def hangs_from(self, directory: Path) -> bool:
        """Whether creating, deleting or moving `directory` can affect a watched path."""
        return any(_at_or_under(item, directory) for item in self._items())

    def beneath(self, directory: Path) -> list[Path]:
        """Watched files and trees at or under `directory`."""
        return [item for item in self._items() if _at_or_under(item, directory)]

    def plan(self) -> dict[Path, bool]:
        """Directories to schedule now, each mapped to whether it is watched recursively.

        A watched path's directory is watched with all its ancestors up to the root, so that
        deleting, moving or recreating any of them is seen; while the directory is missing,
        its nearest existing ancestor stands in until it appears.
        """
        plan = {tree: True for tree in self.trees if tree.is_dir()}
        for item in self._items():
            for directory in self._holders(item):
                plan.setdefault(directory, False)
        recursive = [tree for tree, deep in plan.items() if deep]
        return {
            directory: deep
            for directory, deep in plan.items()
            if deep or not any(_at_or_under(directory, tree) for tree in recursive)
        }

    def _items(self) -> Iterable[Path]:
        yield from self.files
        yield from self.trees

    def _holders(self, item: Path) -> list[Path]:
        inside = item.is_relative_to(self.root)
        holders = []
        for directory in item.parents:
            if inside and not directory.is_relative_to(self.root):
                break
            if os.path.isdir(directory):
                holders.append(directory)
                # outside the project: the nearest existing directory and its parent suffice
                if not inside and len(holders) == 2:
                    break
        return holders


def _at_or_under(path: Path, directory: Path) -> bool:
    return path == directory or path.is_relative_to(directory)
