"""A long-lived runner process, driven over stdin/stdout, one JSON line per request.

    python -c "<bootstrap>" oracle|hot

It prints `RESULT_MARK {"ready": true}` (or `{"skip": "why"}`) once started, then answers
each request line `{"touches": [...]}` with `RESULT_MARK {"metrics", "primary", ...}`
(or `{"error": ...}`), and exits at end of input.

- oracle: keeps every intermediate in memory and recomputes exactly the operators the
  edit touched (the request says which), the new ones and everything downstream of them.
- hot: ghostrun's long-lived run worker (`ghostrun.engine.worker.RunWorker`), which finds
  out for itself what changed; the request's `touches` is ignored.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.replay.dag import RESULT_MARK, Workflow, load_module

__all__ = ["bootstrap", "main"]


def bootstrap(repo_root: Path) -> str:
    return (f"import sys; sys.path.insert(1, {str(repo_root)!r}); "
            "from bench.replay.host import main; sys.exit(main(sys.argv[1:]))")


def _say(obj: dict[str, Any]) -> None:
    print(RESULT_MARK + json.dumps(obj, default=str), flush=True)


def _requests() -> Iterator[dict[str, Any]]:
    for line in sys.stdin:
        if line.strip():
            yield json.loads(line)


class Oracle:
    """In-memory reuse with perfect knowledge of what each edit changed."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.deps: dict[str, tuple[str, ...]] = {}

    def run(self, touches: list[str]) -> dict[str, Any]:
        flow = Workflow.of(load_module(Path("pipeline.py")))
        stale = set(touches) | {n for n in flow.order
                                if n not in self.values or self.deps.get(n) != flow.deps[n]}
        todo = flow.downstream(stale)
        self.values = {n: v for n, v in self.values.items() if n in flow.functions}
        for name in flow.order:
            if name in todo:
                self.values[name] = flow.call(name, self.values)
        self.deps = dict(flow.deps)
        return {"metrics": {m: float(self.values[m]) for m in flow.metrics},
                "primary": flow.primary, "computed": [n for n in flow.order if n in todo]}


def _serve_oracle() -> int:
    oracle = Oracle()
    _say({"ready": True})
    for request in _requests():
        _answer(lambda r=request: oracle.run(list(r.get("touches", []))))
    return 0


def _serve_hot() -> int:
    try:
        from ghostrun.engine.worker import RunWorker
    except ImportError as exc:
        _say({"skip": f"ghostrun.engine.worker.RunWorker is not importable ({exc})"})
        return 0
    with RunWorker(Path.cwd()) as worker:
        _say({"ready": True})
        for _request in _requests():
            _answer(lambda: _hot_summary(worker.run(full=True)))
    return 0


def _hot_summary(out: dict[str, Any]) -> dict[str, Any]:
    computed = [op["name"] for op in out.get("ops", []) if op.get("state") == "computed"]
    return {"metrics": out["metrics"], "primary": out["primary"], "computed": computed}


def _answer(work: Any) -> None:
    started = time.perf_counter()
    try:
        reply = work()
    except Exception as exc:  # reported to the bench, which flags the step
        reply = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    reply["inner_seconds"] = time.perf_counter() - started
    _say(reply)


def main(argv: list[str]) -> int:
    modes = {"oracle": _serve_oracle, "hot": _serve_hot}
    if len(argv) != 1 or argv[0] not in modes:
        print(f"usage: host ({'|'.join(modes)})", file=sys.stderr)
        return 2
    return modes[argv[0]]()
