"""The real daemon against hostile and crowded clients; only its owner gets in."""

from __future__ import annotations

import json
import os
import random
import socket
import threading

import pytest
import zmq

from ghostrun.ipc import read_daemon_info
from tests.daemon.harness import DaemonHarness


def test_a_thousand_malformed_messages_leave_it_answering(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    info = read_daemon_info(daemon.state_dir)
    assert info is not None
    rng = random.Random(7)
    bad: list[list[bytes]] = [
        [b"not json"], [b"[1, 2]"], [b"\xff\xfe"], [b'{"v": 9, "id": "x", "cmd": "status"}'],
        [b'{"v": 1, "id": "x", "cmd": "rm -rf"}'], [b'{"v": 1, "id": 5, "cmd": "status"}'],
        [b'{"v": 1, "id": "x", "cmd": "history", "args": {"limit": "all"}}'],
        [b'{"v": 1, "id": "x", "cmd": "run", "args": {"mode": "warp"}}'],
        [b"{}", b"{}"], [b"x" * (2 * 2**20)],
    ]
    with zmq.Context() as ctx:
        dealer = ctx.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(info.control)
        for i in range(1000):
            frames = bad[i % len(bad)] if i % 3 else [rng.randbytes(rng.randint(1, 300))]
            dealer.send_multipart(frames)
        replies = 0
        while dealer.poll(2000):
            reply = json.loads(dealer.recv_multipart()[-1])
            assert reply["ok"] is False and reply["error"]["code"]
            replies += 1
        assert replies >= 900  # each answered with an error, or dropped
        dealer.close()
    with daemon.client() as client:
        assert client.request("status")["pid"] == daemon.pid


def test_fifty_clients_at_once(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    answers: list[int] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            with daemon.client(timeout=30) as client:
                for _ in range(5):
                    answers.append(client.request("status")["pid"])
                client.request("history", {"limit": 5})
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and answers == [daemon.pid] * 250


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_connect(daemon: DaemonHarness) -> None:
    daemon.up("--idle-after", "600")
    info = read_daemon_info(daemon.state_dir)
    assert info is not None
    path = info.control.removeprefix("ipc://")
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit code only
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)  # nobody
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(path)
            code = 0
        except PermissionError:
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 3
