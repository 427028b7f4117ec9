"""What every runner shares: its own project folder, the outcome of one step, and
subprocesses that are started with `sys.executable`, run in that folder, in their own
process group, and are killed (loudly) when they pass the step's timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.replay.dag import RESULT_MARK
from bench.replay.edits import Edit

__all__ = ["Context", "Outcome", "Runner", "RunnerSkipped", "folder_bytes", "run_process"]

PYPROJECT = """[project]
name = "replay-bench-workflow"
version = "0.0.0"

[tool.ghostrun]
workflow = "pipeline.py"
"""


class RunnerSkipped(RuntimeError):
    """The runner cannot run here (e.g. a ghostrun module not written yet)."""


@dataclass(frozen=True)
class Context:
    repo_root: Path
    runs_dir: Path  # one sub-folder per runner, wiped at the start of a bench run
    csv: Path
    env: dict[str, str]
    timeout: float  # seconds, per step


@dataclass
class Outcome:
    """One runner's result for one step: wall time, metrics, or what went wrong."""

    seconds: float
    metrics: dict[str, float] | None = None
    primary: str | None = None
    error: str | None = None
    computed: list[str] | None = None
    inner_seconds: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        if self.metrics is None or self.primary is None:
            return None
        return self.metrics.get(self.primary)


class Runner:
    """A way of re-running the workflow after each edit. Subclasses implement `run`."""

    name = "?"
    cache_dir: str | None = None  # relative to the folder; None when nothing is on disk

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.folder = ctx.runs_dir / self.name

    def prepare(self, template: str) -> None:
        """A clean project: pipeline.py, data/census.csv (hard link), pyproject.toml."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        (self.folder / "data").mkdir(parents=True)
        _link_or_copy(self.ctx.csv, self.folder / "data" / "census.csv")
        (self.folder / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        self.write(template)

    def write(self, text: str) -> None:
        (self.folder / "pipeline.py").write_text(text, encoding="utf-8")

    def run(self, edit: Edit) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        """Stop whatever the runner keeps alive between steps."""

    def cache_bytes(self) -> int | None:
        return folder_bytes(self.folder / self.cache_dir) if self.cache_dir else None


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def folder_bytes(path: Path) -> int:
    """Apparent size of every regular file under `path` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


@dataclass(frozen=True)
class Finished:
    seconds: float
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


def run_process(cmd: list[str], ctx: Context, cwd: Path) -> Finished:
    """Run `cmd` to completion in `cwd`; kill its whole process group at the timeout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ctx.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=ctx.timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        code = None
    except BaseException:  # interrupted: leave nothing of ours running
        kill_group(proc)
        proc.wait()
        raise
    return Finished(time.perf_counter() - started, code, out, err)


def kill_group(proc: subprocess.Popen[str]) -> None:
    """Kill the process group this runner started (and only that one)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def marked_payload(stdout: str) -> str | None:
    """The last line a child printed with the result mark, without the mark."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return line[len(RESULT_MARK):]
    return None


def failure(finished: Finished, ctx: Context, what: str) -> str:
    if finished.returncode is None:
        return f"TIMEOUT: {what} killed after {ctx.timeout:.0f} s"
    tail = (finished.stderr or finished.stdout).strip().splitlines()[-6:]
    return f"{what} exited with {finished.returncode}: " + " | ".join(tail)
