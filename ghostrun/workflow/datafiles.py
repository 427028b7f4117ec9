"""Data files behind source operators: finding them and hashing their content.

Files are found three ways (DESIGN §2): path-like string knobs, `files=` globs, and an
audit hook recording what an operator opened while it ran. Content is re-hashed only when
a file's size or mtime changed; the (path, size, mtime) → digest cache is supplied by the
caller (the history), so this module stays free of storage concerns.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import xxhash

from ghostrun.workflow.types import Operator

MISSING = "missing"
_CHUNK = 4 << 20
_CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyi", ".so", ".pyd", ".dll", ".dylib", ".pth"})


class DigestCache(Protocol):
    def cached_file_hash(self, path: str, size: int, mtime_ns: int) -> str | None: ...

    def remember_file_hash(self, path: str, size: int, mtime_ns: int, digest: str) -> None: ...


class FileHasher:
    """Content digests of files and folders, re-read only when size or mtime moved."""

    def __init__(self, cache: DigestCache | None = None):
        self._cache = cache
        self._memo: dict[tuple[str, int, int], str] = {}

    def digest(self, path: Path) -> str:
        if path.is_dir():
            return self._folder(path)
        try:
            stat = path.stat()
        except OSError:
            return MISSING
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key in self._memo:
            return self._memo[key]
        cached = self._cache.cached_file_hash(*key) if self._cache else None
        if cached is None:
            cached = _hash_file(path)
            if self._cache:
                self._cache.remember_file_hash(*key, cached)
        self._memo[key] = cached
        return cached

    def _folder(self, folder: Path) -> str:
        h = xxhash.xxh3_128()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode())
            h.update(self.digest(path).encode())
        return h.hexdigest()


def _hash_file(path: Path) -> str:
    h = xxhash.xxh3_128()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except OSError:
        return MISSING
    return h.hexdigest()


def declared_files(op: Operator, root: Path) -> list[str]:
    """Project-relative paths an operator declares: path-like knobs and `files=` globs."""
    found = {str(k.value) for k in op.knobs if k.is_data}
    if op.source_options:
        for pattern in op.source_options.files:
            matches = [_shown(m, root) for m in _glob(root, pattern)]
            # A glob matching nothing is kept as is: its digest reads "missing".
            found.update(matches or [pattern])
    return sorted(found)


def _glob(root: Path, pattern: str) -> list[Path]:
    """`root.glob(pattern)`, also for an absolute pattern (data kept outside the project),
    which `Path.glob` refuses."""
    if Path(pattern).is_absolute():
        anchor = Path(Path(pattern).anchor)
        root, pattern = anchor, str(Path(pattern).relative_to(anchor))
    return list(root.glob(pattern))


def _shown(path: Path, root: Path) -> str:
    """Project-relative when inside the project, else as found (absolute)."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def data_digests(
    op: Operator, root: Path, opened: Sequence[str], hasher: FileHasher
) -> dict[str, str]:
    """Path → content digest for every data file the operator declares or last opened."""
    paths = set(declared_files(op, root)) | set(opened)
    return {p: hasher.digest(root / p) for p in sorted(paths)}


_recording: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "ghostrun_recording", default=None
)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open":
        return
    opened = _recording.get()
    if opened is None or not args:
        return
    path, mode = args[0], args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return
    if mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR):
        return
    if isinstance(path, str | bytes | os.PathLike):
        opened.add(os.fsdecode(path))


@functools.cache
def _install_hook() -> None:
    sys.addaudithook(_audit)


@contextmanager
def record_opened_files(root: Path) -> Iterator[list[str]]:
    """Collect project data files opened for reading inside the block (as relative paths)."""
    _install_hook()
    opened: set[str] = set()
    token = _recording.set(opened)
    result: list[str] = []
    try:
        yield result
    finally:
        _recording.reset(token)
        result.extend(_data_files_among(opened, root))


def _data_files_among(paths: set[str], root: Path) -> list[str]:
    prefixes = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}}
    # The interpreter's own files are not data, unless the project lives inside its prefix
    # (a Docker image with Python in /usr/local and the project in /usr/local/app).
    excluded = [e for e in prefixes if not root.resolve().is_relative_to(e)]
    state = (root / ".ghostrun").resolve()
    keep = set()
    for raw in paths:
        path = (root / raw).resolve() if not os.path.isabs(raw) else Path(raw).resolve()
        if path.suffix in _CODE_SUFFIXES or not path.is_file():
            continue
        if path.is_relative_to(state) or any(path.is_relative_to(e) for e in excluded):
            continue
        if not path.is_relative_to(root.resolve()):
            continue
        keep.add(str(path.relative_to(root.resolve())))
    return sorted(keep)
