"""Turning the user's module into a `Workflow`: operators, edges, knobs, fingerprints.

Decorated modules declare their operators with `@gr.source/op/metric`; a module with no
ghostrun decorator at all is read the way Apache Hamilton reads one (every public
top-level function is an operator), so existing Hamilton dataflows run unchanged.
"""

from __future__ import annotations

import ast
import copy
import inspect
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow import validate
from ghostrun.workflow.decorators import Declaration, declaration_of
from ghostrun.workflow.dependencies import (
    DependencyScanner,
    imported_packages,
    is_project_file,
    package_versions,
)
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.hashing import hash_parts
from ghostrun.workflow.importer import executed_source, import_workflow
from ghostrun.workflow.knobs import explicit_knobs, implicit_knobs, is_data_path
from ghostrun.workflow.normalize import normalized_operator
from ghostrun.workflow.types import Goal, Knob, Location, MetricOptions, Operator

DEFAULT_ESTIMATOR_MODULES = ("sklearn", "xgboost", "lightgbm")


@dataclass(frozen=True)
class LoadOptions:
    """What the configuration contributes to reading a module."""

    metric: str | None = None
    goal: Goal | None = None
    inputs: Mapping[str, Any] | None = None
    estimator_modules: Collection[str] = DEFAULT_ESTIMATOR_MODULES


@dataclass(frozen=True)
class _Candidate:
    name: str
    func: Callable[..., Any]
    decl: Declaration | None
    node: ast.FunctionDef


@dataclass(frozen=True)
class LoadSources:
    """What a load read besides the workflow's operators: what the quick load checks."""

    modules: Mapping[str, Path]  # every project module imported: name -> file
    executed: Mapping[str, bytes | None]  # name -> the source it was compiled from
    trees: Mapping[str, ast.Module | None]  # name -> the code the fingerprints read
    packages: frozenset[str]  # top-level third-party packages whose versions were taken


def load_workflow(path: Path, root: Path, options: LoadOptions | None = None) -> Workflow:
    """Import `path` fresh and build its validated, fingerprinted graph."""
    return load_workflow_with_sources(path, root, options)[0]


def load_workflow_with_sources(
    path: Path, root: Path, options: LoadOptions | None = None
) -> tuple[Workflow, LoadSources]:
    """`load_workflow`, also saying which project modules and packages it used."""
    options = options or LoadOptions()
    root = root.resolve()
    path = path.resolve()
    module = import_workflow(path, root)
    scanner = DependencyScanner(root)
    tree = scanner.module_tree(module)
    if tree is None:
        raise WorkflowError("the workflow must be a .py file inside the project.", file=str(path))
    file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    candidates, hamilton = _candidates(module, tree, file)
    names = {c.name for c in candidates}
    lines = path.read_text(encoding="utf-8").splitlines()
    operators = [
        _operator(c, module, scanner, names, options, root, file, lines) for c in candidates
    ]
    ordered = validate.topological(operators, file)
    primary, goal = _primary_metric(ordered, options, file, hamilton)
    ordered = _apply_metric_setting(ordered, primary, goal)
    local_modules = [module, *_local_modules(root)]
    used = frozenset(scanner.packages | imported_packages(local_modules))
    workflow = Workflow(
        path=path,
        root=root,
        operators={op.name: op for op in ordered},
        primary=primary,
        goal=goal,
        packages=package_versions(used),
        hamilton_style=hamilton,
    )
    local = {m.__name__: m for m in local_modules if m.__file__}
    return workflow, LoadSources(
        modules={name: Path(str(m.__file__)) for name, m in local.items()},
        executed={name: executed_source(m) for name, m in local.items()},
        trees={name: scanner.module_tree(m) for name, m in local.items()},
        packages=used,
    )


def _candidates(module: ModuleType, tree: ast.Module, file: str) -> tuple[list[_Candidate], bool]:
    defs: dict[str, list[ast.FunctionDef]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            defs.setdefault(stmt.name, []).append(stmt)
    functions = {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__
    }
    declared = {n: f for n, f in functions.items() if declaration_of(f) is not None}
    hamilton = not declared
    chosen = declared or {n: f for n, f in functions.items() if not n.startswith("_")}
    candidates = []
    for name, func in chosen.items():
        nodes = defs.get(name) or [_node_from_source(func, file)]
        validate.single_definition(name, nodes, file)
        candidates.append(_Candidate(name, func, declaration_of(func), nodes[-1]))
    candidates.sort(key=lambda c: c.node.lineno)
    if not candidates:
        raise WorkflowError(
            "defines no operator; decorate functions with @gr.source, @gr.op or @gr.metric.",
            file=file,
        )
    return candidates, hamilton


def _node_from_source(func: Callable[..., Any], file: str) -> ast.FunctionDef:
    """For an operator not defined at top level (e.g. made by a factory)."""
    try:
        source = inspect.getsource(func)
        tree = ast.parse(inspect.cleandoc("\n" + source) if source[:1].isspace() else source)
    except (OSError, TypeError, SyntaxError):
        raise WorkflowError(
            f"cannot read the source of operator '{func.__name__}'; define it with `def` "
            "at the top level of the module.",
            file=file,
        ) from None
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise WorkflowError(f"operator '{func.__name__}' must be a plain `def`.", file=file)
    return node


def _operator(
    c: _Candidate,
    module: ModuleType,
    scanner: DependencyScanner,
    op_names: Collection[str],
    options: LoadOptions,
    root: Path,
    file: str,
    source_lines: list[str],
) -> Operator:
    location = Location(file, c.node.lineno)
    validate.parameters(c.name, c.func, op_names, options.inputs or {}, location)
    decl = c.decl or Declaration(kind="op")
    knobs = list(explicit_knobs(c.func, op_names, decl.knob_ranges, location, root))
    knobs = [_at_param_line(k, c.node, file) for k in knobs]
    knobs += _external_inputs(c.func, op_names, options.inputs or {}, location, root)
    masked = copy.deepcopy(c.node)
    implicit = implicit_knobs(masked, vars(module), options.estimator_modules, file)
    deps = scanner.references(c.node, module)
    code_hash = operator_code_hash(masked, [i.node for i in implicit], deps)
    params = inspect.signature(c.func).parameters
    return Operator(
        name=c.name,
        kind=decl.kind,
        func=c.func,
        inputs=tuple(p for p in params if p in op_names),
        knobs=tuple(knobs) + tuple(i.knob for i in implicit),
        location=location,
        source_text=_source_text(source_lines, c.node),
        code_hash=code_hash,
        deps=deps,
        source_options=decl.source,
        metric_options=decl.metric,
    )


def operator_code_hash(
    masked: ast.FunctionDef, knob_nodes: Iterable[ast.AST], deps: Mapping[str, str]
) -> str:
    """The code part of an operator's fingerprint: its normalised code with knob values
    masked (consumes `masked`; pass a copy) plus the fingerprints of what it references.
    Overlays recompute it to prove they recompiled exactly the fingerprinted code."""
    return hash_parts(
        normalized_operator(masked, knob_nodes),
        *(f"{k}={v}" for k, v in sorted(deps.items())),
    )


def _at_param_line(knob: Knob, node: ast.FunctionDef, file: str) -> Knob:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    line = next((a.lineno for a in args if a.arg == knob.name), node.lineno)
    return replace(knob, location=Location(file, line))


def _external_inputs(
    func: Callable[..., Any],
    op_names: Collection[str],
    inputs: Mapping[str, Any],
    location: Location,
    root: Path,
) -> list[Knob]:
    """Parameters with no default fed from `[tool.ghostrun] inputs` (Hamilton inputs)."""
    found = []
    for p in inspect.signature(func).parameters.values():
        if p.default is p.empty and p.name not in op_names and p.name in inputs:
            value = inputs[p.name]
            found.append(Knob(p.name, value, location, is_data=is_data_path(value, root)))
    return found


def _source_text(lines: list[str], node: ast.FunctionDef) -> str:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(lines[first - 1 : node.end_lineno]) + "\n"


def _primary_metric(
    ops: list[Operator], options: LoadOptions, file: str, hamilton: bool
) -> tuple[str | None, Goal]:
    names = [op.name for op in ops]
    if options.metric is not None:
        if options.metric not in names:
            raise WorkflowError(
                f"the configured metric '{options.metric}' names no operator; set `metric` "
                f"to one of: {', '.join(names)}.",
                file=file,
            )
        op = next(o for o in ops if o.name == options.metric)
        goal = options.goal or (op.metric_options.goal if op.metric_options else "max")
        return op.name, goal
    metrics = sorted((op for op in ops if op.kind == "metric"), key=lambda o: o.location.line)
    primaries = [op for op in metrics if op.metric_options and op.metric_options.primary]
    validate.one_primary(primaries, file)
    chosen = primaries[0] if primaries else (metrics[0] if metrics else None)
    if chosen is None:
        return None, options.goal or "max"
    goal = chosen.metric_options.goal if chosen.metric_options else "max"
    return chosen.name, goal


def _apply_metric_setting(ops: list[Operator], primary: str | None, goal: Goal) -> list[Operator]:
    """A metric chosen by configuration (Hamilton modules) becomes a metric operator."""
    result = []
    for op in ops:
        if op.name == primary and op.kind != "metric":
            op = replace(op, kind="metric", metric_options=MetricOptions(goal))
        result.append(op)
    return result


def _local_modules(root: Path) -> list[ModuleType]:
    return [
        m for m in list(sys.modules.values()) if is_project_file(getattr(m, "__file__", None), root)
    ]
