"""One daemon per project: an exclusive lock on `.ghostrun/daemon.pid`.

The lock is an `flock` held for the daemon's whole life, so the kernel releases it when
the process dies however it dies (SIGKILL included): a pid file left by a killed daemon
is never mistaken for a running one, and nothing has to guess from pids.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ghostrun.errors import GhostrunError


class AlreadyRunning(GhostrunError):
    """Another daemon holds this project's lock."""

    def __init__(self, pid: int | None):
        self.pid = pid
        where = f" (pid {pid})" if pid else ""
        super().__init__(
            f"a ghostrun daemon is already running for this project{where}; "
            "`ghostrun status` shows what it is doing, `ghostrun down` stops it."
        )


class PidLock:
    """Holds the project's daemon lock; writes our pid into the file once it is ours."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(holder(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> PidLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: Path) -> int | None:
    """The pid of the daemon holding the lock at `path`, or None when nobody holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
