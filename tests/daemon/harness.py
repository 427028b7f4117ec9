"""A real daemon for tests: started with the real CLI, spoken to over real ZeroMQ sockets."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ghostrun.daemon.lock import holder
from ghostrun.ipc import Client, EventStream
from ghostrun.project import STATE_DIR

WAIT = 90.0  # generous: the machines are shared and slow
Event = tuple[str, dict[str, Any]]


def cli(root: Path, *args: str, check: bool = True, env: dict[str, str] | None = None,
        timeout: float = WAIT) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ghostrun", *args, "--project", str(root)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
    if check and done.returncode != 0:
        raise AssertionError(f"ghostrun {' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


class DaemonHarness:
    """One project's daemon: start, talk, watch events, edit files, stop."""

    def __init__(self, root: Path):
        self.root = root
        self.state_dir = root / STATE_DIR

    def up(self, *flags: str, env: dict[str, str] | None = None) -> None:
        cli(self.root, "up", "--notify", "off", *flags, env=env)

    def down(self) -> None:
        cli(self.root, "down")

    @property
    def pid(self) -> int | None:
        return holder(self.state_dir / "daemon.pid")

    def client(self, timeout: float = 10.0) -> Client:
        return Client(self.state_dir, timeout=timeout)

    @contextmanager
    def events(self) -> Iterator[EventStream]:
        with self.client() as client, client.events() as stream:
            yield stream

    def edit(self, name: str, old: str, new: str) -> None:
        """Save as an editor does: write a temporary file, then rename it over the target."""
        path = self.root / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        temp = path.with_name(f".{name}.swp-tmp")
        temp.write_text(text.replace(old, new, 1))
        os.replace(temp, path)

    def kill(self) -> None:
        pid = self.pid
        if pid:
            os.kill(pid, 9)
            deadline = time.monotonic() + WAIT
            while self.pid is not None and time.monotonic() < deadline:
                time.sleep(0.05)


def wait_for(stream: EventStream, topic: str, check: Callable[[dict[str, Any]], bool] = bool,
             timeout: float = WAIT, seen: list[Event] | None = None) -> dict[str, Any]:
    """The first `topic` event that passes `check`; every event read goes into `seen`."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next(timeout=left)
        if event is None:
            break
        if seen is not None:
            seen.append(event)
        if event[0] == topic and check(event[1]):
            return event[1]
    raise AssertionError(f"no {topic} event within {timeout} s; seen: "
                         f"{[t for t, _ in seen or []]}")


def finished_run(stream: EventStream, timeout: float = WAIT) -> dict[str, Any]:
    """The next run that ends, finished or failed (cancelled/superseded ones are skipped)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = stream.next(timeout=left)
        if event is None:
            break
        topic, payload = event
        if topic == "run.finished":
            return {"topic": topic, **payload}
        if topic == "run.failed" and payload["error"]["code"] not in ("cancelled", "superseded"):
            return {"topic": topic, **payload}
    raise AssertionError(f"no run ended within {timeout} s")
