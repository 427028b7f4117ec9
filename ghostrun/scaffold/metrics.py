"""Reading a metric out of the script: the expression it printed, a name, and a goal.

`print(f"AUC: {roc_auc_score(y_test, p):.4f}")` gives the expression
`roc_auc_score(y_test, p)`, the name `auc` (from the label the script printed) and the
goal `max`; the metric operator returns `float(expression)`, so it reports exactly the
number the script printed.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ghostrun.scaffold.calls import metric_goal

SHORT_NAMES = {
    "roc_auc_score": "auc", "accuracy_score": "accuracy", "balanced_accuracy_score":
    "balanced_accuracy", "f1_score": "f1", "r2_score": "r2", "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse", "mean_absolute_error": "mae", "log_loss": "logloss",
    "mean_absolute_percentage_error": "mape", "average_precision_score": "average_precision",
    "cross_val_score": "cv_score", "cross_validate": "cv_score", "score": "score",
}
_MAX_NAME = 30

Wanted = Callable[[ast.expr], bool]


@dataclass(frozen=True)
class MetricRead:
    """What one metric statement says: the value expression, names to choose from (best
    first), and the goal."""

    value: ast.expr
    names: tuple[str, ...]
    goal: str


def printed_value(call: ast.Call, wanted: Wanted) -> ast.expr | None:
    """The printed argument `wanted` accepts, looking inside f-strings, `%` and `.format`."""
    for arg in call.args:
        for candidate in _printed_parts(arg):
            if wanted(candidate):
                return candidate
    return None


def _printed_parts(arg: ast.expr) -> Iterator[ast.expr]:
    if isinstance(arg, ast.JoinedStr):
        for part in arg.values:
            if isinstance(part, ast.FormattedValue):
                yield part.value
    elif isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod) and _is_str(arg.left):
        yield from arg.right.elts if isinstance(arg.right, ast.Tuple) else [arg.right]
    elif (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
          and arg.func.attr == "format" and _is_str(arg.func.value)):
        yield from arg.args
    else:
        yield arg


def print_label(call: ast.Call) -> str | None:
    """`auc` for `print("AUC:", ...)` or `print(f"Validation AUC = {...}")`."""
    if not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.BinOp) and isinstance(first.op, ast.Mod):
        first = first.left
    elif isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute):
        first = first.func.value
    text = ""
    if _is_str(first):
        text = first.value  # type: ignore[attr-defined]
    elif isinstance(first, ast.JoinedStr):
        for part in first.values:
            if not _is_str(part):
                break
            text += part.value  # type: ignore[attr-defined]
    return identifier(re.split(r"[:=({%]", text, maxsplit=1)[0])


def identifier(text: str) -> str | None:
    """A lower-case Python name made from `text`, or None when nothing usable is left."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip()).strip("_").lower()
    if not name or len(name) > _MAX_NAME:
        return None
    if name[0].isdigit():
        name = f"m_{name}"
    return None if keyword.iskeyword(name) else name


def metric_function(nodes: Iterable[ast.AST], is_metric: Callable[[ast.Call], bool]) -> str | None:
    """The last part of the first metric function called in `nodes` (`roc_auc_score`)."""
    for node in nodes:
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            if is_metric(call):
                func = call.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name:
                    return str(name)
    return None


def short_name(function: str | None, value: ast.expr) -> str | None:
    """`rmse` for `np.sqrt(mean_squared_error(...))` or `mean_squared_error(...) ** 0.5`."""
    if function is None:
        return None
    name = SHORT_NAMES.get(function) or identifier(function.removesuffix("_score"))
    text = ast.unparse(value)
    if name in ("mse", "msle") and ("sqrt" in text or "** 0.5" in text):
        return "r" + name
    return name


def goal_for(function: str | None, value: ast.expr, names: Iterable[str]) -> str:
    """The metric's goal: from a `scoring=` string, the metric function, or its names."""
    for call in (n for n in ast.walk(value) if isinstance(n, ast.Call)):
        for kw in call.keywords:
            if kw.arg == "scoring" and _is_str(kw.value):
                return metric_goal(kw.value.value)  # type: ignore[attr-defined]
    if function is not None and function not in ("cross_val_score", "cross_validate", "score"):
        return metric_goal(function)
    return metric_goal(" ".join(names))


def as_float(value: ast.expr, from_cv: bool) -> str:
    """The metric operator's return expression; a cross-validation array is averaged."""
    text = ast.unparse(value)
    if from_cv and isinstance(value, ast.Name):
        text = f"{text}.mean()"
    return f"float({text})"


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)
