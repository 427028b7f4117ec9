"""Normalised code: what of an operator's source can change its result.

Docstrings, comments, formatting and positions are dropped, so editing them changes
nothing. Knob values (parameter defaults and implicit literal estimator arguments) are
masked out of the code and fingerprinted separately, so that editing one is reported as a
knob change, old → new, and not as a code change.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable

KNOB_PLACEHOLDER = "__ghostrun_knob__"


def strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove docstrings in place from every module, class and function body."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        if body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]
    return tree


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def dump(node: ast.AST) -> str:
    """The position-free text of a node: equal for sources that differ only in layout."""
    return ast.dump(node, annotate_fields=False, include_attributes=False)


def normalized_statement(node: ast.AST) -> str:
    """Normalised text of a helper, class or assignment (docstrings removed)."""
    return dump(strip_docstrings(copy.deepcopy(node)))


class _Masker(ast.NodeTransformer):
    def __init__(self, targets: set[int]):
        self.targets = targets

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.targets:
            return ast.Name(id=KNOB_PLACEHOLDER, ctx=ast.Load())
        return super().visit(node)


def normalized_operator(func_node: ast.FunctionDef, knob_nodes: Iterable[ast.AST]) -> str:
    """Normalised text of an operator with its knob values masked and its name erased.

    Consumes `func_node` (pass a copy). The name is erased so that renaming an operator
    keeps its cached results; every parameter default is masked because defaults are
    either knobs (fingerprinted by value) or ignored (a parameter naming an operator is an
    edge).
    """
    targets = {id(n) for n in knob_nodes}
    targets.update(id(d) for d in func_node.args.defaults)
    targets.update(id(d) for d in func_node.args.kw_defaults if d is not None)
    masked = _Masker(targets).visit(func_node)
    if isinstance(masked, ast.FunctionDef | ast.AsyncFunctionDef):
        masked.name = "_"
    return dump(strip_docstrings(masked))
