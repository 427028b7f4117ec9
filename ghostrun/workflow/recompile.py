"""Source overlays: operators recompiled from an edited copy of the workflow's text.

An estimator swap or a dropped column changes an operator's code, not only a knob value.
Such an overlay is given the module text `ghostrun apply` would write. For each operator
it touches, the `def` is found in that text and fingerprinted exactly as the loader
fingerprints a file: normalised code with the implicit knob literals masked, and the
module-level names it uses resolved against the *edited* module's top-level bindings (an
added `from xgboost import XGBClassifier` included). That very `def` is then compiled with
the user's file name, so what runs is what was fingerprinted, and the overlaid operator
fingerprints like the edited file: once applied, its results come from the cache.

Before the edited text is trusted, the operator's `def` in the unedited text is
fingerprinted the same way and must give the loaded operator's code hash and dependencies
(else the file moved on, or the estimator packages were configured differently: pass
`estimator_modules`).

Names the edit introduces (the swapped-in class) are not in the user's module, so the
recompiled function gets a copy of the module's globals with them added; the user's
module is left untouched.
"""

from __future__ import annotations

import ast
import copy
import types
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ghostrun.workflow.dependencies import (
    DependencyScanner,
    _ModuleIndex,
    _top_level_bindings,
    package_versions,
)
from ghostrun.workflow.graph import Workflow
from ghostrun.workflow.knobs import ImplicitKnob, implicit_knobs
from ghostrun.workflow.loader import DEFAULT_ESTIMATOR_MODULES, operator_code_hash
from ghostrun.workflow.overlay import _FUTURE_FLAGS, _drifted, _function_like, _plain_function
from ghostrun.workflow.sourcetext import def_node, def_text, function_name, parse
from ghostrun.workflow.types import Knob, Location, Operator


@dataclass(frozen=True)
class _Fingerprint:
    code_hash: str
    deps: dict[str, str]
    implicit: tuple[ImplicitKnob, ...]


def recompiled(
    workflow: Workflow,
    old_text: str,
    new_text: str,
    names: Iterable[str],
    extra_globals: Mapping[str, Any] | None = None,
    estimator_modules: Collection[str] | None = None,
) -> Workflow:
    """A new workflow whose operators `names` run the code of their `def` in `new_text`.

    `old_text` is the module text the workflow was loaded from; `extra_globals` are names
    `new_text` binds by an import the user's module does not have.
    """
    extra = dict(extra_globals or {})
    old_tree = parse(old_text, str(workflow.path))
    new_tree = parse(new_text, str(workflow.path))
    operators = dict(workflow.operators)
    for name in names:
        op = workflow.operators[name]
        operators[name] = _recompiled_op(
            workflow, op, (old_text, old_tree), (new_text, new_tree), extra, estimator_modules
        )
    packages = dict(workflow.packages)
    packages.update(_package_versions(extra.values()))
    return replace(workflow, operators=operators, packages=packages)


def _recompiled_op(
    workflow: Workflow,
    op: Operator,
    old: tuple[str, ast.Module],
    new: tuple[str, ast.Module],
    extra: Mapping[str, Any],
    estimator_modules: Collection[str] | None,
) -> Operator:
    func = _plain_function(op)
    name = function_name(op)
    old_node, new_node = def_node(old[1], name), def_node(new[1], name)
    if old_node is None or def_text(old[0], old_node) != op.source_text:
        raise _drifted(op, "its source in the module differs from the loaded one")
    if new_node is None:
        raise _drifted(op, "the edited module does not define it")
    namespace = dict(func.__globals__)
    modules = _estimator_modules(workflow, op, old[1], old_node, namespace, estimator_modules)
    namespace.update(extra)
    found = _fingerprint(workflow, op, new[1], new_node, namespace, modules)
    shift = old_node.lineno - new_node.lineno
    code = _compiled(op, func, new_node, shift)
    globals_ = namespace if extra else func.__globals__
    knobs = [k for k in op.knobs if not k.implicit]
    knobs += [_moved(i.knob, shift, op.location.file) for i in found.implicit]
    explicit = {k.name: k.value for k in knobs if not k.implicit}
    return replace(
        op,
        func=_function_like(func, code, explicit, globals_),
        knobs=tuple(knobs),
        source_text=def_text(new[0], new_node),
        code_hash=found.code_hash,
        deps=found.deps,
    )


def _estimator_modules(
    workflow: Workflow,
    op: Operator,
    tree: ast.Module,
    node: ast.FunctionDef,
    namespace: Mapping[str, Any],
    given: Collection[str] | None,
) -> Collection[str]:
    """The estimator packages that reproduce the loaded operator's fingerprint (the
    configured ones are not recorded in the workflow; the defaults, else only the packages
    its implicit knobs come from)."""
    derived = {k.estimator.split(".")[0] for k in op.knobs if k.implicit and k.estimator}
    candidates = [given] if given is not None else [{*DEFAULT_ESTIMATOR_MODULES, *derived}, derived]
    for modules in candidates:
        found = _fingerprint(workflow, op, tree, node, namespace, modules)
        implicit = {i.knob.name for i in found.implicit}
        if (
            found.code_hash == op.code_hash
            and found.deps == dict(op.deps)
            and implicit == {k.name for k in op.knobs if k.implicit}
        ):
            return modules
    raise _drifted(op, "its code differs from the fingerprinted code")


def _fingerprint(
    workflow: Workflow,
    op: Operator,
    tree: ast.Module,
    node: ast.FunctionDef,
    namespace: Mapping[str, Any],
    modules: Collection[str],
) -> _Fingerprint:
    """What the loader would compute for `node` in a module whose code is `tree`."""
    module = types.ModuleType(str(namespace.get("__name__", op.name)))
    module.__dict__.update(namespace)
    scanner = _TextScanner(workflow.root, module.__name__, tree)
    masked = copy.deepcopy(node)
    implicit = implicit_knobs(masked, namespace, modules, op.location.file)
    deps = scanner.references(node, module)
    code_hash = operator_code_hash(masked, [i.node for i in implicit], deps)
    return _Fingerprint(code_hash, deps, implicit)


class _TextScanner(DependencyScanner):
    """A dependency scanner that reads one module's code from a given tree (the edited
    text) instead of its file."""

    def __init__(self, root: Any, module_name: str, tree: ast.Module):
        super().__init__(root)
        self._given = (module_name, tree)

    def _build_index(self, module: types.ModuleType) -> _ModuleIndex | None:
        name, tree = self._given
        if module.__name__ != name:
            return super()._build_index(module)
        return _ModuleIndex(module, tree, _top_level_bindings(tree))


def _compiled(
    op: Operator, func: types.FunctionType, node: ast.FunctionDef, shift: int
) -> types.CodeType:
    """The code object of `node`, placed at the lines of the user's (unedited) file."""
    node = ast.increment_lineno(copy.deepcopy(node), shift)
    module = ast.Module(body=[node], type_ignores=[])
    flags = func.__code__.co_flags & _FUTURE_FLAGS
    code = compile(module, func.__code__.co_filename, "exec", flags=flags, dont_inherit=True)
    inner = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    if inner.co_name != func.__code__.co_name:
        raise _drifted(op, f"its edited source defines '{inner.co_name}'")
    return inner


def _moved(knob: Knob, shift: int, file: str) -> Knob:
    return replace(knob, location=Location(file, knob.location.line + shift))


def _package_versions(values: Iterable[Any]) -> dict[str, str]:
    tops = {str(getattr(v, "__module__", "")).split(".")[0] for v in values}
    return package_versions(t for t in tops if t)
