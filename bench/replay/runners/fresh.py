"""Runners that start a fresh process for every step, as a user re-running a script does.

Their time per step includes the interpreter's start and the workflow's imports.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.replay.child import bootstrap
from bench.replay.edits import Edit
from bench.replay.runners.base import Outcome, Runner, failure, marked_payload, run_process

__all__ = ["GhostrunRunner", "HamiltonRunner", "JoblibRunner", "PlainRunner"]


class _ChildRunner(Runner):
    """`python -c <bootstrap> MODE CACHE_DIR` in the runner's folder (see child.py)."""

    mode = "plain"

    def run(self, edit: Edit) -> Outcome:
        cache = str(self.folder / (self.cache_dir or "no-cache"))
        cmd = [sys.executable, "-c", bootstrap(self.ctx.repo_root), self.mode, cache]
        finished = run_process(cmd, self.ctx, self.folder)
        payload = marked_payload(finished.stdout)
        if finished.returncode != 0 or payload is None:
            return Outcome(finished.seconds, error=failure(finished, self.ctx, self.mode))
        report = json.loads(payload)
        return Outcome(finished.seconds, report["metrics"], report["primary"],
                       inner_seconds=report["inner_seconds"])


class PlainRunner(_ChildRunner):
    """The baseline: import the module and call every function in dependency order."""

    name = mode = "plain"


class JoblibRunner(_ChildRunner):
    """Each operator wrapped in joblib.Memory(...).cache, cache kept across steps."""

    name = mode = "joblib"
    cache_dir = "joblib_cache"


class HamiltonRunner(_ChildRunner):
    """Apache Hamilton's driver with its cache (`Builder().with_cache(path=...)`)."""

    name = mode = "hamilton"
    cache_dir = "hamilton_cache"


class GhostrunRunner(Runner):
    """`python -m ghostrun run --json --full` in the project folder."""

    name = "ghostrun"
    cache_dir = ".ghostrun/cache"

    def run(self, edit: Edit) -> Outcome:
        cmd = [sys.executable, "-m", "ghostrun", "run", "--json", "--full"]
        finished = run_process(cmd, self.ctx, self.folder)
        out = _last_json_object(finished.stdout)
        if finished.returncode != 0 or out is None or "metrics" not in out:
            detail = (out or {}).get("error", {}).get("message") if out else None
            message = failure(finished, self.ctx, "ghostrun run")
            return Outcome(finished.seconds, error=f"{message} {detail or ''}".strip())
        return ghostrun_outcome(finished.seconds, out)


def ghostrun_outcome(seconds: float, out: dict[str, Any]) -> Outcome:
    """An Outcome from the `ghostrun run --json` object (DESIGN §8)."""
    ops = out.get("ops", [])
    computed = [op["name"] for op in ops if op.get("state") == "computed"]
    loaded = [op["name"] for op in ops if op.get("state") == "loaded"]
    return Outcome(seconds, out["metrics"], out["primary"], computed=computed,
                   inner_seconds=out.get("seconds"), extra={"loaded": loaded})


def _last_json_object(stdout: str) -> dict[str, Any] | None:
    """The JSON object `ghostrun run --json` prints (after anything user code printed)."""
    text = stdout.strip()
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n" and text[i + 1:i + 2] == "{"]
    for start in reversed(starts):
        try:
            obj = json.loads(text[start:])
        except ValueError:
            continue
        return obj if isinstance(obj, dict) else None
    return None
