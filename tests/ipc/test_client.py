"""Clients and event streams against a real server: concurrency, timeouts, events."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from ghostrun.ipc import (
    ANNOUNCE,
    Client,
    DaemonInfo,
    DaemonUnavailable,
    endpoints_for,
    write_daemon_info,
)
from tests.ipc.conftest import Daemon

GENEROUS = 30.0  # seconds: a bound for waits, never a performance assertion


def test_fifty_concurrent_clients_each_get_their_own_answers(daemon: Daemon) -> None:
    errors: list[BaseException] = []
    results: dict[int, list[object]] = {}

    def work(n: int) -> None:
        try:
            with Client(daemon.state_dir, timeout=GENEROUS) as client:
                results[n] = [client.request("history", {"n": n, "i": i}) for i in range(10)]
        except BaseException as exc:  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS * 2)
    assert not errors
    assert sorted(results) == list(range(50))
    for n, answers in results.items():
        assert answers == [{"cmd": "history", "args": {"n": n, "i": i}} for i in range(10)]


def test_no_daemon_file_means_unavailable(state_dir: Path) -> None:
    with pytest.raises(DaemonUnavailable, match="ghostrun up"):
        Client(state_dir)


def test_a_dead_endpoint_times_out_promptly(state_dir: Path) -> None:
    endpoints = endpoints_for(state_dir)  # nobody bound: no socket file
    write_daemon_info(state_dir, DaemonInfo(os.getpid(), "t", endpoints.control, endpoints.events))
    with Client(state_dir, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(DaemonUnavailable, match="did not answer 'status' within 0.2 s"):
            client.request("status")
        with pytest.raises(DaemonUnavailable):
            client.request("status", timeout=0.1)
        assert time.monotonic() - started < GENEROUS / 3  # bounded by the timeouts, not hung


def test_a_late_reply_is_not_taken_for_the_next_ones(daemon: Daemon) -> None:
    with Client(daemon.state_dir, timeout=GENEROUS) as client:
        with pytest.raises(DaemonUnavailable):
            client.request("resume", {"slow": True}, timeout=0.2)  # the handler waits
        daemon.gate.set()
        assert client.request("history", {"after": 1}) == {
            "cmd": "history",
            "args": {"after": 1},
        }


def test_a_client_in_another_process(daemon: Daemon) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from ghostrun.ipc import Client
        with Client(Path({str(daemon.state_dir)!r}), timeout=20) as client:
            print(client.request("history", {{"from": "child"}})["args"]["from"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=GENEROUS * 2
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "child"


def _publish_in_thread(daemon: Daemon, events: list[tuple[str, dict]]) -> threading.Thread:
    def publish() -> None:
        for topic, payload in events:
            daemon.server.publish(topic, payload)

    thread = threading.Thread(target=publish)
    thread.start()
    return thread


def test_stream_receives_every_event_in_order_after_the_handshake(daemon: Daemon) -> None:
    sent = [("run.stage", {"run_id": 1, "version_id": 2, "stage": i}) for i in range(500)]
    sent.append(("run.finished", {"run_id": 1, "version_id": 2}))
    with Client(daemon.state_dir) as client, client.events() as stream:
        _publish_in_thread(daemon, sent).join(GENEROUS)
        received = []
        while len(received) < len(sent):
            event = stream.next(timeout=GENEROUS)
            assert event is not None, f"only {len(received)} of {len(sent)} events arrived"
            received.append(event)
    assert [(t, {k: v for k, v in p.items() if k != "time"}) for t, p in received] == sent
    assert all(isinstance(p["time"], float) for _, p in received)


def test_stream_yields_only_its_topics_and_never_handshakes(daemon: Daemon) -> None:
    with Client(daemon.state_dir) as client, client.events(["run.finished"]) as stream:
        with client.events(["daemon.state"]) as states:
            daemon.server.publish("run.stage", {"run_id": 1})
            daemon.server.publish("daemon.state", {"state": "busy"})
            daemon.server.publish("run.finished", {"run_id": 1})
            topic, payload = states.next(timeout=GENEROUS)
            assert (topic, payload["state"]) == ("daemon.state", "busy")
            assert states.next(timeout=0.3) is None
        assert stream.next(timeout=GENEROUS)[0] == "run.finished"
        assert stream.next(timeout=0.3) is None
    announces = [r for r in daemon.seen if ANNOUNCE in r.args]
    assert len(announces) >= 2  # both streams shook hands


def test_iterating_a_stream(daemon: Daemon) -> None:
    with Client(daemon.state_dir) as client, client.events(["explore.result"]) as stream:
        _publish_in_thread(daemon, [("explore.result", {"rank": i}) for i in range(3)])
        ranks = []
        for _, payload in stream:
            ranks.append(payload["rank"])
            if len(ranks) == 3:
                break
    assert ranks == [0, 1, 2]


def test_stream_without_an_event_socket_gives_up(daemon: Daemon, state_dir: Path) -> None:
    info = DaemonInfo(os.getpid(), "t", daemon.server.endpoints.control, "ipc:///nonexistent/e")
    write_daemon_info(state_dir, info)
    with Client(state_dir) as client:
        with pytest.raises(DaemonUnavailable, match="sent no event"):
            client.events(handshake_timeout=0.5)
        assert client.request("status")["state"] == "idle"


def test_unknown_topics_are_refused(daemon: Daemon) -> None:
    with Client(daemon.state_dir) as client, pytest.raises(ValueError):
        client.events(["run.teleported"])
