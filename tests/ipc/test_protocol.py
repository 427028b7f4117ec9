"""The wire format: what parse_request accepts and refuses, replies and events."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ghostrun.ipc import (
    COMMANDS,
    EVENT_TOPICS,
    MAX_REQUEST_BYTES,
    PROTOCOL_VERSION,
    ProtocolError,
    Request,
    announce_token,
    decode_event,
    decode_reply,
    encode_error,
    encode_event,
    encode_reply,
    encode_request,
    parse_request,
)


def test_contract_names() -> None:
    assert PROTOCOL_VERSION == 1
    assert set(COMMANDS) == {
        "status",
        "history",
        "suggest",
        "run",
        "explore",
        "pause",
        "resume",
        "stop",
    }
    assert set(EVENT_TOPICS) == {
        "run.started",
        "run.stage",
        "run.finished",
        "run.failed",
        "explore.result",
        "suggest.updated",
        "daemon.state",
    }


def test_well_formed_request() -> None:
    frame = b'{"v": 1, "id": "r1", "cmd": "history", "args": {"limit": 5}}'
    assert parse_request(frame) == Request(v=1, id="r1", cmd="history", args={"limit": 5})


def test_args_are_optional_and_extra_keys_ignored() -> None:
    request = parse_request(b'{"v": 1, "id": "r2", "cmd": "status", "later": true}')
    assert request.args == {}


def test_encode_request_round_trips() -> None:
    request = parse_request(encode_request("abc", "run", {"mode": "approx"}))
    assert (request.id, request.cmd, request.args) == ("abc", "run", {"mode": "approx"})


@dataclass(frozen=True)
class Bad:
    name: str
    frame: bytes
    code: str
    request_id: str | None = None


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


BAD = [
    Bad("empty", b"", "bad_request"),
    Bad("not utf8", b"\xff\xfe{\x00", "bad_request"),
    Bad("not json", b"{v: 1,", "bad_request"),
    Bad("deeply nested", b"[" * 200_000, "bad_request"),
    Bad("array", b"[1, 2]", "bad_request"),
    Bad("string", b'"status"', "bad_request"),
    Bad("null", b"null", "bad_request"),
    Bad("no v", _json({"id": "a", "cmd": "status"}), "unsupported_version", "a"),
    Bad("v 2", _json({"v": 2, "id": "a", "cmd": "status"}), "unsupported_version", "a"),
    Bad("v str", _json({"v": "1", "id": "a", "cmd": "status"}), "unsupported_version", "a"),
    Bad("v true", _json({"v": True, "id": "a", "cmd": "status"}), "unsupported_version", "a"),
    Bad("v 1.0", _json({"v": 1.0, "id": "a", "cmd": "status"}), "unsupported_version", "a"),
    Bad("no id", _json({"v": 1, "cmd": "status"}), "bad_request"),
    Bad("int id", _json({"v": 1, "id": 7, "cmd": "status"}), "bad_request"),
    Bad("empty id", _json({"v": 1, "id": "", "cmd": "status"}), "bad_request"),
    Bad("long id", _json({"v": 1, "id": "x" * 129, "cmd": "status"}), "bad_request"),
    Bad("no cmd", _json({"v": 1, "id": "a"}), "bad_request", "a"),
    Bad("cmd list", _json({"v": 1, "id": "a", "cmd": ["status"]}), "bad_request", "a"),
    Bad("unknown cmd", _json({"v": 1, "id": "a", "cmd": "rm -rf"}), "unknown_command", "a"),
    Bad("case", _json({"v": 1, "id": "a", "cmd": "STATUS"}), "unknown_command", "a"),
    Bad("args list", _json({"v": 1, "id": "a", "cmd": "run", "args": []}), "bad_request", "a"),
    Bad("args null", _json({"v": 1, "id": "a", "cmd": "run", "args": None}), "bad_request", "a"),
    Bad("too large", b" " * (MAX_REQUEST_BYTES + 1), "too_large"),
]


@pytest.mark.parametrize("case", BAD, ids=[case.name for case in BAD])
def test_malformed_requests_are_refused_with_a_code(case: Bad) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(case.frame)
    assert caught.value.code == case.code
    assert caught.value.request_id == case.request_id
    assert caught.value.message


def test_a_request_of_exactly_the_limit_is_read() -> None:
    body = _json({"v": 1, "id": "a", "cmd": "status"})
    frame = body + b" " * (MAX_REQUEST_BYTES - len(body))
    assert parse_request(frame).cmd == "status"


def test_replies_round_trip() -> None:
    ok = decode_reply(encode_reply("r", {"x": [1, 2]}))
    assert (ok.id, ok.ok, ok.result) == ("r", True, {"x": [1, 2]})
    error = decode_reply(encode_error(None, "too_large", "too big"))
    assert (error.id, error.ok, error.code, error.message) == (None, False, "too_large", "too big")
    assert json.loads(encode_error(None, "x", "y")) == {
        "v": 1,
        "id": None,
        "ok": False,
        "error": {"code": "x", "message": "y"},
    }


def test_numpy_and_nan_become_plain_json() -> None:
    result = {
        "auc": np.float32(0.5),
        "n": np.int64(7),
        "flag": np.bool_(True),
        "values": np.array([1.5, np.nan]),
        "nan": math.nan,
        "inf": -math.inf,
        np.int64(3): "numpy key",
        "path": Path("/a/b"),
        "nested": [(1, np.float64(np.nan))],
    }
    text = encode_reply("r", result).decode()
    assert "NaN" not in text and "Infinity" not in text
    body = json.loads(text)["result"]
    assert body == {
        "auc": 0.5,
        "n": 7,
        "flag": True,
        "values": [1.5, None],
        "nan": None,
        "inf": None,
        "3": "numpy key",
        "path": "/a/b",
        "nested": [[1, None]],
    }


def test_events_carry_topic_and_time() -> None:
    frames = encode_event("run.stage", {"run_id": 4, "version_id": 2})
    assert frames[0] == b"run.stage"
    topic, payload = decode_event(frames)
    assert topic == "run.stage"
    assert payload["run_id"] == 4 and isinstance(payload["time"], float)
    _, kept = decode_event(encode_event("run.failed", {"time": 12.5}))
    assert kept["time"] == 12.5


def test_publishing_an_unknown_topic_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown event topic"):
        encode_event("run.exploded", {})
    with pytest.raises(TypeError):
        encode_event("run.stage", [1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "frames",
    [
        [b"run.stage"],
        [b"run.stage", b"{}", b"x"],
        [b"run.stage", b"[]"],
        [b"", b"{}"],
        [b"run.stage", b"{nope"],
        [b"\xff", b"{}"],
    ],
    ids=["one frame", "three frames", "array", "no topic", "not json", "not utf8"],
)
def test_malformed_events_are_refused(frames: list[bytes]) -> None:
    with pytest.raises(ProtocolError):
        decode_event(frames)


def test_announce_token_only_from_status() -> None:
    status = parse_request(encode_request("a", "status", {"announce": "tok"}))
    assert announce_token(status) == "tok"
    assert announce_token(parse_request(encode_request("a", "history", {"announce": "t"}))) is None
    assert announce_token(parse_request(encode_request("a", "status", {"announce": 5}))) is None
