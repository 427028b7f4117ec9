"""A real ControlServer on a thread, with a small handler, and the state dir it serves."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ghostrun.ipc import (
    ANNOUNCE,
    ControlServer,
    DaemonInfo,
    Request,
    RequestError,
    announce_token,
    endpoints_for,
    remove_daemon_info,
    write_daemon_info,
)


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private XDG_RUNTIME_DIR, so fallback sockets never land in the real one."""
    folder = Path(tempfile.mkdtemp(prefix="grx-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def state_dir(tmp_path: Path, runtime_dir: Path) -> Path:
    folder = tmp_path / ".ghostrun"
    folder.mkdir(mode=0o700)
    return folder


@dataclass
class Daemon:
    """What a test needs of the served daemon: its server, state dir and request log."""

    server: ControlServer
    state_dir: Path
    seen: list[Request] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)


def _handler(daemon: Daemon) -> Callable[[Request], Any]:
    def handle(request: Request) -> Any:
        daemon.seen.append(request)
        if request.cmd == "status":
            token = announce_token(request)
            if token is not None:
                daemon.server.publish("daemon.state", {"state": "idle", ANNOUNCE: token})
            return {"state": "idle", "args": request.args}
        if request.cmd == "pause":
            raise RequestError("not_running", "nothing to pause")
        if request.cmd == "stop":
            raise ZeroDivisionError("handler bug")
        if request.cmd == "suggest":
            return {"auc": np.float64(0.873), "n": np.int64(3), "delta": math.nan}
        if request.cmd == "explore":
            return object()  # not JSON: encoded as its str, never a crash
        if request.cmd == "resume":
            daemon.gate.wait(10)  # a slow handler, released by the test
        return {"cmd": request.cmd, "args": request.args}

    return handle


def serve(state_dir: Path, **options: Any) -> Iterator[Daemon]:
    """Start a server for `state_dir` on a thread, publish daemon.json, stop it after."""
    server = ControlServer(endpoints_for(state_dir), lambda r: handle(r), **options)
    daemon = Daemon(server, state_dir)
    handle = _handler(daemon)
    server.start()
    stop = threading.Event()
    thread = threading.Thread(target=server.serve, args=(stop,), daemon=True)
    thread.start()
    info = DaemonInfo(os.getpid(), "test", server.endpoints.control, server.endpoints.events)
    write_daemon_info(state_dir, info)
    try:
        yield daemon
    finally:
        daemon.gate.set()
        stop.set()
        thread.join(10)
        server.close()
        remove_daemon_info(state_dir)


@pytest.fixture
def daemon(state_dir: Path) -> Iterator[Daemon]:
    yield from serve(state_dir)
