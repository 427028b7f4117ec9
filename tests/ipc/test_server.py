"""The server against real sockets: REQ and DEALER peers, garbage, failures, file modes."""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from ghostrun.ipc import (
    Client,
    ControlServer,
    DaemonError,
    IpcError,
    encode_request,
    endpoints_for,
)
from tests.ipc.conftest import Daemon, serve

WAIT_MS = 10_000


class Peers:
    """Raw ZMQ sockets speaking to the server, closed after the test."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        self.sockets: list[zmq.Socket] = []

    def close(self) -> None:
        for sock in self.sockets:
            sock.close(linger=0)
        self.context.term()


@pytest.fixture
def ctx() -> Iterator[Peers]:
    peers = Peers()
    yield peers
    peers.close()


def _peer(ctx: Peers, kind: int, daemon: Daemon) -> zmq.Socket:
    sock = ctx.context.socket(kind)
    ctx.sockets.append(sock)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(daemon.server.endpoints.control)
    return sock


def _reply(sock: zmq.Socket) -> list[bytes]:
    assert sock.poll(WAIT_MS), "no reply"
    return sock.recv_multipart()


def test_req_client_gets_a_reply(ctx: Peers, daemon: Daemon) -> None:
    req = _peer(ctx, zmq.REQ, daemon)
    req.send(encode_request("q1", "history", {"limit": 3}))
    [frame] = _reply(req)
    assert json.loads(frame) == {
        "v": 1,
        "id": "q1",
        "ok": True,
        "result": {"cmd": "history", "args": {"limit": 3}},
    }


def test_dealer_client_gets_a_reply_in_its_envelope(ctx: Peers, daemon: Daemon) -> None:
    dealer = _peer(ctx, zmq.DEALER, daemon)
    dealer.send(encode_request("d1", "status"))
    [frame] = _reply(dealer)
    assert json.loads(frame)["result"]["state"] == "idle"
    dealer.send_multipart([b"", encode_request("d2", "status")])  # REQ-style over DEALER
    empty, frame = _reply(dealer)
    assert empty == b"" and json.loads(frame)["id"] == "d2"


def _error(frames: list[bytes]) -> dict:
    body = json.loads(frames[-1])
    assert body["ok"] is False and body["v"] == 1
    return body


def test_handler_errors_become_error_replies(daemon: Daemon) -> None:
    with Client(daemon.state_dir) as client:
        with pytest.raises(DaemonError) as refused:
            client.request("pause")
        assert refused.value.code == "not_running"
        with pytest.raises(DaemonError) as crashed:
            client.request("stop")
        assert crashed.value.code == "internal" and "ZeroDivisionError" in crashed.value.message
        assert client.request("status")["state"] == "idle"  # the loop lives on


def test_results_with_numpy_nan_or_odd_objects_are_sent(daemon: Daemon) -> None:
    with Client(daemon.state_dir) as client:
        assert client.request("suggest") == {"auc": 0.873, "n": 3, "delta": None}
        assert client.request("explore").startswith("<object object")


def test_multipart_requests_are_refused(ctx: Peers, daemon: Daemon) -> None:
    dealer = _peer(ctx, zmq.DEALER, daemon)
    dealer.send_multipart([encode_request("m", "status"), b"{}"])
    body = _error(_reply(dealer))
    assert body["error"]["code"] == "bad_request" and body["id"] is None
    req = _peer(ctx, zmq.REQ, daemon)
    req.send_multipart([encode_request("m", "status"), b"more"])
    assert _error(_reply(req))["error"]["code"] == "bad_request"


def _garbage(rng: random.Random, i: int) -> list[bytes]:
    kind = i % 8
    if kind == 0:
        return [rng.randbytes(rng.randrange(0, 300))]
    if kind == 1:
        return [b"{not json" + rng.randbytes(10)]
    if kind == 2:
        return [
            json.dumps({"v": rng.choice([0, 2, "1", None]), "id": "x", "cmd": "status"}).encode()
        ]
    if kind == 3:
        return [encode_request(f"u{i}", "status")[:-1] + b',"cmd":"format_disk"}']
    if kind == 4:
        return [rng.randbytes(20) for _ in range(rng.randrange(2, 5))]
    if kind == 5:
        return [b"[" * rng.randrange(1, 100_000)]
    if kind == 6:
        return [json.dumps([1, {"v": 1}]).encode()]
    return [b""]


def test_a_thousand_bad_messages_then_a_good_one(ctx: Peers, daemon: Daemon) -> None:
    rng = random.Random(7)
    dealer = _peer(ctx, zmq.DEALER, daemon)
    dealer.send(b" " * (2 << 20))  # 2 MiB: above the protocol limit, below the hard cap
    body = _error(_reply(dealer))
    assert body["error"]["code"] == "too_large"
    for i in range(1000):
        dealer.send_multipart(_garbage(rng, i))
    answered = 0
    while dealer.poll(2000):
        body = _error(dealer.recv_multipart())
        assert body["error"]["code"] in {"bad_request", "unsupported_version", "unknown_command"}
        answered += 1
        if answered == 1000:
            break
    assert answered == 1000
    dealer.send(encode_request("after", "status"))
    assert json.loads(_reply(dealer)[-1])["id"] == "after"


def test_a_frame_above_the_hard_cap_is_dropped_and_the_server_lives(
    ctx: Peers, state_dir: Path
) -> None:
    for daemon in serve(state_dir, max_message_bytes=2 << 20):
        rogue = _peer(ctx, zmq.DEALER, daemon)
        rogue.send(b"x" * (3 << 20))
        assert not rogue.poll(500)  # no reply: libzmq dropped the peer
        with Client(state_dir) as client:
            assert client.request("status")["state"] == "idle"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_sockets_are_private_and_removed_on_close(state_dir: Path) -> None:
    os.chmod(state_dir, 0o755)
    paths = endpoints_for(state_dir).paths()
    for daemon in serve(state_dir):
        assert {_mode(path) for path in paths} == {0o600}
        assert all(stat.S_ISSOCK(os.lstat(path).st_mode) for path in paths)
        assert {_mode(path.parent) for path in paths} == {0o700}
        assert daemon.server.endpoints.paths() == paths
    assert not any(path.exists() for path in paths)


def test_stale_socket_files_are_replaced(state_dir: Path) -> None:
    path = endpoints_for(state_dir).paths()[0]
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: what a SIGKILLed daemon leaves
    for daemon in serve(state_dir):
        with Client(daemon.state_dir) as client:
            assert client.request("status")["state"] == "idle"


def test_a_live_socket_is_never_taken_over(state_dir: Path) -> None:
    path = endpoints_for(state_dir).paths()[0]
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(path))
    live.listen()
    server = ControlServer(endpoints_for(state_dir), lambda request: None)
    try:
        with pytest.raises(IpcError, match="already running"):
            server.start()
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()
        live.close()


def test_a_plain_file_in_the_way_is_not_deleted(state_dir: Path) -> None:
    path = endpoints_for(state_dir).paths()[1]
    path.write_text("notes")
    with pytest.raises(IpcError, match="not a socket"):
        ControlServer(endpoints_for(state_dir), lambda request: None).start()
    assert path.read_text() == "notes"


def test_serve_returns_once_stop_is_set(state_dir: Path) -> None:
    server = ControlServer(endpoints_for(state_dir), lambda request: None)
    server.start()
    stop = threading.Event()
    thread = threading.Thread(target=server.serve, args=(stop,))
    thread.start()
    with pytest.raises(RuntimeError):
        server.close()  # still serving
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    server.close()
    server.publish("daemon.state", {"state": "stopped"})  # after close: goes nowhere


def test_publishing_an_unknown_topic_raises(daemon: Daemon) -> None:
    with pytest.raises(ValueError):
        daemon.server.publish("run.teleported", {})
