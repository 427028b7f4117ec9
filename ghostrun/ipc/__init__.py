"""IPC between the daemon and its clients over ZeroMQ (DESIGN §5, contract).

`protocol` is the wire format, `endpoints` where the sockets live, `discovery` the
`daemon.json` that points clients at them, `server` the daemon's side, `client` and
`stream` the other side.
"""

from ghostrun.ipc.client import NO_DAEMON, Client
from ghostrun.ipc.discovery import (
    DAEMON_FILE,
    DaemonInfo,
    daemon_info_path,
    pid_alive,
    read_daemon_info,
    remove_daemon_info,
    write_daemon_info,
)
from ghostrun.ipc.endpoints import Endpoints, endpoints_for, ipc_path, private_dir
from ghostrun.ipc.errors import (
    DaemonError,
    DaemonUnavailable,
    IpcError,
    ProtocolError,
    RequestError,
)
from ghostrun.ipc.protocol import (
    ANNOUNCE,
    BAD_REQUEST,
    COMMANDS,
    EVENT_TOPICS,
    INTERNAL,
    MAX_REQUEST_BYTES,
    PROTOCOL_VERSION,
    TOO_LARGE,
    UNKNOWN_COMMAND,
    UNSUPPORTED_VERSION,
    Reply,
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
from ghostrun.ipc.server import HARD_MAX_MESSAGE_BYTES, ControlServer
from ghostrun.ipc.stream import EventStream

__all__ = [
    "ANNOUNCE",
    "BAD_REQUEST",
    "COMMANDS",
    "DAEMON_FILE",
    "EVENT_TOPICS",
    "HARD_MAX_MESSAGE_BYTES",
    "INTERNAL",
    "MAX_REQUEST_BYTES",
    "NO_DAEMON",
    "PROTOCOL_VERSION",
    "TOO_LARGE",
    "UNKNOWN_COMMAND",
    "UNSUPPORTED_VERSION",
    "Client",
    "ControlServer",
    "DaemonError",
    "DaemonInfo",
    "DaemonUnavailable",
    "Endpoints",
    "EventStream",
    "IpcError",
    "ProtocolError",
    "Reply",
    "Request",
    "RequestError",
    "announce_token",
    "daemon_info_path",
    "decode_event",
    "decode_reply",
    "encode_error",
    "encode_event",
    "encode_reply",
    "encode_request",
    "endpoints_for",
    "ipc_path",
    "parse_request",
    "pid_alive",
    "private_dir",
    "read_daemon_info",
    "remove_daemon_info",
    "write_daemon_info",
]
