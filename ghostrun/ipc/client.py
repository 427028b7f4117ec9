"""The client side of the IPC contract: requests to the project's daemon, and its events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import zmq

from ghostrun.ipc.discovery import DaemonInfo, read_daemon_info
from ghostrun.ipc.errors import DaemonError, DaemonUnavailable, ProtocolError
from ghostrun.ipc.protocol import decode_reply, encode_request
from ghostrun.ipc.stream import EventStream

NO_DAEMON = "no ghostrun daemon is running for this project; start one with `ghostrun up`"


class Client:
    """Asks the daemon of the project whose state is in `state_dir`.

    Not thread-safe (ZMQ sockets are not): one Client per thread. Each Client has its own
    zmq.Context, never the global one, so a forked or spawned process cannot inherit a
    context in use by its parent.
    """

    def __init__(self, state_dir: Path, timeout: float = 5.0):
        info = read_daemon_info(state_dir)
        if info is None:
            raise DaemonUnavailable(NO_DAEMON)
        self.info: DaemonInfo = info
        self.timeout = timeout
        self._ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._dealer = self._ctx.socket(zmq.DEALER)
        self._dealer.setsockopt(zmq.LINGER, 0)
        self._dealer.connect(info.control)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, cmd: str, args: Mapping[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        """The daemon's result for `cmd`; DaemonError when it answers with an error,
        DaemonUnavailable when it does not answer within `timeout` seconds."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        request_id = uuid.uuid4().hex
        self._send(encode_request(request_id, cmd, args), deadline, cmd, seconds)
        while True:
            frames = self._receive(deadline, cmd, seconds)
            try:
                reply = decode_reply(frames[-1])
            except ProtocolError:
                continue
            if reply.id != request_id:
                continue  # a late answer to a request that timed out earlier
            if reply.ok:
                return reply.result
            raise DaemonError(reply.code, reply.message)

    def _send(self, frame: bytes, deadline: float, cmd: str, seconds: float) -> None:
        while True:
            try:
                self._dealer.send(frame, zmq.NOBLOCK)
                return
            except zmq.Again:
                if not self._dealer.poll(_remaining_ms(deadline), zmq.POLLOUT):
                    raise DaemonUnavailable(self._silent(cmd, seconds)) from None

    def _receive(self, deadline: float, cmd: str, seconds: float) -> list[bytes]:
        while True:
            try:
                return self._dealer.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                if not self._dealer.poll(_remaining_ms(deadline), zmq.POLLIN):
                    raise DaemonUnavailable(self._silent(cmd, seconds)) from None

    def _silent(self, cmd: str, seconds: float) -> str:
        return (
            f"the ghostrun daemon (pid {self.info.pid}) did not answer '{cmd}' within "
            f"{seconds:g} s; it may be busy or hung: see .ghostrun/daemon.log, or restart it "
            "with `ghostrun down` then `ghostrun up`"
        )

    def events(self, topics: Sequence[str] = (), handshake_timeout: float = 5.0) -> EventStream:
        """A live stream of the daemon's events on `topics` (all when empty).

        Returns once the subscription is live: every event published after that arrives.
        """
        return EventStream(self._ctx, self.info.events, topics, self.request, handshake_timeout)

    def close(self) -> None:
        """Close this client and every stream it opened."""
        if not self._ctx.closed:
            self._ctx.destroy(linger=0)


def _remaining_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))
