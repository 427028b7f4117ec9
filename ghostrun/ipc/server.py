"""The daemon's side of the IPC contract: a ROUTER answering requests, a PUB for events."""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import zmq

from ghostrun.ipc.endpoints import Endpoints, ipc_path, private_dir
from ghostrun.ipc.errors import IpcError, ProtocolError, RequestError
from ghostrun.ipc.protocol import (
    BAD_REQUEST,
    INTERNAL,
    Request,
    encode_error,
    encode_event,
    encode_reply,
    parse_request,
)

# libzmq drops the connection of a peer that sends a frame above this, before it is
# buffered; frames between MAX_REQUEST_BYTES and this get a `too_large` reply instead.
HARD_MAX_MESSAGE_BYTES = 16 << 20
POLL_INTERVAL_MS = 50
_BATCH = 100  # requests answered per wake-up before `stop` is looked at again
_PUB_LINGER_MS = 100  # lets a last `daemon.state` leave on close, without hanging it

Handler = Callable[[Request], Any]


class ControlServer:
    """Binds the control and event sockets safely, answers every request, publishes events.

    Every message gets an answer or is dropped; none ends the loop. Malformed, oversized
    or unknown requests get an error reply; a handler's `RequestError` becomes an error
    reply with its code; any other exception an `internal` one (and a log entry).

    Threading. `serve` owns the ROUTER and calls the handler in its own thread, one request
    at a time, so a handler must return within milliseconds: it should start long work (a
    run, an exploration) elsewhere and reply at once, or every other client waits and
    times out. `publish` may be called from any thread, the handler's included: it takes a
    lock around the PUB socket instead of forwarding through an inproc PUSH→PULL pair,
    because a non-blocking PUB send never waits (a subscriber that falls a whole
    high-water mark behind loses events instead), so the lock is held for microseconds;
    libzmq lets a socket change threads across a full memory barrier, which the lock is;
    and there is no per-thread PUSH socket to create and leak, nor an extra hop.
    """

    def __init__(
        self,
        endpoints: Endpoints,
        handler: Handler,
        *,
        log: logging.Logger | None = None,
        max_message_bytes: int = HARD_MAX_MESSAGE_BYTES,
    ):
        self.endpoints = endpoints
        self._handler = handler
        self._log = log or logging.getLogger(__name__)
        self._max_message_bytes = max_message_bytes
        self._ctx: zmq.Context[zmq.Socket[bytes]] | None = None
        self._router: zmq.Socket[bytes] | None = None
        self._pub: zmq.Socket[bytes] | None = None
        self._bound: list[Path] = []
        self._pub_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._serving = False

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Bind both sockets; IpcError when they cannot be bound safely."""
        if self._ctx is not None:
            raise RuntimeError("ControlServer.start() called twice")
        for folder in {path.parent for path in self.endpoints.paths()}:
            private_dir(folder)
        for path in self.endpoints.paths():
            _remove_stale_socket(path)
        self._ctx = zmq.Context()
        try:
            router = self._ctx.socket(zmq.ROUTER)
            router.setsockopt(zmq.LINGER, 0)
            router.setsockopt(zmq.MAXMSGSIZE, self._max_message_bytes)
            self._bind(router, self.endpoints.control)
            self._router = router
            pub = self._ctx.socket(zmq.PUB)
            pub.setsockopt(zmq.LINGER, _PUB_LINGER_MS)
            self._bind(pub, self.endpoints.events)
            with self._pub_lock:
                self._pub = pub
        except BaseException:
            self.close()
            raise

    def _bind(self, sock: zmq.Socket[bytes], endpoint: str) -> None:
        try:
            sock.bind(endpoint)
        except zmq.ZMQError as exc:
            sock.close(linger=0)
            raise IpcError(f"cannot listen on {endpoint}: {exc}") from exc
        path = ipc_path(endpoint)
        if path is not None:
            self._bound.append(path)
            os.chmod(path, 0o600)

    def serve(self, stop: threading.Event) -> None:
        """Answer requests in this thread until `stop` is set (noticed within ~50 ms)."""
        router = self._router
        if router is None:
            raise RuntimeError("ControlServer.serve() before start()")
        with self._state_lock:
            if self._serving:
                raise RuntimeError("ControlServer.serve() is already running")
            self._serving = True
        try:
            poller = zmq.Poller()
            poller.register(router, zmq.POLLIN)
            while not stop.is_set():
                if poller.poll(POLL_INTERVAL_MS):
                    self._drain(router)
        finally:
            with self._state_lock:
                self._serving = False

    def _drain(self, router: zmq.Socket[bytes]) -> None:
        for _ in range(_BATCH):
            try:
                frames = router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            self._answer(router, frames)

    def _answer(self, router: zmq.Socket[bytes], frames: list[bytes]) -> None:
        """Reply with the envelope the request came in: REQ adds an empty delimiter frame
        after the identity, DEALER does not."""
        envelope, content = frames[:1], frames[1:]
        if content and content[0] == b"":
            envelope, content = frames[:2], frames[2:]
        reply = self._reply_for(content)
        try:
            router.send_multipart([*envelope, reply], zmq.NOBLOCK)
        except zmq.ZMQError as exc:  # the client left, or stopped reading
            self._log.debug("reply dropped: %s", exc)

    def _reply_for(self, content: list[bytes]) -> bytes:
        if len(content) != 1:
            return encode_error(
                None, BAD_REQUEST, f"a request is one frame of JSON, not {len(content)} frames"
            )
        try:
            request = parse_request(content[0])
        except ProtocolError as exc:
            self._log.debug("bad request (%s): %s", exc.code, exc.message)
            return encode_error(exc.request_id, exc.code, exc.message)
        return self._handle(request)

    def _handle(self, request: Request) -> bytes:
        try:
            return encode_reply(request.id, self._handler(request))
        except RequestError as exc:
            return encode_error(request.id, exc.code, exc.message)
        except Exception as exc:
            self._log.exception("request %r (%s) failed", request.cmd, request.id)
            message = f"the daemon failed on '{request.cmd}': {type(exc).__name__}: {exc}"
            return encode_error(request.id, INTERNAL, message[:2000])

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Send an event to every subscriber; from any thread. ValueError for an unknown
        topic. Before start() or after close() the event goes nowhere."""
        frames = encode_event(topic, payload)
        with self._pub_lock:
            if self._pub is None:
                return
            try:
                self._pub.send_multipart(frames, zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                self._log.debug("event %s dropped: %s", topic, exc)

    def close(self) -> None:
        """Close the sockets and remove their files; call it after serve() has returned."""
        with self._state_lock:
            if self._serving:
                raise RuntimeError("ControlServer.close() while serve() runs: set its stop first")
        with self._pub_lock:
            pub, self._pub = self._pub, None
        router, self._router = self._router, None
        if router is not None:
            router.close(linger=0)
        if pub is not None:
            pub.close()
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None
        for path in self._bound:
            _remove_socket_file(path)
        self._bound.clear()


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket file left by a daemon that died, never a live one or a plain file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise IpcError(f"{path} exists and is not a socket; move it away and try again")
    if _listening(path):
        raise IpcError(
            f"another process is listening on {path}; is a ghostrun daemon already running "
            "for this project? (`ghostrun down` stops it)"
        )
    _remove_socket_file(path)


def _listening(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _remove_socket_file(path: Path) -> None:
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
