"""Runners that keep one process alive for the whole session (see host.py).

The host is started on the first step, so the first step's time includes its start.
Requests go in on stdin, replies come back on stdout as marked JSON lines, read by a
thread so that a hung host is noticed at the timeout and its process group killed.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from typing import IO, Any

from bench.replay.dag import RESULT_MARK
from bench.replay.edits import Edit
from bench.replay.host import bootstrap
from bench.replay.runners.base import Outcome, Runner, RunnerSkipped, kill_group

__all__ = ["HotRunner", "OracleRunner"]

_EOF = object()


class _HostedRunner(Runner):
    mode = "oracle"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.proc: subprocess.Popen[str] | None = None
        self.replies: queue.Queue[object] = queue.Queue()
        self.noise: deque[str] = deque(maxlen=20)  # last lines that were not replies

    def run(self, edit: Edit) -> Outcome:
        started = time.perf_counter()
        if self.proc is None:
            self._start()
        if self.proc is None or self.proc.stdin is None:
            return Outcome(0.0, error=f"{self.name} host is not running")
        self.proc.stdin.write(json.dumps({"touches": sorted(self._touches(edit))}) + "\n")
        self.proc.stdin.flush()
        reply = self._reply()
        seconds = time.perf_counter() - started
        if "error" in reply:
            return Outcome(seconds, error=str(reply["error"]))
        return Outcome(seconds, reply["metrics"], reply["primary"],
                       computed=reply.get("computed"), inner_seconds=reply.get("inner_seconds"))

    def _touches(self, edit: Edit) -> frozenset[str]:
        return edit.touches

    def _start(self) -> None:
        log = open(self.folder / f"{self.name}-host.log", "w", encoding="utf-8")  # noqa: SIM115
        cmd = [sys.executable, "-c", bootstrap(self.ctx.repo_root), self.mode]
        self.proc = subprocess.Popen(cmd, cwd=self.folder, env=self.ctx.env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=log, bufsize=1, start_new_session=True)
        log.close()  # the child holds its own copy
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        hello = self._reply()
        if "skip" in hello:
            self.close()
            raise RunnerSkipped(str(hello["skip"]))
        if "error" in hello:
            self.close()
            raise RuntimeError(f"{self.name} host failed to start: {hello['error']}")

    def _read(self, stream: IO[str] | None) -> None:
        for line in stream or ():
            if line.startswith(RESULT_MARK):
                self.replies.put(json.loads(line[len(RESULT_MARK):]))
            else:
                self.noise.append(line.rstrip())
        self.replies.put(_EOF)

    def _reply(self) -> dict[str, Any]:
        try:
            reply = self.replies.get(timeout=self.ctx.timeout)
        except queue.Empty:
            self.close()
            return {"error": f"TIMEOUT: {self.name} host killed after {self.ctx.timeout:.0f} s"}
        if reply is _EOF:
            code = self.proc.wait() if self.proc else None
            self.proc = None
            log = (self.folder / f"{self.name}-host.log").read_text(errors="replace")
            tail = " | ".join(log.strip().splitlines()[-6:])
            return {"error": f"{self.name} host exited with {code}: {tail}"}
        return reply  # type: ignore[return-value]

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            kill_group(proc)
            proc.wait()


class OracleRunner(_HostedRunner):
    """In-memory reuse that knows which operators each edit touched (a lower bound)."""

    name = mode = "oracle"


class HotRunner(_HostedRunner):
    """ghostrun's long-lived RunWorker: `with RunWorker(root) as w: w.run(full=True)`."""

    name = "ghostrun-hot"
    mode = "hot"
    cache_dir = ".ghostrun/cache"
