"""What a fresh-process runner executes, in its own folder (the current directory):
import `pipeline.py`, run every operator in dependency order, print the metrics.

    python -c "<bootstrap>" plain|joblib|hamilton CACHE_DIR

- plain: call the functions directly (the baseline every other runner is checked against);
- joblib: each operator wrapped in `joblib.Memory(CACHE_DIR).cache` (keys: the function's
  own source text and its hashed arguments; helpers are not part of the key);
- hamilton: Apache Hamilton's driver with its cache (`Builder().with_cache(path=...)`;
  keys: the node's source without comments and its inputs' data versions).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.replay.dag import RESULT_MARK, Workflow, load_module

__all__ = ["bootstrap", "main"]


def bootstrap(repo_root: Path) -> str:
    """The `python -c` program: keep the cwd first on sys.path, then find this package."""
    return (f"import sys; sys.path.insert(1, {str(repo_root)!r}); "
            "from bench.replay.child import main; sys.exit(main(sys.argv[1:]))")


def _run_plain(flow: Workflow, _cache: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in flow.order:
        values[name] = flow.call(name, values)
    return values


def _run_joblib(flow: Workflow, cache: Path) -> dict[str, Any]:
    from joblib import Memory

    memory = Memory(location=str(cache), verbose=0)
    values: dict[str, Any] = {}
    for name in flow.order:
        cached = memory.cache(flow.functions[name])
        values[name] = cached(**{d: values[d] for d in flow.deps[name]})
    return values


def _run_hamilton(flow: Workflow, cache: Path) -> dict[str, Any]:
    from hamilton import driver

    module = sys.modules["pipeline"]
    dr = driver.Builder().with_modules(module).with_cache(path=str(cache)).build()
    result = dr.execute(final_vars=list(flow.metrics))
    return dict(result)


_MODES: dict[str, Callable[[Workflow, Path], dict[str, Any]]] = {
    "plain": _run_plain,
    "joblib": _run_joblib,
    "hamilton": _run_hamilton,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in _MODES:
        print(f"usage: child ({'|'.join(_MODES)}) CACHE_DIR", file=sys.stderr)
        return 2
    started = time.perf_counter()
    flow = Workflow.of(load_module(Path("pipeline.py")))
    values = _MODES[argv[0]](flow, Path(argv[1]))
    metrics = {name: float(values[name]) for name in flow.metrics}
    report = {"metrics": metrics, "primary": flow.primary,
              "inner_seconds": time.perf_counter() - started}
    print(RESULT_MARK + json.dumps(report), flush=True)
    return 0
