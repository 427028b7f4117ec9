"""Finding an operator's knobs: keyword defaults, `gr.knob` ranges and implicit literals.

Implicit knobs are numeric, boolean and string literals passed as keyword arguments to a
known estimator constructor inside an operator's body (`LGBMClassifier(num_leaves=31)`).
A call is "known" when its target resolves, in the operator's module, to a class defined
in one of the estimator packages (scikit-learn, XGBoost, LightGBM by default) or to their
training functions (`lightgbm.train`, `xgboost.train`).
"""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostrun.workflow.types import Knob, KnobRange, Location

TRAIN_FUNCTIONS = frozenset({"train", "cv"})


@dataclass(frozen=True)
class ImplicitKnob:
    knob: Knob
    node: ast.expr


def explicit_knobs(
    func: Callable[..., Any],
    op_names: Collection[str],
    ranges: Mapping[str, KnobRange],
    location: Location,
    root: Path,
) -> tuple[Knob, ...]:
    """Every keyword parameter with a default whose name is not an operator's."""
    knobs = []
    for param in inspect.signature(func).parameters.values():
        if param.default is inspect.Parameter.empty or param.name in op_names:
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = param.default
        knobs.append(
            Knob(
                name=param.name,
                value=value,
                location=location,
                range=ranges.get(param.name),
                is_data=is_data_path(value, root),
            )
        )
    return tuple(knobs)


def is_data_path(value: object, root: Path) -> bool:
    """A string default naming an existing file or folder is a data input, not a knob.

    The project folder itself and the folders around it are not (`decimal="."`,
    `sep="/"`): hashing them would read the whole project, its cache, or the whole disk.
    """
    if not isinstance(value, str) or not value or "\n" in value or len(value) > 4096:
        return False
    try:
        target = (root / value).resolve()
        return target.exists() and not root.resolve().is_relative_to(target)
    except (OSError, ValueError, RuntimeError):
        return False


def implicit_knobs(
    func_node: ast.FunctionDef,
    namespace: Mapping[str, Any],
    estimator_modules: Collection[str],
    file: str,
) -> tuple[ImplicitKnob, ...]:
    """Literal keyword arguments of known estimator calls, named `Class.param`."""
    found: list[ImplicitKnob] = []
    seen: dict[str, int] = {}
    calls = [n for n in ast.walk(func_node) if isinstance(n, ast.Call)]
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    for call in calls:
        target = resolve_expr(call.func, namespace)
        if target is None or not is_estimator_callable(target, estimator_modules):
            continue
        label = _callable_label(target)
        seen[label] = seen.get(label, 0) + 1
        prefix = label if seen[label] == 1 else f"{label}#{seen[label]}"
        for kw in call.keywords:
            literal = _literal(kw.value)
            if kw.arg is None or literal is _NOT_LITERAL:
                continue
            knob = Knob(
                name=f"{prefix}.{kw.arg}",
                value=literal,
                location=Location(file, kw.value.lineno),
                implicit=True,
                estimator=f"{target.__module__}.{target.__qualname__}",
            )
            found.append(ImplicitKnob(knob=knob, node=kw.value))
    return tuple(found)


def resolve_expr(expr: ast.expr, namespace: Mapping[str, Any]) -> Any | None:
    """Resolve `Name` or `a.b.c` against a module namespace, without running code."""
    if isinstance(expr, ast.Name):
        if expr.id in namespace:
            return namespace[expr.id]
        return getattr(builtins, expr.id, None)
    if isinstance(expr, ast.Attribute):
        base = resolve_expr(expr.value, namespace)
        return getattr(base, expr.attr, None) if base is not None else None
    return None


def is_estimator_callable(obj: object, estimator_modules: Collection[str]) -> bool:
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or module.split(".")[0] not in estimator_modules:
        return False
    if inspect.isclass(obj):
        return True
    return inspect.isfunction(obj) and obj.__name__ in TRAIN_FUNCTIONS


def _callable_label(obj: Any) -> str:
    if inspect.isclass(obj):
        return str(obj.__name__)
    return f"{obj.__module__.split('.')[0]}.{obj.__name__}"


_NOT_LITERAL = object()


def _literal(node: ast.expr) -> Any:
    """The value of a numeric, boolean or string literal (incl. `-1`), else a sentinel."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _literal(node.operand)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
        return _NOT_LITERAL
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
        return node.value
    return _NOT_LITERAL
