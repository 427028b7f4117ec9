"""Where the daemon's sockets live: `ipc://` paths in the state directory, or a private
runtime directory when those paths are too long for a Unix socket address.

Security rests on the directory, not on the sockets' own modes: a socket file briefly has
the umask's mode between bind and chmod, so its directory must already be private (0700,
ours). `private_dir` makes sure of that and refuses a directory someone else owns, which
is what stops another local user from planting a socket or symlink for us to talk to.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ghostrun.ipc.errors import IpcError

CONTROL_SOCKET = "control.sock"
EVENTS_SOCKET = "events.sock"
_IPC = "ipc://"


def sun_path_limit() -> int:
    """Bytes usable for a socket path (sun_path minus its terminating NUL)."""
    return 103 if sys.platform == "darwin" or "bsd" in sys.platform else 107


@dataclass(frozen=True)
class Endpoints:
    """ZeroMQ addresses of the control (ROUTER) and event (PUB) sockets."""

    control: str
    events: str

    def paths(self) -> tuple[Path, ...]:
        """Socket files behind `ipc://` endpoints (none for other transports)."""
        found = (ipc_path(endpoint) for endpoint in (self.control, self.events))
        return tuple(path for path in found if path is not None)


def ipc_path(endpoint: str) -> Path | None:
    """The socket file of an `ipc://` endpoint; None for other transports."""
    return Path(endpoint[len(_IPC) :]) if endpoint.startswith(_IPC) else None


def endpoints_for(state_dir: Path) -> Endpoints:
    """The endpoints for the project whose state lives in `state_dir`.

    Inside `state_dir` when the socket paths fit a Unix socket address; otherwise in
    `$XDG_RUNTIME_DIR/ghostrun-<hash>/` (or a per-user folder of the temp dir), created
    0700 here. The hash of the state dir keeps two projects' fallbacks apart.
    """
    state_dir = Path(os.path.abspath(state_dir))
    if _fits(state_dir):
        return _in(state_dir)
    for folder in _fallback_dirs(state_dir):
        if _fits(folder):
            return _in(private_dir(folder))
    raise IpcError(
        f"no socket path short enough for {state_dir}: set XDG_RUNTIME_DIR to a short "
        "private folder (e.g. /run/user/$UID)"
    )


def _in(folder: Path) -> Endpoints:
    return Endpoints(f"{_IPC}{folder / CONTROL_SOCKET}", f"{_IPC}{folder / EVENTS_SOCKET}")


def _fits(folder: Path) -> bool:
    longest = max(CONTROL_SOCKET, EVENTS_SOCKET, key=len)
    return len(os.fsencode(folder / longest)) <= sun_path_limit()


def _fallback_dirs(state_dir: Path) -> list[Path]:
    digest = hashlib.sha256(os.fsencode(state_dir)).hexdigest()[:16]
    folders = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        folders.append(Path(runtime) / f"ghostrun-{digest}")
    user = os.getuid() if hasattr(os, "getuid") else "user"
    folders.append(Path(tempfile.gettempdir()) / f"ghostrun-{user}-{digest}")
    return folders


def private_dir(folder: Path) -> Path:
    """`folder`, created 0700 if missing, else checked to be a real directory of ours.

    Loosened permissions on a directory we own are tightened back to 0700; one owned by
    someone else, or a symlink, raises IpcError rather than being used.
    """
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise IpcError(f"cannot create the socket folder {folder}: {exc.strerror}") from exc
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise IpcError(f"{folder} is not a directory; remove it so ghostrun can use it")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise IpcError(
            f"{folder} belongs to another user (uid {info.st_uid}); refusing to put sockets "
            "there — set XDG_RUNTIME_DIR to a private folder of yours"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder
