"""The fallback ways to deliver a notification: the `notify-send` program, then the log.

Every backend is driven from the notifier's private event loop, one call at a time; `show`
raises `DeliveryError` (or any error) when the notification did not get through, so the
notifier can fall back to the next backend.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from typing import Protocol

from ghostrun.notify.message import Message

# How many saves a backend remembers in order to replace their notifications; older keys
# are simply forgotten (their notifications stay until the user dismisses them).
KEYS_REMEMBERED = 64
_NOTIFY_SEND_SECONDS = 5.0


class DeliveryError(Exception):
    """A backend could not deliver a notification; the notifier falls back to the next."""


class Backend(Protocol):
    name: str

    async def show(self, key: str, message: Message) -> None: ...

    async def close(self) -> None: ...


def remember(ids: dict[str, str], key: str, value: str) -> None:
    """Record `key → value`, newest last, dropping the oldest beyond KEYS_REMEMBERED."""
    ids.pop(key, None)
    ids[key] = value
    while len(ids) > KEYS_REMEMBERED:
        del ids[next(iter(ids))]


class LogBackend:
    """The last resort, which cannot fail: title and body at INFO (the daemon's event stream
    carries the full result anyway)."""

    name = "log"

    def __init__(self, log: logging.Logger) -> None:
        self._log = log

    async def show(self, key: str, message: Message) -> None:
        self._log.info("notification: %s", message.one_line())

    async def close(self) -> None:
        return None


class NotifySendBackend:
    """libnotify's `notify-send`; replaces a key's earlier notification when the installed
    version can print and reuse notification ids (libnotify 0.7.9 and later)."""

    name = "notify-send"

    def __init__(self, program: str, app_name: str, can_replace: bool) -> None:
        self._program = program
        self._app_name = app_name
        self.can_replace = can_replace
        self._ids: dict[str, str] = {}

    @classmethod
    def find(cls, app_name: str) -> NotifySendBackend | None:
        """The backend when `notify-send` is on PATH and runs; None otherwise."""
        program = shutil.which("notify-send")
        if program is None:
            return None
        try:
            usage = subprocess.run(
                [program, "--help"], capture_output=True, text=True, timeout=2,
                stdin=subprocess.DEVNULL, check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if usage.returncode != 0:
            return None
        can_replace = "--print-id" in usage.stdout and "--replace-id" in usage.stdout
        return cls(program, app_name, can_replace)

    async def show(self, key: str, message: Message) -> None:
        args = [self._program, f"--app-name={self._app_name}", f"--urgency={message.urgency}"]
        if self.can_replace:
            args.append("--print-id")
            if key in self._ids:
                args.append(f"--replace-id={self._ids[key]}")
        args += ["--", message.title, message.body]
        out = await _run(args)
        printed = out.split()
        if self.can_replace and printed and printed[-1].isdigit():
            remember(self._ids, key, printed[-1])

    async def close(self) -> None:
        return None


async def _run(args: list[str]) -> str:
    """Run a short program; its stdout, or DeliveryError with its stderr."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), _NOTIFY_SEND_SECONDS)
    except TimeoutError:
        raise DeliveryError(f"{args[0]} did not finish in {_NOTIFY_SEND_SECONDS:.0f} s") from None
    finally:
        if proc.returncode is None:  # timed out or cancelled: leave no process behind
            proc.kill()
            await proc.wait()
    if proc.returncode != 0:
        reason = err.decode(errors="replace").strip() or "no message"
        raise DeliveryError(f"{args[0]} exited with {proc.returncode}: {reason}")
    return out.decode(errors="replace")
