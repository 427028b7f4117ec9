"""Is the process that started a run still alive?

A pid alone is not enough: after a reboot or a long time the same pid belongs to another
process, and a run would stay 'running' forever. On Linux a run also records a token (boot
id and the process's start time); elsewhere the pid check is all there is. A zombie (dead,
not yet reaped by its parent) counts as dead.
"""

from __future__ import annotations

import os
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def process_token(pid: int) -> str | None:
    """Identifies one process across pid reuse, or None where the OS does not tell."""
    fields = _stat_fields(pid)
    try:
        boot = _BOOT_ID.read_text().strip()
    except OSError:
        return None
    if fields is None or len(fields) < 20:
        return None
    return f"{boot}:{fields[19]}"


def is_alive(pid: int | None, token: str | None) -> bool:
    """True unless we can tell that process `pid` (with `token`) has ended."""
    if pid is None:
        return False
    if pid == os.getpid():
        return token is None or token == process_token(pid)
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    fields = _stat_fields(pid)
    if fields is not None and fields[:1] in (["Z"], ["X"]):
        return False
    current = process_token(pid)
    return token is None or current is None or current == token
