"""Which paths of a project never matter to a run (DESIGN §5).

Two layers, kept apart because the watcher treats them differently:

- *always ignored*: ghostrun's and version control's own state, virtual environments, tool
  caches and editor temp/swap/backup files. Nothing the user saves there is a workflow edit,
  so these lose even against an explicit `ProjectWatcher.watch()` path.
- *gitignored*: what the project's `.gitignore` files (root and nested, plus
  `.git/info/exclude`) ignore. Data files are commonly gitignored, so an explicitly watched
  path wins over this layer.

Pattern matching is pathspec's gitignore implementation; this module only decides which
spec applies to which directory, the way git walks a tree (the deepest `.gitignore` with a
matching pattern decides, and nothing below an ignored directory can be re-included).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pathspec import GitIgnoreSpec

# Written as .gitignore lines; `#` starts a comment there, hence the escape.
_ALWAYS_PATTERNS = (
    # state of ghostrun and of version control (`.git` is a file in worktrees/submodules)
    ".ghostrun/",
    ".git",
    ".hg/",
    ".svn/",
    # virtual environments by name (any directory holding pyvenv.cfg is caught separately)
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    ".conda/",
    # caches and build metadata
    "__pycache__/",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".ipynb_checkpoints/",
    "node_modules/",
    "*.egg-info/",
    # editor temp, swap and backup files
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    "4913",
    ".#*",
    r"\#*#",
    "*___jb_tmp___",
    "*___jb_old___",
    ".goutputstream-*",
    "*.kate-swp",
    "*.tmp",
    "~$*",
)
_ALWAYS = GitIgnoreSpec.from_lines(_ALWAYS_PATTERNS)

_Signature = tuple[int, int, int]


class IgnoreRules:
    """Answers "should a change to this path be ignored?" for one project root.

    Thread-safe. `.gitignore` files are re-read when their size, mtime or inode changes
    (checked by a `stat` on each query), so an edited `.gitignore` takes effect without
    any event having to reach the watcher.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._lock = threading.Lock()
        self._specs: dict[Path, tuple[_Signature | None, GitIgnoreSpec | None]] = {}

    def ignored(self, path: Path, *, is_dir: bool | None = None) -> bool:
        """True if `path` is always ignored or gitignored.

        `is_dir` says whether `path` is a directory (directory-only patterns such as `build/`
        need it); None asks the file system, which says "file" for a path that is gone.
        """
        return self.always_ignored(path, is_dir=is_dir) or self.gitignored(path, is_dir=is_dir)

    def always_ignored(self, path: Path, *, is_dir: bool | None = None) -> bool:
        """True for ghostrun/VCS state, virtual environments, caches and editor temp files."""
        full = self._absolute(path)
        parts = self._relative_parts(full)
        if not parts:
            return False
        if is_dir is None:
            is_dir = full.is_dir()
        text = "/".join(parts) + ("/" if is_dir else "")
        if _ALWAYS.match_file(text):
            return True
        return full.is_relative_to(self.root) and self._inside_venv(parts, is_dir)

    def gitignored(self, path: Path, *, is_dir: bool | None = None) -> bool:
        """True if the project's `.gitignore` files ignore `path` (False outside the root)."""
        full = self._absolute(path)
        if not full.is_relative_to(self.root):
            return False
        parts = full.relative_to(self.root).parts
        if not parts:
            return False
        if is_dir is None:
            is_dir = full.is_dir()
        for end in range(1, len(parts) + 1):
            entry_is_dir = end < len(parts) or is_dir
            if self._git_verdict(parts[:end], entry_is_dir):
                return True
        return False

    def _absolute(self, path: Path) -> Path:
        full = Path(os.path.abspath(self.root / path))
        if full.is_relative_to(self.root):
            return full
        # e.g. /var/... against a root resolved to /private/var/... on macOS
        resolved = full.resolve()
        return resolved if resolved.is_relative_to(self.root) else full

    def _relative_parts(self, full: Path) -> tuple[str, ...]:
        if full.is_relative_to(self.root):
            return full.relative_to(self.root).parts
        return full.parts[1:]

    def _inside_venv(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        # The root itself is exempt: `python -m venv .` in a project must not blind the watcher.
        last = len(parts) if is_dir else len(parts) - 1
        directory = self.root
        for name in parts[:last]:
            directory = directory / name
            if (directory / "pyvenv.cfg").is_file():
                return True
        return False

    def _git_verdict(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        """Whether one entry is ignored by the nearest ignore file that has an opinion."""
        for depth in range(len(parts) - 1, -1, -1):
            spec = self._spec(self.root.joinpath(*parts[:depth]))
            if spec is None:
                continue
            text = "/".join(parts[depth:]) + ("/" if is_dir else "")
            verdict = spec.check_file(text).include
            if verdict is not None:
                return verdict
        exclude = self._load(self.root / ".git" / "info" / "exclude")
        text = "/".join(parts) + ("/" if is_dir else "")
        return exclude is not None and bool(exclude.check_file(text).include)

    def _spec(self, directory: Path) -> GitIgnoreSpec | None:
        return self._load(directory / ".gitignore")

    def _load(self, file: Path) -> GitIgnoreSpec | None:
        signature = _signature(file)
        with self._lock:
            cached = self._specs.get(file)
        if cached is not None and cached[0] == signature:
            return cached[1]
        spec = None
        if signature is not None:
            try:
                spec = GitIgnoreSpec.from_lines(file.read_text(errors="replace").splitlines())
            except OSError:
                spec = None
        with self._lock:
            self._specs[file] = (signature, spec)
        return spec


def _signature(file: Path) -> _Signature | None:
    try:
        st = file.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
