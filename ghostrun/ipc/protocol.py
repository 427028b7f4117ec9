"""The wire protocol of DESIGN §5 (contract): requests, replies and events as JSON frames.

A request is one frame `{"v": 1, "id": str, "cmd": str, "args": {...}}`; its reply is one
frame `{"v": 1, "id", "ok": true, "result"}` or `{"v": 1, "id", "ok": false, "error":
{"code", "message"}}` (id null when the request's id could not be read). An event is two
frames: the topic, then a JSON object that always carries `time` (unix seconds).

Parsing never trusts its input: every malformed request becomes a `ProtocolError` whose
code goes back to the sender, so a bad client can never take the daemon down.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghostrun.ipc._json import dumps
from ghostrun.ipc.errors import ProtocolError

PROTOCOL_VERSION = 1

COMMANDS: tuple[str, ...] = (
    "status",
    "history",
    "suggest",
    "run",
    "explore",
    "pause",
    "resume",
    "stop",
)
EVENT_TOPICS: tuple[str, ...] = (
    "run.started",
    "run.stage",
    "run.finished",
    "run.failed",
    "explore.result",
    "suggest.updated",
    "daemon.state",
)

# Error codes a reply may carry; handlers may add their own through `RequestError`.
BAD_REQUEST = "bad_request"
TOO_LARGE = "too_large"
UNSUPPORTED_VERSION = "unsupported_version"
UNKNOWN_COMMAND = "unknown_command"
INTERNAL = "internal"

# A `status` request with args {ANNOUNCE: token} asks the daemon to publish a
# `daemon.state` event echoing {ANNOUNCE: token}: how a subscriber learns its
# subscription is live (PUB/SUB drops whatever is sent before that).
ANNOUNCE = "announce"

MAX_REQUEST_BYTES = 1 << 20
MAX_ID_CHARS = 128


@dataclass(frozen=True)
class Request:
    """One parsed, well-formed request."""

    v: int
    id: str
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """One decoded reply; `code` and `message` are set when `ok` is false."""

    id: str | None
    ok: bool
    result: Any = None
    code: str = ""
    message: str = ""


def encode_request(request_id: str, cmd: str, args: Mapping[str, Any] | None = None) -> bytes:
    """The one frame that asks the daemon `cmd`."""
    body = {"v": PROTOCOL_VERSION, "id": request_id, "cmd": cmd, "args": dict(args or {})}
    return dumps(body)


def parse_request(frame: bytes) -> Request:
    """The request in `frame`, or `ProtocolError` saying what is wrong with it."""
    if len(frame) > MAX_REQUEST_BYTES:
        raise ProtocolError(
            TOO_LARGE, f"request of {len(frame)} bytes exceeds the {MAX_REQUEST_BYTES}-byte limit"
        )
    body = _json_object(frame)
    request_id = _readable_id(body.get("id"))
    version = body.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ProtocolError(
            UNSUPPORTED_VERSION,
            f"protocol version {version!r} is not supported; this daemon speaks "
            f"v={PROTOCOL_VERSION} (upgrade ghostrun on the older side)",
            request_id,
        )
    if request_id is None:
        raise ProtocolError(
            BAD_REQUEST, f"'id' must be a non-empty string of at most {MAX_ID_CHARS} characters"
        )
    cmd = body.get("cmd")
    if not isinstance(cmd, str):
        raise ProtocolError(BAD_REQUEST, "'cmd' must be a string", request_id)
    if cmd not in COMMANDS:
        raise ProtocolError(
            UNKNOWN_COMMAND,
            f"unknown command {cmd[:64]!r}; known: {', '.join(COMMANDS)}",
            request_id,
        )
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError(BAD_REQUEST, "'args' must be a JSON object", request_id)
    return Request(v=version, id=request_id, cmd=cmd, args=args)


def announce_token(request: Request) -> str | None:
    """The token a `status` request asks the daemon to echo in a `daemon.state` event.

    The daemon's status handler publishes `{ANNOUNCE: token, ...}` when this is not None.
    """
    token = request.args.get(ANNOUNCE) if request.cmd == "status" else None
    return token if isinstance(token, str) and 0 < len(token) <= MAX_ID_CHARS else None


def _json_object(frame: bytes) -> dict[str, Any]:
    try:
        text = bytes(frame).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(BAD_REQUEST, "request is not UTF-8 text") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(BAD_REQUEST, "request is not valid JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError(BAD_REQUEST, "request must be a JSON object")
    return body


def _readable_id(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS:
        return value
    return None


def encode_reply(request_id: str | None, result: Any) -> bytes:
    """A success reply; raises TypeError/ValueError if `result` cannot be made JSON."""
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "ok": True, "result": result})


def encode_error(request_id: str | None, code: str, message: str) -> bytes:
    """An error reply."""
    error = {"code": str(code), "message": str(message)}
    return dumps({"v": PROTOCOL_VERSION, "id": request_id, "ok": False, "error": error})


def decode_reply(frame: bytes) -> Reply:
    """The reply in `frame`, or `ProtocolError` when it is not one."""
    try:
        body = json.loads(bytes(frame).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError(BAD_REQUEST, "reply is not UTF-8 JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        raise ProtocolError(BAD_REQUEST, "reply is not an object with a boolean 'ok'")
    request_id = body.get("id") if isinstance(body.get("id"), str) else None
    if body["ok"]:
        return Reply(id=request_id, ok=True, result=body.get("result"))
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = error.get("message")
    return Reply(
        id=request_id,
        ok=False,
        code=code if isinstance(code, str) else INTERNAL,
        message=message if isinstance(message, str) else "the daemon gave no error message",
    )


def encode_event(topic: str, payload: Mapping[str, Any]) -> list[bytes]:
    """The two frames of an event; adds `time` when the payload has none.

    An unknown topic or a payload that is not a mapping is a programming error: ValueError
    or TypeError, raised in the publisher's thread.
    """
    if topic not in EVENT_TOPICS:
        raise ValueError(f"unknown event topic {topic!r}; known: {', '.join(EVENT_TOPICS)}")
    if not isinstance(payload, Mapping):
        raise TypeError(f"an event payload must be a mapping, not {type(payload).__name__}")
    body = dict(payload)
    body.setdefault("time", time.time())
    return [topic.encode("ascii"), dumps(body)]


def decode_event(frames: Sequence[bytes]) -> tuple[str, dict[str, Any]]:
    """(topic, payload) of an event, or `ProtocolError` when the frames are not one.

    Topics outside `EVENT_TOPICS` are accepted, so an older client keeps working against a
    newer daemon that publishes more.
    """
    if len(frames) != 2:
        raise ProtocolError(BAD_REQUEST, f"an event has 2 frames, not {len(frames)}")
    try:
        topic = bytes(frames[0]).decode("utf-8")
        payload = json.loads(bytes(frames[1]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError(BAD_REQUEST, "event is not a UTF-8 topic and JSON payload") from None
    if not topic or not isinstance(payload, dict):
        raise ProtocolError(BAD_REQUEST, "event needs a topic and a JSON object payload")
    return topic, payload
