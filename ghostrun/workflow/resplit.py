"""Re-splitting a workflow's train/test split with another seed, as a source edit.

On a small table one train/test split is a noisy judge: which rows landed in the test set
moves the metric as much as most changes do. Exploration measures a finding again on a few
other splits (paired with the base on each) to tell a real gain from a lucky split. The
split is found in the code: a call in an operator's own body whose name says it splits
(`train_test_split`, `KFold`, `StratifiedShuffleSplit`, a project's `my_split(...)`) and
that passes `random_state=`. The edit sets that keyword to another literal seed; nothing
else changes, so the split keeps its sizes, stratification and groups.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ghostrun.errors import WorkflowError
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.sourcetext import operator_def, own_nodes, parse_module
from ghostrun.workflow.types import Operator

if TYPE_CHECKING:
    import libcst as cst

SEED_KEYWORD = "random_state"


def is_splitter(name: str) -> bool:
    """Does a callable's name say it splits rows (`train_test_split`, `KFold`, ...)?"""
    lowered = name.lower()
    return "split" in lowered or lowered.endswith("fold")


def split_operator(workflow: Workflow) -> str | None:
    """The operator whose own body seeds a split (the first in graph order), or None."""
    for name, op in workflow.operators.items():  # topological order
        if split_calls(op):
            return name
    return None


def split_calls(op: Operator) -> int:
    """How many seeded split calls the operator's own body makes."""
    try:
        tree = ast.parse(op.source_text)
    except SyntaxError:
        return 0
    top = tree.body[0] if tree.body else None
    if not isinstance(top, ast.FunctionDef):
        return 0
    found = 0
    for node in own_nodes(top):
        if isinstance(node, ast.Call) and is_splitter(_called_name(node.func)):
            found += any(k.arg == SEED_KEYWORD for k in node.keywords)
    return found


def resplit_text(workflow: Workflow, op: Operator, text: str, seed: int) -> str:
    """`text` with every seeded split call of `op` given `random_state=seed`."""
    if not split_calls(op):
        raise WorkflowError(
            f"operator '{op.name}' makes no split call with `{SEED_KEYWORD}=` to re-seed.",
            file=op.location.file,
            line=op.location.line,
        )
    node = operator_def(workflow, op, text)
    return str(parse_module(text).visit(_reseed(node.name, seed)).code)


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _reseed(name: str, seed: int) -> cst.CSTTransformer:
    """A transformer setting `random_state=seed` in the split calls of the top-level
    `def name`."""
    import libcst as cst

    class Reseed(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.top: cst.FunctionDef | None = None  # inside the operator's def

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            if self.top is None and node.name.value == name:
                self.top = node
                return True
            return False  # another top-level def, or one nested in the operator

        def leave_FunctionDef(
            self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
        ) -> cst.FunctionDef:
            if original_node is self.top:
                self.top = None
            return updated_node

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
            if self.top is None or not is_splitter(_cst_name(updated_node.func)):
                return updated_node
            args = [
                a.with_changes(value=cst.Integer(str(seed)))
                if a.keyword is not None and a.keyword.value == SEED_KEYWORD
                else a
                for a in updated_node.args
            ]
            return updated_node.with_changes(args=args)

    return Reseed()


def _cst_name(func: cst.BaseExpression) -> str:
    import libcst as cst

    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""
