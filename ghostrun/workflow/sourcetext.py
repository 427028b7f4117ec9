"""The workflow module's text, and operators' `def`s located and replaced in it.

Source overlays and `ghostrun apply` both edit the whole module text (an estimator swap
adds an import at the top, not only a change inside the operator), so both need to find an
operator's `def` (decorators included) in a text and splice a new one in its place, with
the rest of the text left byte for byte as it was.
"""

from __future__ import annotations

import ast
import inspect
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.types import Operator

if TYPE_CHECKING:
    import libcst as cst


def function_name(op: Operator) -> str:
    """The name the operator's `def` has in the module (the operator's own name for
    every operator the loader builds from a top-level `def`)."""
    code = getattr(inspect.unwrap(op.func), "__code__", None)
    return code.co_name if code is not None else op.name


TEXT_ATTR = "__ghostrun_module_text__"


def remember_text(op: Operator, text: str) -> None:
    """Note on an overlaid operator's (new, private) function the module text it was
    derived from, so that a further overlay of it starts from that text."""
    func_dict = getattr(op.func, "__dict__", None)
    if isinstance(func_dict, dict):
        func_dict[TEXT_ATTR] = text


def loaded_text(workflow: Workflow, op: Operator) -> str:
    """The module text the operator was derived from: the edited text of an overlay, else
    what its module was compiled from when it was loaded, if ghostrun's importer kept it,
    else the file as it is now (callers check the `def` still matches)."""
    remembered = getattr(op.func, TEXT_ATTR, None)
    if isinstance(remembered, str):
        return remembered
    namespace: dict[str, Any] = getattr(op.func, "__globals__", {})
    source = getattr(namespace.get("__loader__"), "source", None)
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return read_text(workflow.path)


def read_text(path: Path) -> str:
    """A source file's text exactly as stored (newlines kept as they are)."""
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


def def_node(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    """The module's top-level `def name` (the last one, as Python binds it)."""
    found = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == name]
    return found[-1] if found else None


def own_nodes(node: ast.FunctionDef) -> list[ast.AST]:
    """Nodes of the function's own scope (nested functions, lambdas and classes left out)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        found.append(child)
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(child))
    return found


def def_span(node: ast.FunctionDef) -> tuple[int, int]:
    """First line (decorators included) and last line of a `def`, 1-based, inclusive."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, node.end_lineno or node.lineno


def def_text(text: str, node: ast.FunctionDef) -> str:
    """The `def`'s text in the form `Operator.source_text` has (the loader's form)."""
    first, last = def_span(node)
    return "\n".join(text.splitlines()[first - 1 : last]) + "\n"


def with_def(text: str, node: ast.FunctionDef, new_def: str) -> str:
    """`text` with the lines of `node` replaced by `new_def`; line endings kept."""
    first, last = def_span(node)
    lines = text.splitlines(keepends=True)
    ending = _line_ending(lines[last - 1]) if last - 1 < len(lines) else "\n"
    body = new_def.rstrip("\n").split("\n")
    new_lines = [line + _line_ending(lines[first - 1]) for line in body[:-1]]
    new_lines.append(body[-1] + (ending or ""))
    return "".join(lines[: first - 1] + new_lines + lines[last:])


def _line_ending(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return ""


def parse(text: str, filename: str) -> ast.Module:
    try:
        return ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise WorkflowError(
            f"the edited source does not parse ({exc.msg}); this is a bug in the rewrite, "
            "please report it.",
            file=filename,
            line=exc.lineno,
        ) from None


def operator_def(workflow: Workflow, op: Operator, text: str) -> ast.FunctionDef:
    """The operator's `def` in `text`, which must be the text it was loaded from."""
    node = def_node(parse(text, str(workflow.path)), function_name(op))
    if node is None or def_text(text, node) != op.source_text:
        raise WorkflowError(
            f"operator '{op.name}' in the file differs from the loaded one (the file "
            "changed since it was loaded?); reload the workflow and try again.",
            file=op.location.file,
            line=op.location.line,
        )
    return node


def parse_module(text: str) -> cst.Module:
    """libcst's tree of `text`; imported here because it costs ~130 ms and only rewriting
    needs it."""
    with warnings.catch_warnings():
        # libcst 1.0 subclasses mypy_extensions.TypedDict, which newer releases deprecate
        warnings.filterwarnings("ignore", "mypy_extensions.TypedDict", DeprecationWarning)
        import libcst as cst

    return cst.parse_module(text)
