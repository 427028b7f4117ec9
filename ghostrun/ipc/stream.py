"""A subscriber to the daemon's events that knows when its subscription is live.

PUB/SUB has the slow-joiner problem: events published before the subscription reaches
the publisher are lost, silently. So the stream does not return until it has proof:
it asks the daemon (a `status` request carrying a fresh token) to publish a
`daemon.state` event echoing that token, and repeats until one arrives. Such announce
events, its own and other clients', are never yielded.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import zmq

from ghostrun.ipc.errors import DaemonUnavailable, ProtocolError
from ghostrun.ipc.protocol import ANNOUNCE, EVENT_TOPICS, decode_event

Event = tuple[str, dict[str, Any]]
Requester = Callable[..., Any]

_STATE = "daemon.state"
_SLICE_S = 0.2  # longest single wait, so a blocked iteration still notices Ctrl-C and close


class EventStream:
    """Events from the daemon as (topic, payload), in the order it published them."""

    def __init__(
        self,
        ctx: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        topics: Sequence[str],
        request: Requester,
        handshake_timeout: float = 5.0,
    ):
        unknown = [t for t in topics if t not in EVENT_TOPICS]
        if unknown:
            raise ValueError(f"unknown event topics {unknown}; known: {', '.join(EVENT_TOPICS)}")
        self._wanted = frozenset(topics)
        self._pending: deque[Event] = deque()
        self._sub = ctx.socket(zmq.SUB)
        self._sub.setsockopt(zmq.LINGER, 0)
        self._sub.connect(endpoint)
        for prefix in self._prefixes():
            self._sub.setsockopt(zmq.SUBSCRIBE, prefix)
        try:
            self._handshake(request, handshake_timeout)
        except BaseException:
            self.close()
            raise
        if self._wanted and _STATE not in self._wanted:
            self._sub.setsockopt(zmq.UNSUBSCRIBE, _STATE.encode())

    def _prefixes(self) -> list[bytes]:
        if not self._wanted:
            return [b""]
        return [topic.encode() for topic in self._wanted | {_STATE}]

    def _handshake(self, request: Requester, timeout: float) -> None:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        wait = 0.005  # grows: quick when the subscription is live at once, gentle otherwise
        while time.monotonic() < deadline:
            remaining = deadline - time.monotonic()
            request("status", {ANNOUNCE: token}, timeout=max(0.0, remaining))
            if self._await_announce(token, min(deadline, time.monotonic() + wait)):
                return
            wait = min(wait * 2, 0.5)
        raise DaemonUnavailable(
            f"the ghostrun daemon answered but sent no event within {timeout:g} s; its event "
            "socket may be unreachable: restart it with `ghostrun down` then `ghostrun up`"
        )

    def _await_announce(self, token: str, until: float) -> bool:
        while True:
            event = self._receive(until)
            if event is None:
                return False
            topic, payload = event
            if topic == _STATE and payload.get(ANNOUNCE) == token:
                return True
            if self._is_wanted(topic, payload):
                self._pending.append(event)

    def _is_wanted(self, topic: str, payload: dict[str, Any]) -> bool:
        if topic == _STATE and ANNOUNCE in payload:
            return False
        return not self._wanted or topic in self._wanted

    def next(self, timeout: float | None) -> Event | None:
        """The next event, or None when none arrives within `timeout` seconds (None: wait
        until one does or the stream is closed)."""
        if self._pending:
            return self._pending.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.closed:
            event = self._receive(deadline)
            if event is None:
                return None
            if self._is_wanted(*event):
                return event
        return None

    def _receive(self, deadline: float | None) -> Event | None:
        """One decodable event, or None once `deadline` has passed or the stream closed."""
        while not self.closed:
            try:
                frames = self._sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                left = _SLICE_S if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return None
                self._sub.poll(int(min(left, _SLICE_S) * 1000) + 1, zmq.POLLIN)
                continue
            try:
                return decode_event(frames)
            except ProtocolError:
                continue
        return None

    def __iter__(self) -> Iterator[Event]:
        while not self.closed:
            event = self.next(_SLICE_S)
            if event is not None:
                yield event

    @property
    def closed(self) -> bool:
        return bool(self._sub.closed)

    def close(self) -> None:
        self._sub.close(linger=0)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
