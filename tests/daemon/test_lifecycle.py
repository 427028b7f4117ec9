"""Starting, stopping and restarting the daemon as a user does, through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

from ghostrun.ipc import ipc_path, read_daemon_info
from tests.daemon.harness import WAIT, DaemonHarness, cli, finished_run, wait_for


def test_up_status_down(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    info = read_daemon_info(daemon.state_dir)
    assert info is not None and info.pid == daemon.pid
    second = cli(daemon.root, "up", check=False)
    assert second.returncode == 2 and "already running" in second.stderr
    status = json.loads(cli(daemon.root, "status", "--json").stdout)
    assert status["pid"] == info.pid and status["state"] in ("ready", "running")
    daemon.down()
    assert daemon.pid is None and read_daemon_info(daemon.state_dir) is None
    assert json.loads(cli(daemon.root, "status", "--json").stdout)["state"] == "stopped"
    assert "No ghostrun daemon" in cli(daemon.root, "down").stdout


def test_state_and_sockets_are_private(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    info = read_daemon_info(daemon.state_dir)
    assert info is not None
    assert stat.S_IMODE(daemon.state_dir.stat().st_mode) == 0o700
    for endpoint in (info.control, info.events):
        path = ipc_path(endpoint)
        assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sigterm_stops_it_gracefully(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    pid = daemon.pid
    assert pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + WAIT
    while daemon.pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert daemon.pid is None and read_daemon_info(daemon.state_dir) is None
    assert "stopped" in (daemon.state_dir / "daemon.log").read_text()


def test_killed_mid_run_restarts_cleanly(daemon: DaemonHarness) -> None:
    slow = 'import time; time.sleep(30)\n    return raw["y"]'
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        assert finished_run(stream)["topic"] == "run.finished"
        daemon.edit("pipeline.py", 'return raw["y"]', slow)
        wait_for(stream, "run.started")
    daemon.kill()  # SIGKILL while the slow run is in progress
    assert read_daemon_info(daemon.state_dir) is None  # the stale file is not believed
    daemon.edit("pipeline.py", slow, 'return raw["y"]')
    daemon.up("--idle-after", "600")
    with daemon.events() as stream:
        ended = finished_run(stream)
    assert ended["topic"] == "run.finished"
    history = json.loads(cli(daemon.root, "history", "--json").stdout)["runs"]
    statuses = [r["status"] for r in history]
    assert "interrupted" in statuses and statuses[0] == "ok"
    # the next result is the one a fresh project computes from scratch
    fresh = daemon.root.parent / "fresh"
    fresh.mkdir()
    for name in ("pyproject.toml", "pipeline.py", "helpers.py"):
        (fresh / name).write_text((daemon.root / name).read_text())
    (fresh / "data").mkdir()
    (fresh / "data" / "table.csv").write_bytes((daemon.root / "data" / "table.csv").read_bytes())
    scratch = json.loads(cli(fresh, "run", "--full", "--json").stdout)
    assert ended["metrics"] == scratch["metrics"]
