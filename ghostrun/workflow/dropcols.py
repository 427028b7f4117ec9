"""Dropping columns from the DataFrame an operator returns, as a source edit.

Every `return <expr>` of the operator's own body (not of functions nested in it) becomes
`return <expr>.drop(columns=[...])`, parenthesised where precedence needs it. A one-hot
group also passes `errors="ignore"`: a row sample may lack a rare category's column.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ghostrun.errors import WorkflowError
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.sourcetext import operator_def, own_nodes, parse_module
from ghostrun.workflow.types import Operator

if TYPE_CHECKING:
    import libcst as cst

Column = str | int


def return_lines(op: Operator) -> list[int]:
    """Lines (in the user's file) of the operator's own `return <value>` statements;
    empty when it cannot be rewritten (a bare `return`, a generator, no return)."""
    try:
        tree = ast.parse(op.source_text)
    except SyntaxError:
        return []
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef):
        return []
    returns: list[ast.Return] = []
    for child in own_nodes(node):
        if isinstance(child, ast.Yield | ast.YieldFrom | ast.Await):
            return []
        if isinstance(child, ast.Return):
            if child.value is None:
                return []
            returns.append(child)
    shift = op.location.line - node.lineno
    return [r.lineno + shift for r in returns]


def dropped_text(
    workflow: Workflow, op: Operator, text: str, columns: Sequence[Column], group: bool
) -> str:
    """`text` with every own `return` of `op` dropping `columns` from its value."""
    if not return_lines(op):
        raise WorkflowError(
            f"operator '{op.name}' has no `return <value>` to drop columns from.",
            file=op.location.file,
            line=op.location.line,
        )
    node = operator_def(workflow, op, text)
    module = parse_module(text)
    old_lines = set(text.splitlines())
    for layout in LAYOUTS:
        new_text: str = module.visit(
            _wrap_returns(node.name, _drop_text(columns, group, layout))
        ).code
        added = [line for line in new_text.splitlines() if line not in old_lines]
        if all(len(line) <= LINE_LENGTH for line in added):
            break
    return new_text


LINE_LENGTH = 100
LAYOUTS = ("one line", "arguments on their own line", "one column per line")


def _drop_text(columns: Sequence[Column], group: bool, layout: str) -> str:
    """`_.drop(...)` in the layout black would choose for a line of that length."""
    items = [_literal(c) for c in columns]
    ignore = 'errors="ignore"' if group else ""
    if layout == LAYOUTS[0]:
        return f"_.drop(columns=[{', '.join(items)}]{', ' + ignore if ignore else ''})"
    if layout == LAYOUTS[1]:
        args = f"columns=[{', '.join(items)}]{', ' + ignore if ignore else ''}"
        return f"_.drop(\n    {args}\n)"
    listed = "".join(f"        {item},\n" for item in items)
    tail = f"    {ignore},\n" if ignore else ""
    return f"_.drop(\n    columns=[\n{listed}    ],\n{tail})"


def _drop_call(value: cst.BaseExpression, drop_text: str) -> cst.Call:
    import libcst as cst

    call = cst.parse_expression(drop_text)
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        raise TypeError("unexpected parse of the drop call")
    atom = cst.Name | cst.Attribute | cst.Call | cst.Subscript | cst.List | cst.Dict
    if not isinstance(value, atom) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return call.with_changes(func=call.func.with_changes(value=value))


def _literal(column: Column) -> str:
    if isinstance(column, bool) or not isinstance(column, str | int):
        raise TypeError(f"column names must be strings or ints, not {column!r}")
    return json.dumps(column, ensure_ascii=False) if isinstance(column, str) else repr(column)


def _wrap_returns(name: str, drop_text: str) -> cst.CSTTransformer:
    """A transformer wrapping the returns of the top-level `def name`, not those of
    functions or classes nested in it."""
    import libcst as cst

    class WrapReturns(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0  # nesting of defs and classes; 1 = the top-level def itself
            self.inside = False

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            self.depth += 1
            if self.depth == 1:
                self.inside = node.name.value == name
            return True

        def leave_FunctionDef(
            self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
        ) -> cst.FunctionDef:
            self.depth -= 1
            return updated_node

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            self.depth += 1
            self.inside = self.inside and self.depth > 1
            return True

        def leave_ClassDef(
            self, original_node: cst.ClassDef, updated_node: cst.ClassDef
        ) -> cst.ClassDef:
            self.depth -= 1
            return updated_node

        def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
            if not self.inside or self.depth != 1 or updated_node.value is None:
                return updated_node
            return updated_node.with_changes(value=_drop_call(updated_node.value, drop_text))

    return WrapReturns()
