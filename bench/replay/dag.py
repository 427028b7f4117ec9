"""Reading a workflow module the way DESIGN §1 defines it, for the non-ghostrun runners.

Operators are the module's functions carrying a ghostrun declaration (`__ghostrun__`);
a parameter named after another operator is an edge; other parameters keep their
defaults. The first declared metric (or the one marked primary) is the primary metric.
Kept independent of ghostrun's own loader so that the baselines never run ghostrun code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["RESULT_MARK", "Workflow", "load_module"]

RESULT_MARK = "@@replay-result@@ "  # prefixes the one stdout line a child reports on
_DECLARATION = "__ghostrun__"


def load_module(path: Path, name: str = "pipeline") -> ModuleType:
    """Import `path` from its source text as module `name` (never from a stale .pyc).

    Two edits of equal size within one second would otherwise be served from bytecode
    cached for the older text (pyc files record mtime in whole seconds).
    """
    module = ModuleType(name)
    module.__file__ = str(path.resolve())
    sys.modules[name] = module  # pickle (joblib, Hamilton) finds classes such as Split here
    code = compile(path.read_text(encoding="utf-8"), module.__file__, "exec")
    exec(code, module.__dict__)
    return module


@dataclass(frozen=True)
class Workflow:
    """The operators of one loaded module version, their edges and their order."""

    functions: Mapping[str, Callable[..., Any]]
    deps: Mapping[str, tuple[str, ...]]
    order: tuple[str, ...]
    metrics: tuple[str, ...]
    primary: str

    @classmethod
    def of(cls, module: ModuleType) -> Workflow:
        functions = _declared(module)
        if not functions:
            raise ValueError(f"{module.__file__}: no @gr.source/@gr.op/@gr.metric function.")
        deps = {name: tuple(p for p in _params(f) if p in functions)
                for name, f in functions.items()}
        metrics = tuple(n for n, f in functions.items()
                        if getattr(f, _DECLARATION).kind == "metric")
        if not metrics:
            raise ValueError(f"{module.__file__}: the workflow declares no @gr.metric.")
        return cls(functions, deps, _topological(deps), metrics, _primary(functions, metrics))

    def call(self, name: str, values: Mapping[str, Any]) -> Any:
        """Run operator `name` on the upstream `values` (its other parameters: defaults)."""
        return self.functions[name](**{d: values[d] for d in self.deps[name]})

    def downstream(self, names: set[str]) -> set[str]:
        """`names` and every operator that depends on one of them, transitively."""
        out = set(names)
        for name in self.order:
            if any(d in out for d in self.deps[name]):
                out.add(name)
        return out


def _declared(module: ModuleType) -> dict[str, Callable[..., Any]]:
    found = [
        f for f in vars(module).values()
        if callable(f) and getattr(f, _DECLARATION, None) is not None
        and getattr(f, "__module__", None) == module.__name__
    ]
    found.sort(key=lambda f: f.__code__.co_firstlineno)
    return {f.__name__: f for f in found}


def _params(func: Callable[..., Any]) -> tuple[str, ...]:
    code = func.__code__
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def _topological(deps: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ValueError(f"the workflow has a cycle through {name!r}")
        state[name] = 1
        for dep in deps[name]:
            visit(dep)
        state[name] = 2
        order.append(name)

    for name in deps:
        visit(name)
    return tuple(order)


def _primary(functions: Mapping[str, Callable[..., Any]], metrics: tuple[str, ...]) -> str:
    for name in metrics:
        options = getattr(functions[name], _DECLARATION).metric
        if options is not None and getattr(options, "primary", False):
            return name
    return metrics[0]
