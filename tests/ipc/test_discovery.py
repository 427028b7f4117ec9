"""daemon.json: written atomically and privately, ignored when stale or damaged."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ghostrun.ipc import (
    DaemonInfo,
    daemon_info_path,
    read_daemon_info,
    remove_daemon_info,
    write_daemon_info,
)

INFO = DaemonInfo(os.getpid(), "0.1.0", "ipc:///x/control.sock", "ipc:///x/events.sock")


def test_round_trip_and_private_mode(tmp_path: Path) -> None:
    write_daemon_info(tmp_path, INFO)
    assert read_daemon_info(tmp_path) == INFO
    path = daemon_info_path(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "pid": INFO.pid,
        "version": "0.1.0",
        "control": INFO.control,
        "events": INFO.events,
    }
    assert [p.name for p in tmp_path.iterdir()] == ["daemon.json"]  # no temp file left


def test_missing_file_means_no_daemon(tmp_path: Path) -> None:
    assert read_daemon_info(tmp_path) is None
    assert read_daemon_info(tmp_path / "absent") is None


def test_readers_never_see_half_a_file(tmp_path: Path) -> None:
    other = DaemonInfo(os.getpid(), "9" * 5000, INFO.control, INFO.events)
    write_daemon_info(tmp_path, INFO)
    done = threading.Event()
    seen: list[DaemonInfo | None] = []

    def read() -> None:
        while not done.is_set():
            seen.append(read_daemon_info(tmp_path))

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(300):
        write_daemon_info(tmp_path, other if i % 2 else INFO)
    done.set()
    reader.join(10)
    assert seen and all(info in (INFO, other) for info in seen)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def test_a_killed_daemons_file_is_stale(tmp_path: Path) -> None:
    write_daemon_info(tmp_path, DaemonInfo(_dead_pid(), "0.1.0", INFO.control, INFO.events))
    assert read_daemon_info(tmp_path) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombies are seen via /proc")
def test_an_unreaped_dead_daemon_is_stale(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, left a zombie
        write_daemon_info(tmp_path, DaemonInfo(child.pid, "0.1.0", INFO.control, INFO.events))
        assert read_daemon_info(tmp_path) is None
    finally:
        child.wait(30)


MALFORMED = {
    "empty": b"",
    "not json": b"{pid: 1",
    "not utf8": b"\xff\xfe",
    "array": b"[1, 2]",
    "no pid": b'{"version": "1", "control": "ipc:///a", "events": "ipc:///b"}',
    "pid str": b'{"pid": "1", "version": "1", "control": "ipc:///a", "events": "ipc:///b"}',
    "pid bool": b'{"pid": true, "version": "1", "control": "ipc:///a", "events": "ipc:///b"}',
    "pid zero": b'{"pid": 0, "version": "1", "control": "ipc:///a", "events": "ipc:///b"}',
    "pid huge": b'{"pid": 1e400, "version": "1", "control": "ipc:///a", "events": "ipc:///b"}',
    "no events": b'{"pid": %d, "version": "1", "control": "ipc:///a"}' % os.getpid(),
    "empty control": b'{"pid": %d, "version": "1", "control": "", "events": "e"}' % os.getpid(),
    "huge": b'{"pid": %d, "version": "%s"}' % (os.getpid(), b"x" * 200_000),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_damaged_file_means_no_daemon(tmp_path: Path, raw: bytes) -> None:
    daemon_info_path(tmp_path).write_bytes(raw)
    assert read_daemon_info(tmp_path) is None


def test_a_folder_in_place_of_the_file_means_no_daemon(tmp_path: Path) -> None:
    daemon_info_path(tmp_path).mkdir()
    assert read_daemon_info(tmp_path) is None


def test_remove_only_while_the_file_names_our_pid(tmp_path: Path) -> None:
    write_daemon_info(tmp_path, INFO)
    remove_daemon_info(tmp_path, pid=INFO.pid + 1)
    assert read_daemon_info(tmp_path) == INFO
    remove_daemon_info(tmp_path, pid=INFO.pid)
    assert not daemon_info_path(tmp_path).exists()
    remove_daemon_info(tmp_path)  # already gone: nothing to do
    write_daemon_info(tmp_path, INFO)
    remove_daemon_info(tmp_path)
    assert not daemon_info_path(tmp_path).exists()
