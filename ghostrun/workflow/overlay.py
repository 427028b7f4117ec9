"""Overlays: a version run with some knob values replaced, never an edit of the user's files.

A variant (DESIGN §7) is an overlay on a loaded version. `with_knobs` returns a new
`Workflow` whose operators carry the new knob values:

- an explicit knob (a parameter default) only changes `Knob.value`, which the engine passes
  as a keyword argument; the new function's defaults are set to match too, so a direct call
  behaves like the edited file;
- an implicit knob (a literal keyword argument of an estimator constructor) needs new code:
  the operator's `def` is re-parsed from its source text, the literal nodes are replaced,
  and the function's code object is compiled with the user's file name and line numbers
  (tracebacks point at the user's file:line). The new function shares the original
  module's globals, so helpers and imports resolve, and the module's own binding of the
  original function is left alone.

Knob values are masked out of the code hash, so an overlaid operator keeps its `code_hash`
and fingerprints exactly like the user's file edited to the same values: a measured variant,
once applied, is served from the cache. Before recompiling, the overlay re-derives that code
hash from the source text it is about to compile and refuses if it differs.

`source_with_knobs` writes the same change back as source text (with libcst, keeping the
rest of the formatting), for `ghostrun apply`.

Overlaid functions pickle by reference to the original's name, which pickle refuses (it is
not the same object): send the knob values to another process and overlay there.
"""

from __future__ import annotations
import __future__

import ast
import copy
import functools
import inspect
import math
import operator
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import stable_repr
from ghostrun.workflow.knobs import ImplicitKnob, implicit_knobs, is_data_path
from ghostrun.workflow.loader import operator_code_hash
from ghostrun.workflow.types import Knob, Operator

if TYPE_CHECKING:
    import libcst as cst

KnobValues = Mapping[str, Any]
"""Knob name (as in `Operator.knobs`) → new value, for one operator."""

# `from __future__` features live in a code object's co_flags; recompiling keeps them.
_FUTURE_FLAGS = functools.reduce(
    operator.or_, (getattr(__future__, f).compiler_flag for f in __future__.all_feature_names)
)


_NOT_A_LITERAL = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)
"""What `ast.literal_eval` raises for a text that is not a plain literal."""

_MISSING = object()


class UnknownKnobError(WorkflowError, KeyError):
    """An overlay names an operator or a knob the workflow does not have."""


def with_knobs(workflow: Workflow, values: Mapping[str, KnobValues]) -> Workflow:
    """A new workflow whose operators take `values` (op name → {knob name → value}).

    Explicit knobs are named by parameter, implicit ones as in `Operator.knobs`
    (`"LGBMClassifier.learning_rate"`, `"Class#2.param"`). `workflow` is left untouched.
    """
    unknown = [name for name in values if name not in workflow.operators]
    if unknown:
        raise UnknownKnobError(
            f"an overlay names no operator '{unknown[0]}'; the operators are: "
            f"{', '.join(workflow.operators)}.",
            file=workflow.relpath,
        )
    operators = {
        name: _overlaid(op, values[name], workflow) if values.get(name) else op
        for name, op in workflow.operators.items()
    }
    return replace(workflow, operators=operators)


def _overlaid(op: Operator, values: KnobValues, workflow: Workflow) -> Operator:
    new_knobs = {k.name: k for k in _new_knobs(op, values, workflow.root)}
    knobs = tuple(new_knobs.get(k.name, k) for k in op.knobs)
    if any(k.implicit for k in new_knobs.values()):
        code = _recompiled(op, {k.name: k.value for k in knobs if k.implicit})
    else:
        code = op.func.__code__
    explicit = {k.name: k.value for k in knobs if not k.implicit}
    return replace(op, func=_function_like(op.func, code, explicit), knobs=knobs)


def _new_knobs(op: Operator, values: KnobValues, root: Path | None) -> list[Knob]:
    """The operator's knobs named in `values`, with their new values (checked). With a
    `root`, an explicit knob is re-judged as the loader would: a string naming an existing
    file or folder is a data input."""
    found = []
    for name, value in values.items():
        knob = op.knob(name)
        if knob is None:
            raise UnknownKnobError(
                f"operator '{op.name}' has no knob '{name}'; its knobs are: "
                f"{', '.join(k.name for k in op.knobs) or '(none)'}.",
                file=op.location.file,
                line=op.location.line,
            )
        if knob.implicit:
            _check_literal(op, knob, value)
        is_data = is_data_path(value, root) if root and not knob.implicit else knob.is_data
        found.append(replace(knob, value=value, is_data=is_data))
    return found


def _check_literal(op: Operator, knob: Knob, value: Any) -> None:
    plain = isinstance(value, bool | int | float | str)
    if not plain or (isinstance(value, float) and not math.isfinite(value)):
        raise WorkflowError(
            f"knob '{knob.name}' of operator '{op.name}' is a literal in the code, so its "
            f"value must be a finite number, a bool or a string, not {value!r}.",
            file=knob.location.file,
            line=knob.location.line,
        )


# ---------------------------------------------------------------- recompiling the operator


def _recompiled(op: Operator, implicit: Mapping[str, Any]) -> types.CodeType:
    """The code of `op`'s function with its implicit knob literals set to `implicit`."""
    func = _plain_function(op)
    node = _parsed_def(op, func.__code__.co_filename)
    if node.name != func.__code__.co_name:
        raise _drifted(op, f"its source defines '{node.name}'")
    node = ast.increment_lineno(node, op.location.line - node.lineno)
    found = _implicit_knobs(op, node, func.__globals__)
    _check_fingerprinted(op, node, found)
    targets = {id(i.node): implicit[i.knob.name] for i in found if i.knob.name in implicit}
    _Substitute(targets).visit(node)  # edits in place below the `def`
    module = ast.Module(body=[node], type_ignores=[])
    flags = func.__code__.co_flags & _FUTURE_FLAGS
    code = compile(module, func.__code__.co_filename, "exec", flags=flags, dont_inherit=True)
    inner = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    if inner.co_firstlineno != func.__code__.co_firstlineno:
        raise _drifted(op, "its first line moved")
    return inner


def _plain_function(op: Operator) -> types.FunctionType:
    """The operator's function, if it is a top-level `def` with no other decorator."""
    func = op.func
    if hasattr(func, "__wrapped__") or getattr(func, "__closure__", None):
        raise _not_plain(op, "wrapped by a decorator or defined inside another function")
    return _top_level(op, func)


def _top_level(op: Operator, func: Any) -> types.FunctionType:
    if not isinstance(func, types.FunctionType) or "<locals>" in func.__qualname__:
        raise _not_plain(op, "defined inside another function")
    return func


def _not_plain(op: Operator, why: str) -> WorkflowError:
    return WorkflowError(
        f"operator '{op.name}' is {why}, so its code cannot be overlaid or rewritten; "
        "define it with `def` at the top level of the module, or make the value a "
        "parameter default.",
        file=op.location.file,
        line=op.location.line,
    )


def _parsed_def(op: Operator, filename: str) -> ast.FunctionDef:
    """The operator's `def`, re-parsed from its source text (lines counted from 1 there)."""
    try:
        tree = ast.parse(op.source_text, filename=filename)
    except SyntaxError:
        raise _drifted(op, "its source text does not parse") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise _drifted(op, "its source text is not one `def`")
    return tree.body[0]


def _implicit_knobs(
    op: Operator, node: ast.FunctionDef, namespace: Mapping[str, Any]
) -> tuple[ImplicitKnob, ...]:
    """Find the implicit knobs again, with the estimator packages the loader used for them.

    Those packages are the ones the operator's implicit knobs come from: calls into other
    configured packages had no literal argument, so they contribute no knob either way.
    """
    packages = {k.estimator.split(".")[0] for k in op.knobs if k.implicit and k.estimator}
    found = implicit_knobs(node, namespace, packages, op.location.file)
    if {i.knob.name for i in found} != {k.name for k in op.knobs if k.implicit}:
        raise _drifted(op, "its implicit knobs differ")
    return found


def _check_fingerprinted(
    op: Operator, node: ast.FunctionDef, found: tuple[ImplicitKnob, ...]
) -> None:
    """Refuse to compile anything but the code that was fingerprinted."""
    memo: dict[int, Any] = {}
    masked = copy.deepcopy(node, memo)
    knob_nodes = [memo[id(i.node)] for i in found]
    if operator_code_hash(masked, knob_nodes, op.deps) != op.code_hash:
        raise _drifted(op, "its code differs from the fingerprinted code")


def _drifted(op: Operator, why: str) -> WorkflowError:
    return WorkflowError(
        f"cannot overlay operator '{op.name}': {why} (the file changed while it was "
        "loaded?); reload the workflow and try again.",
        file=op.location.file,
        line=op.location.line,
    )


class _Substitute(ast.NodeTransformer):
    """Replace the nodes with the given ids by constants, keeping their positions."""

    def __init__(self, targets: Mapping[int, Any]):
        self.targets = targets

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.targets:
            return ast.copy_location(ast.Constant(value=self.targets[id(node)]), node)
        result: ast.AST = super().visit(node)
        return result


def _function_like(
    template: Callable[..., Any],
    code: types.CodeType,
    explicit: Mapping[str, Any],
    namespace: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """A new function with `code`, the template's globals (or `namespace`) and metadata,
    and its defaults set to the explicit knob values (the template is left untouched)."""
    if not isinstance(template, types.FunctionType):
        return template  # not a Python function: explicit values still go in as arguments
    positional = code.co_varnames[: code.co_argcount]
    defaults = template.__defaults__ or ()
    with_default = positional[len(positional) - len(defaults) :]
    new_defaults = tuple(
        explicit.get(name, value) for name, value in zip(with_default, defaults, strict=True)
    )
    globals_ = template.__globals__ if namespace is None else namespace
    func = types.FunctionType(code, globals_, template.__name__, new_defaults, template.__closure__)
    if template.__kwdefaults__ is not None:
        func.__kwdefaults__ = {k: explicit.get(k, v) for k, v in template.__kwdefaults__.items()}
    func.__qualname__ = template.__qualname__
    func.__module__ = template.__module__
    func.__doc__ = template.__doc__
    func.__annotations__ = dict(template.__annotations__)
    func.__dict__.update(template.__dict__)
    return func


# ---------------------------------------------------------------- rewriting the source text
# libcst is imported where it is used: it costs about 130 ms to import, and only rewriting
# needs it, not the workers that run overlays.


def source_with_knobs(op: Operator, values: KnobValues) -> str:
    """`op`'s source text (decorators and `def`) with knob values written into it.

    Explicit knobs become the parameter's default, or the first argument of its
    `gr.knob(...)`; implicit knobs become the literal of the estimator's keyword argument.
    The operator's current knob values are written too where they differ from the text
    (an overlaid operator gives the source of its variant); everything else, comments
    and layout included, is kept as it is.
    """
    new = {k.name: k for k in _new_knobs(op, values, None)}
    target = {k.name: new.get(k.name, k) for k in op.knobs}
    func = _top_level(op, inspect.unwrap(op.func))
    node = _parsed_def(op, op.location.file)
    if node.name != func.__code__.co_name:
        raise _drifted(op, f"its source defines '{node.name}'")
    rewrites = _implicit_rewrites(op, node, target, func.__globals__)
    try:
        module = _with_literals(_parse_module(op.source_text), rewrites)
    except LookupError:
        raise _drifted(op, "its source text does not match its knobs") from None
    return _with_defaults(op, module, target, forced=set(values)).code


def _parse_module(text: str) -> cst.Module:
    with warnings.catch_warnings():
        # libcst 1.0 subclasses mypy_extensions.TypedDict, which newer releases deprecate
        warnings.filterwarnings("ignore", "mypy_extensions.TypedDict", DeprecationWarning)
        import libcst as cst

    return cst.parse_module(text)


def _implicit_rewrites(
    op: Operator,
    node: ast.FunctionDef,
    target: Mapping[str, Knob],
    namespace: Mapping[str, Any],
) -> dict[tuple[int, int], Any]:
    """(line, column) of each implicit knob's keyword whose literal must change → value."""
    if not any(k.implicit for k in op.knobs):
        return {}
    keyword_of = {
        id(kw.value): kw
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        for kw in call.keywords
    }
    lines = op.source_text.split("\n")
    rewrites = {}
    for found in _implicit_knobs(op, node, namespace):
        value = target[found.knob.name].value
        if stable_repr(value) == stable_repr(found.knob.value):
            continue
        kw = keyword_of[id(found.node)]
        column = len(lines[kw.lineno - 1].encode("utf-8")[: kw.col_offset].decode("utf-8"))
        rewrites[(kw.lineno, column)] = value
    return rewrites


def _with_literals(module: cst.Module, rewrites: Mapping[tuple[int, int], Any]) -> cst.Module:
    """`module` with the keyword arguments that start at the given (line, column) set to
    the given values (each must be found)."""
    if not rewrites:
        return module
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    exprs: dict[cst.Arg, cst.BaseExpression] = {}
    for arg in positions:
        if isinstance(arg, cst.Arg) and arg.keyword is not None:
            start = positions[arg.keyword].start
            value = rewrites.get((start.line, start.column), _MISSING)
            expr = _literal_expr(value, arg.value) if value is not _MISSING else None
            if expr is not None:
                exprs[arg] = expr
    if len(exprs) != len(rewrites):
        raise LookupError("a keyword argument to rewrite was not found")

    class SetValues(cst.CSTTransformer):
        def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
            expr = exprs.get(original_node)
            return updated_node if expr is None else updated_node.with_changes(value=expr)

    return wrapper.module.visit(SetValues()) if exprs else module


def _with_defaults(
    op: Operator, module: cst.Module, target: Mapping[str, Knob], forced: set[str]
) -> cst.Module:
    """`module` (one `def`) with the explicit knobs' values as its parameter defaults."""
    import libcst as cst

    func_def = module.body[0]
    if not isinstance(func_def, cst.FunctionDef):
        raise _drifted(op, "its source text is not one `def`")
    params = func_def.params
    groups = {
        group: [_param(op, p, target.get(p.name.value), forced) for p in getattr(params, group)]
        for group in ("posonly_params", "params", "kwonly_params")
    }
    func_def = func_def.with_changes(params=params.with_changes(**groups))
    return module.with_changes(body=[func_def, *module.body[1:]])


def _param(op: Operator, param: cst.Param, knob: Knob | None, forced: set[str]) -> cst.Param:
    import libcst as cst

    if knob is None or knob.implicit:
        return param
    must = knob.name in forced
    default = param.default
    if default is None:
        if must:
            raise _not_in_source(op, knob, "it has no default in the code (it is an input)")
        return param
    if knob.range is None:
        new = _changed_literal(op, knob, default, must)
        return param if new is None else param.with_changes(default=new)
    position = _knob_default_arg(default) if isinstance(default, cst.Call) else None
    if not isinstance(default, cst.Call) or position is None:
        if must:
            raise _not_in_source(op, knob, "its default is not written as `gr.knob(...)`")
        return param
    arg = default.args[position]
    new = _changed_literal(op, knob, arg.value, must)
    if new is None:
        return param
    args = list(default.args)
    args[position] = arg.with_changes(value=new)
    return param.with_changes(default=default.with_changes(args=args))


def _knob_default_arg(call: cst.Call) -> int | None:
    """Index of the argument of `gr.knob(...)` that holds the default value."""
    for i, arg in enumerate(call.args):
        is_default = arg.keyword.value == "default" if arg.keyword else i == 0 and not arg.star
        if is_default:
            return i
    return None


def _changed_literal(
    op: Operator, knob: Knob, old: cst.BaseExpression, must: bool
) -> cst.BaseExpression | None:
    """The literal to write instead of `old`, or None where the text already says it (or
    says something that is not a literal and the caller did not ask for this knob)."""
    import libcst as cst

    try:
        current = ast.literal_eval(cst.Module(body=[]).code_for_node(old).strip())
    except _NOT_A_LITERAL:
        if not must:
            return None
    else:
        if stable_repr(current) == stable_repr(knob.value):
            return None
    expr = _literal_expr(knob.value, old)
    if expr is None:
        raise _not_in_source(op, knob, f"{knob.value!r} cannot be written as a Python literal")
    return expr


def _literal_expr(value: Any, old: cst.BaseExpression) -> cst.BaseExpression | None:
    """`value` as a literal expression (None if it has none); a string keeps the quotes
    `old` used."""
    import libcst as cst

    if isinstance(value, str):
        quote = '"'
        if isinstance(old, cst.SimpleString) and not old.prefix and old.quote in ("'", '"'):
            quote = old.quote
        text = repr(value)
        if text[0] != quote and quote not in value:
            text = quote + text[1:-1] + quote
        return cst.parse_expression(text)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = repr(value)
    try:
        back = ast.literal_eval(text)
    except _NOT_A_LITERAL:
        return None
    return cst.parse_expression(text) if stable_repr(back) == stable_repr(value) else None


def _not_in_source(op: Operator, knob: Knob, why: str) -> WorkflowError:
    return WorkflowError(
        f"cannot write knob '{knob.name}' of operator '{op.name}' into the source: {why}.",
        file=knob.location.file,
        line=knob.location.line,
    )
