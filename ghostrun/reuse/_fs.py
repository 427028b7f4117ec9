"""File-system primitives of the store: private directories, atomic writes, a store lock.

Atomicity: data is written to a temp file in the target's own directory and then renamed
over (or hard-linked onto) the final name, so a reader sees the old file or the new one,
never half of one. Temp files end in `TEMP_SUFFIX`; garbage collection removes leftovers.

The store lock (`fcntl.flock`, POSIX) is shared by savers and exclusive for garbage
collection, so collection never deletes a blob that a save in flight is about to reference.
On platforms without `flock` it is a no-op and collection falls back to an age threshold.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".tmp"
HAS_LOCKS = fcntl is not None


def make_private_dir(path: Path) -> None:
    """Create `path` and any missing parents with mode 0o700 (makedirs only sets the leaf)."""
    if path.is_dir():
        return
    missing = [path, *path.parents]
    for directory in reversed(missing):
        if not directory.exists():
            with contextlib.suppress(FileExistsError):
                directory.mkdir(mode=0o700)


def temp_file(directory: Path, prefix: str) -> tuple[int, Path]:
    """Open a fresh temp file (mode 0o600) next to where its content will be published."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{prefix}.", suffix=TEMP_SUFFIX)
    return fd, Path(name)


def write_chunks(fd: int, chunks: Iterable[Any]) -> None:
    """Write every bytes-like chunk to `fd` in full, then close it."""
    with os.fdopen(fd, "wb", buffering=0) as stream:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                written = stream.write(view)
                view = view[written:]


def atomic_write(path: Path, data: bytes, *, mtime_ns: int | None = None) -> None:
    """Replace `path` with `data` in one step (temp file in the same directory + os.replace),
    optionally stamped with a modification time."""
    fd, temp = temp_file(path.parent, path.name)
    try:
        write_chunks(fd, [data])
        if mtime_ns is not None:
            os.utime(temp, ns=(mtime_ns, mtime_ns))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def publish_once(temp: Path, path: Path) -> bool:
    """Give `temp` the name `path` unless a file already holds it; True if `temp` won.

    A hard link fails when the name exists, so two processes publishing the same blob never
    overwrite each other. Where hard links are unsupported, fall back to os.replace.
    """
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    except OSError:
        os.replace(temp, path)
        return True
    return True


@contextlib.contextmanager
def store_lock(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the store lock at `path`: shared for saves, exclusive for garbage collection."""
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock
