"""One SQLite connection with explicit transactions, shared safely by threads.

Several processes (daemon, run workers, CLI) use the same file, so the database is in WAL
mode (readers never block the writer) with a busy timeout. Every write transaction starts
with BEGIN IMMEDIATE: it takes the write lock up front and waits for it, instead of failing
later when a read transaction tries to turn into a write one. A process killed at any
moment leaves either the whole transaction or none of it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from ghostrun.errors import HistoryError
from ghostrun.history.schema import Migration, migrate

BUSY_TIMEOUT = 10.0


def _explain(path: Path, exc: sqlite3.Error) -> HistoryError:
    """Turn an SQLite error into one sentence that says what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        hint = f"another ghostrun process held it for over {BUSY_TIMEOUT:g} s; try again"
    elif "not a database" in text or "malformed" in text:
        hint = "the file is damaged; move it away and ghostrun will start a new history"
    elif "full" in text:
        hint = "the disk is full; free some space and try again"
    else:
        hint = "see the message for details"
    return HistoryError(f"history database {path}: {text} ({hint}).")


def _create_private(path: Path) -> None:
    """Create the state directory (0700) and database file (0600) if missing.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


class Database:
    """Owns the connection: opening, pragmas, migrations, transactions, closing."""

    def __init__(self, path: Path, migrations: Sequence[Migration]) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._pid = os.getpid()
        try:
            _create_private(path)
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open history database {path}: {exc}.") from exc
        try:
            self._configure(self._conn)
            with self.write() as conn:
                migrate(conn, migrations, str(path))
        except BaseException:
            self.close()
            raise

    def _configure(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: still safe against crashes
            deadline = time.monotonic() + BUSY_TIMEOUT
            while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                    break  # a file system without WAL support keeps its mode; fine
                except sqlite3.OperationalError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        except sqlite3.Error as exc:
            raise _explain(self.path, exc) from exc

    def _checked(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"history database {self.path} is closed; open a new History.")
        if os.getpid() != self._pid:
            raise HistoryError(
                "this History was opened in another process (before a fork); "
                "open a new History in each process."
            )
        return self._conn

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._checked()
            try:
                conn.execute(begin)
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the original error says more; SQLite rolls back anyway
                if isinstance(exc, sqlite3.Error):
                    raise _explain(self.path, exc) from exc
                raise

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction: all of its statements are kept, or none."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: its queries see one consistent state of the database."""
        return self._transaction("BEGIN")

    def close(self) -> None:
        """Close the connection; later calls raise HistoryError. Safe to call twice."""
        with self._lock:
            if self._conn is not None and os.getpid() == self._pid:
                self._conn.close()
            self._conn = None
