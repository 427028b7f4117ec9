"""Errors of the IPC layer, all `GhostrunError`s so the CLI prints them as they are."""

from __future__ import annotations

from ghostrun.errors import GhostrunError


class IpcError(GhostrunError):
    """Base of the IPC errors; also raised when the sockets cannot be set up safely."""


class ProtocolError(IpcError):
    """A message that does not follow the protocol; `code` is the error reply's code.

    `request_id` is the request's id when it could be read, so the error reply can still be
    matched by the client that sent it.
    """

    def __init__(self, code: str, message: str, request_id: str | None = None):
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(message)


class RequestError(IpcError):
    """Raised by a request handler to answer with an error of its own `code`."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class DaemonUnavailable(IpcError):
    """No daemon answers: none is running, or it did not reply in time."""


class DaemonError(IpcError):
    """The daemon answered a request with an error reply."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{message} ({code})")
