"""`.ghostrun/daemon.json`: how clients find a running daemon (DESIGN §5, contract).

The daemon writes it once ready and removes it on the way out; a daemon killed with
SIGKILL leaves it behind, so readers check that the pid it names is still alive and
treat a stale or damaged file as "no daemon".
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DAEMON_FILE = "daemon.json"
_MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DaemonInfo:
    """What a client needs to reach the daemon."""

    pid: int
    version: str
    control: str
    events: str


def daemon_info_path(state_dir: Path) -> Path:
    return Path(state_dir) / DAEMON_FILE


def write_daemon_info(state_dir: Path, info: DaemonInfo) -> None:
    """Write daemon.json atomically (temp file + rename), mode 0600.

    A reader sees the old file or the new one, never half of one.
    """
    target = daemon_info_path(state_dir)
    fd, temp = tempfile.mkstemp(prefix=f".{DAEMON_FILE}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(info), out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)  # mkstemp already uses 0600; say it where it matters
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_daemon_info(state_dir: Path) -> DaemonInfo | None:
    """The running daemon's info; None when there is no file, it is damaged, or its
    process is gone."""
    info = _read(daemon_info_path(state_dir))
    if info is None or not pid_alive(info.pid):
        return None
    return info


def remove_daemon_info(state_dir: Path, pid: int | None = None) -> None:
    """Remove daemon.json; with `pid`, only while it still names that process, so a
    daemon shutting down never removes the file of the one that replaced it."""
    path = daemon_info_path(state_dir)
    if pid is not None:
        info = _read(path)
        if info is None or info.pid != pid:
            return
    path.unlink(missing_ok=True)


def _read(path: Path) -> DaemonInfo | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
        body = json.loads(raw.decode("utf-8")) if len(raw) <= _MAX_FILE_BYTES else None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    return _from_json(body)


def _from_json(body: Any) -> DaemonInfo | None:
    if not isinstance(body, dict):
        return None
    pid, version = body.get("pid"), body.get("version")
    control, events = body.get("control"), body.get("events")
    if type(pid) is not int or pid <= 0 or not isinstance(version, str):
        return None
    if not (isinstance(control, str) and control and isinstance(events, str) and events):
        return None
    return DaemonInfo(pid=pid, version=version, control=control, events=events)


def pid_alive(pid: int) -> bool:
    """False when process `pid` has ended (a zombie counts as ended)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: the pid was reused, our daemon is gone
    except OverflowError:
        return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc here (macOS): the kill check is all there is
    return text.rpartition(")")[2].split()[:1] in (["Z"], ["X"])
