"""The three ways one edit is run, each in its own project folder with its own history:

- plain: a fresh Python process runs the whole workflow (bench.replay's plain runner);
- cold: `python -m ghostrun run --json` in a fresh process (the ladder), timed outside and
  read from the JSON (`stages[*].elapsed` counts from the start of the ladder); each
  stage's wall time from process start is when the history recorded its run as finished
  (`runs.finished`, wall clock, by the stage's `run_id`) minus the wall clock just before
  the process started;
- hot: ghostrun's run worker (`RunWorker(root).run(mode="ladder", on_event=...)`), driven
  from this process; each `run.stage` event is timed from the request as it arrives.

A step that passes its timeout is killed (the process group we started, or the worker
process we started) and reported as an error.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.approx.workflows import BenchWorkflow
from bench.replay.runners.base import Context, Outcome, failure, run_process
from bench.replay.runners.fresh import PlainRunner, _last_json_object
from ghostrun.engine.worker import RunWorker, WorkerCrashed, WorkerError

__all__ = ["Cold", "Hot", "LadderRun", "Plain", "make_project"]


def make_project(folder: Path, workflow: BenchWorkflow, data: dict[str, Path], text: str) -> None:
    """A clean project: pipeline.py, pyproject.toml, data files hard-linked (else copied)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for rel, source in data.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    (folder / "pyproject.toml").write_text(workflow.pyproject(), encoding="utf-8")
    write(folder, text)


def write(folder: Path, text: str) -> None:
    (folder / "pipeline.py").write_text(text, encoding="utf-8")


class Plain(PlainRunner):
    """bench.replay's plain runner, in a folder of our choosing."""

    def __init__(self, ctx: Context, folder: Path) -> None:
        super().__init__(ctx)
        self.folder = folder

    def run_once(self) -> Outcome:
        return self.run(None)  # type: ignore[arg-type]  # the plain runner ignores the edit


@dataclass
class LadderRun:
    """One ghostrun ladder invocation: the `--json` object and when each stage arrived."""

    seconds: float  # wall time: process start to exit (cold), request to result (hot)
    result: dict[str, Any] | None = None
    arrivals: list[float] = field(default_factory=list)  # hot: seconds from the request
    error: str | None = None
    started_wall: float | None = None  # cold: time.time() just before the process started
    finished: dict[int, float] = field(default_factory=dict)  # cold: run_id → runs.finished

    @property
    def stages(self) -> list[dict[str, Any]]:
        return list((self.result or {}).get("stages", []))


class Cold:
    """`python -m ghostrun run --json` (the ladder), a fresh process per edit."""

    def __init__(self, ctx: Context, folder: Path) -> None:
        self.ctx, self.folder = ctx, folder

    def run(self) -> LadderRun:
        cmd = [sys.executable, "-m", "ghostrun", "run", "--json"]
        t0 = time.time()
        finished = run_process(cmd, self.ctx, self.folder)
        out = _last_json_object(finished.stdout)
        if finished.returncode != 0 or out is None or "stages" not in out:
            detail = ((out or {}).get("error") or {}).get("message", "")
            return LadderRun(finished.seconds,
                             error=f"{failure(finished, self.ctx, 'ghostrun run')} {detail}",
                             started_wall=t0)
        ids = [s["run_id"] for s in out["stages"] if s.get("run_id") is not None]
        return LadderRun(finished.seconds, out, started_wall=t0,
                         finished=run_finished(self.folder, ids))


def run_finished(folder: Path, run_ids: list[int]) -> dict[int, float]:
    """When the history recorded each run as finished (wall clock; runs it lacks are left
    out). Read after the process has exited, so nothing else writes to it."""
    path = folder / ".ghostrun" / "history.sqlite"
    if not run_ids or not path.exists():
        return {}
    marks = ",".join("?" * len(run_ids))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            f"SELECT run_id, finished FROM runs WHERE run_id IN ({marks})", run_ids
        ).fetchall()
    finally:
        conn.close()
    return {int(r): float(f) for r, f in rows if f is not None}


class Hot:
    """ghostrun's run worker, kept alive across the session (started by the first run)."""

    def __init__(self, folder: Path, timeout: float) -> None:
        self.worker = RunWorker(folder)
        self.timeout = timeout

    def run(self) -> LadderRun:
        arrivals: list[float] = []
        box: dict[str, Any] = {}
        started = time.perf_counter()

        def on_event(event: dict[str, Any]) -> None:
            if event.get("topic") == "run.stage":
                arrivals.append(time.perf_counter() - started)

        def request() -> None:
            try:
                box["result"] = self.worker.run(mode="ladder", on_event=on_event)
            except (WorkerError, WorkerCrashed) as exc:
                box["error"] = f"{type(exc).__name__}: {exc}"
            box["seconds"] = time.perf_counter() - started

        # Started here, not in the request thread: the worker asks the kernel to kill it
        # when its parent *thread* exits (PR_SET_PDEATHSIG), which would restart it, cold,
        # for every request.
        self.worker.start()
        thread = threading.Thread(target=request, daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            self.worker.kill()  # the worker process this bench started, and only it
            thread.join(30)
            message = f"TIMEOUT: worker killed after {self.timeout:.0f} s"
            return LadderRun(self.timeout, error=message)
        return LadderRun(box["seconds"], box.get("result"), arrivals, box.get("error"))

    def close(self) -> None:
        self.worker.stop()
