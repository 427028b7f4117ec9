"""Rewriting an estimator constructor call to a sibling family's class, with its import.

`swapped_text` edits the whole module text with libcst: the call's class becomes the new
class's bare name, kept keywords keep their value text (and the comments after them), and
`from module import Class` is added once, next to the imports, in isort order (or merged
into an existing one-line `from module import ...`). The rest of the text is unchanged.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow.estimators import EstimatorCall, Family, Mapped, estimator_calls, family_of
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.sourcetext import def_span, operator_def, parse_module
from ghostrun.workflow.types import Operator

if TYPE_CHECKING:
    import libcst as cst


@dataclass(frozen=True)
class Swapped:
    text: str
    extra_globals: dict[str, Any]  # names the new text imports that the module lacks


def find_call(op: Operator, label: str) -> EstimatorCall:
    call = next((c for c in estimator_calls(op) if c.label == label), None)
    if call is None:
        raise WorkflowError(
            f"operator '{op.name}' has no {label}(...) call any more.",
            file=op.location.file,
            line=op.location.line,
        )
    if not call.swappable:
        raise WorkflowError(
            f"the {label}(...) call of operator '{op.name}' passes positional or **kwargs "
            "arguments, so it cannot be rewritten to another estimator.",
            file=op.location.file,
            line=call.line,
        )
    return call


def import_needed(op: Operator, new: Family) -> bool:
    """Whether the operator's module lacks `new` (False when it binds it already); raises
    when the module binds the class's name to something else."""
    namespace: Mapping[str, Any] = getattr(op.func, "__globals__", {})
    if new.name not in namespace:
        return True
    if family_of(namespace[new.name]) is new:
        return False
    raise WorkflowError(
        f"the module binds '{new.name}' to something else, so operator '{op.name}' cannot "
        f"be switched to {new.qualname}.",
        file=op.location.file,
        line=op.location.line,
    )


def swapped_text(
    workflow: Workflow, op: Operator, text: str, label: str, new: Family, mapped: Mapped
) -> Swapped:
    """`text` (the module the workflow was loaded from) with `op`'s call `label` rewritten."""
    node = operator_def(workflow, op, text)
    call = find_call(op, label)
    first, _ = def_span(node)
    lines = op.source_text.split("\n")
    start = _position(lines, call.node.lineno, call.node.col_offset, first)
    end = _position(lines, call.node.end_lineno or 0, call.node.end_col_offset or 0, first)
    module = _with_call_rewritten(parse_module(text), start, end, new, mapped)
    extra: dict[str, Any] = {}
    if import_needed(op, new):
        if not _imports(module, new):  # an earlier part of a pair may have added it
            module = with_import(module, new, _bound_root(call.node))
        extra[new.name] = new.load()
    return Swapped(module.code, extra)


def _imports(module: cst.Module, new: Family) -> bool:
    """Whether a top-level `from <module> import <Class>` is already there."""
    import libcst as cst

    for stmt in module.body:
        inner = _import_of(stmt)
        if isinstance(inner, cst.ImportFrom) and not inner.relative:
            if _module_name(inner.module) == new.module and new.name in _bound(stmt):
                return True
    return False


def _position(lines: list[str], line: int, byte_col: int, first: int) -> tuple[int, int]:
    """(line in the module, character column) of an ast position in the operator's text."""
    column = len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8"))
    return line + first - 1, column


def _bound_root(call: ast.Call) -> str | None:
    """The module-level name the call's class is reached through (`lgb` in `lgb.X()`)."""
    expr = call.func
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _with_call_rewritten(
    module: cst.Module, start: tuple[int, int], end: tuple[int, int], new: Family, mapped: Mapped
) -> cst.Module:
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    targets = [
        node
        for node, pos in positions.items()
        if isinstance(node, cst.Call)
        and (pos.start.line, pos.start.column) == start
        and (pos.end.line, pos.end.column) == end
    ]
    if len(targets) != 1:
        raise LookupError("the estimator call was not found in the module text")
    target = targets[0]

    class Rewrite(cst.CSTTransformer):
        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
            if original_node is not target:
                return updated_node
            return _new_call(updated_node, new, mapped)

    return wrapper.module.visit(Rewrite())


def _new_call(call: cst.Call, new: Family, mapped: Mapped) -> cst.Call:
    import libcst as cst

    by_keyword = {a.keyword.value: a for a in call.args if a.keyword is not None}
    args = [by_keyword[mapped.renamed[k]].with_changes(keyword=cst.Name(k)) for k in mapped.kept]
    args += [_keyword_arg(k, v) for k, v in mapped.added.items()]
    if not args:
        return call.with_changes(
            func=cst.Name(new.name), args=[], whitespace_before_args=cst.SimpleWhitespace("")
        )
    return call.with_changes(func=cst.Name(new.name), args=_with_commas(call, args))


def _keyword_arg(keyword: str, value: str) -> cst.Arg:
    import libcst as cst

    no_space = cst.SimpleWhitespace("")
    equal = cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space)
    return cst.Arg(keyword=cst.Name(keyword), value=cst.parse_expression(value), equal=equal)


def _with_commas(call: cst.Call, args: list[cst.Arg]) -> list[cst.Arg]:
    """Commas for the new argument list in the old call's layout: each kept argument keeps
    its own (and the comment after it); the last one ends the way the old last one did."""
    import libcst as cst

    old = list(call.args)
    end = old[-1].comma if old else cst.MaybeSentinel.DEFAULT
    middle = _middle_whitespace(call)
    result = []
    for i, arg in enumerate(args):
        comma = arg.comma
        if i == len(args) - 1:
            comma = _ending_like(comma, end)
        elif not isinstance(comma, cst.Comma):
            comma = cst.Comma(whitespace_after=middle)
        elif isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace) and isinstance(
            middle, cst.ParenthesizedWhitespace
        ):
            ws = comma.whitespace_after.with_changes(last_line=middle.last_line)
            comma = comma.with_changes(whitespace_after=ws)
        result.append(arg.with_changes(comma=comma))
    return result


def _middle_whitespace(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """What follows a comma between two arguments of this call."""
    import libcst as cst

    for arg in call.args[:-1]:
        if isinstance(arg.comma, cst.Comma):
            return arg.comma.whitespace_after
    before = call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        return before
    return cst.SimpleWhitespace(" ")


def _ending_like(own: Any, end: Any) -> Any:
    import libcst as cst

    if not isinstance(end, cst.Comma):
        return cst.MaybeSentinel.DEFAULT
    own_ws = own.whitespace_after if isinstance(own, cst.Comma) else None
    end_ws = end.whitespace_after
    if isinstance(own_ws, cst.ParenthesizedWhitespace) and isinstance(
        end_ws, cst.ParenthesizedWhitespace
    ):
        return own.with_changes(whitespace_after=own_ws.with_changes(last_line=end_ws.last_line))
    return end


# ---------------------------------------------------------------- the import


def with_import(module: cst.Module, new: Family, near: str | None) -> cst.Module:
    """`module` importing `new` by name: merged into a one-line `from <module> import ...`
    if there is one, else a new line in isort order in the import block of `near` (the
    name the old class was imported as), else in the last import block."""
    import libcst as cst

    body = list(module.body)
    for i, stmt in enumerate(body):
        merged = _merged_import(stmt, new)
        if merged is not None:
            body[i] = merged
            return module.with_changes(body=body)
    line = cst.parse_statement(f"from {new.module} import {new.name}\n")
    blocks = _import_blocks(body)
    if not blocks:
        at = _after_preamble(body)
        return module.with_changes(body=[*body[:at], line, *body[at:]])
    block = next((b for b in blocks if near and any(near in _bound(body[i]) for i in b)), None)
    block = block or blocks[-1]
    at = next((i for i in block if _sorts_after(body[i], new.module)), block[-1] + 1)
    if at == block[0]:
        line = line.with_changes(leading_lines=body[at].leading_lines)
        body[at] = body[at].with_changes(leading_lines=[])
    return module.with_changes(body=[*body[:at], line, *body[at:]])


def _import_of(stmt: Any) -> Any:
    import libcst as cst

    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        inner = stmt.body[0]
        if isinstance(inner, cst.Import | cst.ImportFrom):
            return inner
    return None


def _module_name(expr: Any) -> str:
    import libcst as cst

    return "" if expr is None else cst.Module(body=[]).code_for_node(expr)


def _merged_import(stmt: Any, new: Family) -> Any:
    import libcst as cst

    inner = _import_of(stmt)
    if not isinstance(inner, cst.ImportFrom) or inner.relative or inner.lpar is not None:
        return None
    if _module_name(inner.module) != new.module or isinstance(inner.names, cst.ImportStar):
        return None
    names = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in inner.names]
    names.append(cst.ImportAlias(name=cst.Name(new.name)))
    names.sort(key=lambda a: _module_name(a.name).lower())
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    names = [a.with_changes(comma=comma) for a in names[:-1]] + names[-1:]
    return stmt.with_changes(body=[inner.with_changes(names=names)])


def _import_blocks(body: list[Any]) -> list[list[int]]:
    """Runs of top-level import lines with no blank line or comment between them."""
    blocks: list[list[int]] = []
    for i, stmt in enumerate(body):
        if _import_of(stmt) is None:
            continue
        if blocks and blocks[-1][-1] == i - 1 and not stmt.leading_lines:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    return blocks


def _bound(stmt: Any) -> set[str]:
    import libcst as cst

    inner = _import_of(stmt)
    if inner is None or isinstance(inner.names, cst.ImportStar):
        return set()
    found = set()
    for alias in inner.names:
        bound = alias.asname.name if alias.asname is not None else alias.name
        found.add(_module_name(bound).split(".")[0])
    return found


def _sorts_after(stmt: Any, module: str) -> bool:
    """isort's default order: `import x` lines first, then `from x import` by module."""
    import libcst as cst

    inner = _import_of(stmt)
    if not isinstance(inner, cst.ImportFrom) or inner.relative:
        return False
    return _module_name(inner.module).lower() > module.lower()


def _after_preamble(body: list[Any]) -> int:
    """The index after a module docstring and `from __future__` imports."""
    import libcst as cst

    at = 0
    for i, stmt in enumerate(body):
        inner = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
        docstring = (
            i == 0
            and isinstance(inner, cst.Expr)
            and isinstance(inner.value, cst.SimpleString | cst.ConcatenatedString)
        )
        future = isinstance(inner, cst.ImportFrom) and _module_name(inner.module) == "__future__"
        if not (docstring or future):
            break
        at = i + 1
    return at
