"""Starting the daemon in the background and stopping it, for `ghostrun up` / `down`.

`start` returns only once the daemon is ready (its `daemon.json` names its endpoints), or
raises with the daemon's own last words when it could not start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from ghostrun.daemon.lock import AlreadyRunning, holder
from ghostrun.errors import GhostrunError
from ghostrun.ipc import Client, DaemonInfo, DaemonUnavailable, read_daemon_info
from ghostrun.project import Project

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def daemon_command(
    project: Project, overrides: Mapping[str, Any], *, foreground: bool
) -> list[str]:
    command = [sys.executable, "-m", "ghostrun.daemon", "--project", str(project.root),
               "--overrides", json.dumps(dict(overrides))]
    return command + ["--foreground"] if foreground else command


def start(project: Project, overrides: Mapping[str, Any] | None = None) -> DaemonInfo:
    """Start a daemon for `project` in the background; AlreadyRunning if one is."""
    state = project.ensure_state_dir()
    pid = holder(project.pid_path)
    if pid is not None:
        raise AlreadyRunning(pid)
    output = state / "daemon.out"
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            daemon_command(project, overrides or {}, foreground=False),
            stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            cwd=project.root, start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        info = read_daemon_info(state)
        if info is not None and info.pid == process.pid:
            return info
        code = process.poll()
        if code is not None:
            last = _tail(output)
            if "already running" in last:
                raise AlreadyRunning(holder(project.pid_path))
            raise GhostrunError(f"the daemon exited while starting (code {code}):\n{last}")
        time.sleep(0.05)
    process.kill()
    raise GhostrunError(f"the daemon did not become ready within {START_TIMEOUT:.0f} s; "
                        f"see {project.log_path}")


def run_foreground(project: Project, overrides: Mapping[str, Any] | None = None) -> int:
    """Run the daemon in this process, logging to the terminal, until stopped."""
    from ghostrun.daemon.logs import configure
    from ghostrun.daemon.service import Daemon

    project.ensure_state_dir()
    pid = holder(project.pid_path)
    if pid is not None:
        raise AlreadyRunning(pid)
    configure(project.log_path, foreground=True)
    Daemon(project, dict(overrides or {})).run()
    return 0


def stop(project: Project, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the project's daemon gracefully (then SIGTERM, then SIGKILL); returns its pid,
    or None when none was running."""
    pid = holder(project.pid_path)
    if pid is None:
        return None
    try:
        with Client(project.state_dir, timeout=5.0) as client:
            client.request("stop")
    except (DaemonUnavailable, GhostrunError):
        if pid:
            _signal(pid, signal.SIGTERM)
    if _wait_released(project, timeout):
        return pid
    if pid:
        _signal(pid, signal.SIGKILL)
        _wait_released(project, 5.0)
    return pid


def _wait_released(project: Project, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holder(project.pid_path) is None:
            return True
        time.sleep(0.05)
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _tail(path: os.PathLike[str], lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""
