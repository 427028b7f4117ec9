"""What an operator references at module level, fingerprinted transitively.

An operator's result depends on more than its own body: the helpers it calls, the
constants it reads, project-local modules it imports (and what those reference in turn),
and the versions of third-party packages. Names are resolved statically through each
module's top-level bindings, falling back to the live object when a name is bound in a
way the AST does not show (star imports, `globals()` tricks).
"""

from __future__ import annotations

import ast
import builtins
import importlib.metadata
import inspect
import os
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ghostrun.workflow.hashing import hash_parts, stable_repr
from ghostrun.workflow.normalize import normalized_statement

NOT_PROJECT_DIRS = frozenset(
    {"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", ".ghostrun", "node_modules"}
)
_MAX_VALUE_REPR = 100_000
_GHOSTRUN_DIR = Path(__file__).resolve().parents[1]


def is_project_file(path: str | None, root: Path) -> bool:
    """True for source files of the user's project (not installed packages, not ghostrun)."""
    if not path:
        return False
    resolved = _resolved(str(path))
    if not resolved.is_relative_to(root) or resolved.is_relative_to(_GHOSTRUN_DIR):
        return False
    return not NOT_PROJECT_DIRS.intersection(resolved.relative_to(root).parts)


def _resolved(path: str) -> Path:
    """`Path(path).resolve()`, memoised for absolute paths: every load asks this for every
    module in `sys.modules` (thousands), and resolving each one costs a few system calls."""
    return _resolved_absolute(path) if os.path.isabs(path) else Path(path).resolve()


@lru_cache(maxsize=1 << 16)
def _resolved_absolute(path: str) -> Path:
    return Path(path).resolve()


@dataclass
class _ModuleIndex:
    module: ModuleType
    tree: ast.Module
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)


def free_names(node: ast.AST) -> dict[str, set[str]]:
    """Global names a node reads, each with the attributes read on it ('' = bare use).

    Python's scoping rules are followed: a name bound in a function, lambda or
    comprehension hides the global of that name only inside that scope (a lambda's
    parameter `x` does not hide a global `x` read next to it), a nested `def` or `class`
    binds its name in the scope around it, and names bound in a class body are not
    visible to its methods.
    """
    collector = _NameCollector("block")
    collector.visit(node)
    return collector.free()


class _NameCollector(ast.NodeVisitor):
    """Names read and bound in one scope; each nested scope gets its own collector.

    `kind` is "block" (module, function, lambda), "class" or "comprehension".
    """

    def __init__(self, kind: str, parent: _NameCollector | None = None) -> None:
        self.kind = kind
        self.parent = parent
        self.loaded: dict[str, set[str]] = {}
        self.bound: set[str] = set()
        self.declared_global: set[str] = set()
        self.children: list[_NameCollector] = []

    def free(self) -> dict[str, set[str]]:
        """What this scope and its nested scopes read that none of them binds."""
        local = self.bound - self.declared_global
        found: dict[str, set[str]] = {}
        for name, attrs in self.loaded.items():
            if name not in local:
                found.setdefault(name, set()).update(attrs)
        for name in self.declared_global:
            found.setdefault(name, set()).add("")
        hidden = set() if self.kind == "class" else local
        for child in self.children:
            for name, attrs in child.free().items():
                if name not in hidden:
                    found.setdefault(name, set()).update(attrs)
        return found

    def _child(self, kind: str) -> _NameCollector:
        child = _NameCollector(kind, self)
        self.children.append(child)
        return child

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _outside_signature(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated in the enclosing scope."""
        self._visit_all([*args.defaults, *args.kw_defaults])
        self._visit_all([a.annotation for a in _all_args(args)])

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all([*node.decorator_list, node.returns])
        self._outside_signature(node.args)
        self.bound.add(node.name)
        body = self._child("block")
        body.bound.update(a.arg for a in _all_args(node.args))
        body._visit_all(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._outside_signature(node.args)
        body = self._child("block")
        body.bound.update(a.arg for a in _all_args(node.args))
        body.visit(node.body)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all([*node.decorator_list, *node.bases, *node.keywords])
        self.bound.add(node.name)
        self._child("class")._visit_all(node.body)

    def _comprehension(self, generators: list[ast.comprehension], parts: list[ast.expr]) -> None:
        self.visit(generators[0].iter)  # the first iterable is evaluated outside
        inner = self._child("comprehension")
        for i, gen in enumerate(generators):
            inner._visit_all([gen.target, gen.iter if i else None, *gen.ifs])
        inner._visit_all(parts)

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node.generators, [node.key, node.value])

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope: _NameCollector = self
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent  # `:=` in a comprehension binds in the enclosing scope
        scope.bound.add(node.target.id)

    def visit_Global(self, node: ast.Global) -> None:
        self.declared_global.update(node.names)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and isinstance(node.value.ctx, ast.Load):
            self.loaded.setdefault(node.value.id, set()).add(node.attr)
        else:
            self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.loaded.setdefault(node.id, set()).add("")
        else:
            self.bound.add(node.id)

    def visit_alias(self, node: ast.alias) -> None:
        self.bound.add((node.asname or node.name).split(".")[0])

    def visit_ExceptHandler(self, node: ast.ExceptHandler | ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    visit_MatchAs = visit_MatchStar = visit_ExceptHandler

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.bound.add(node.rest)
        self.generic_visit(node)


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _top_level_bindings(tree: ast.Module) -> dict[str, list[ast.stmt]]:
    """Map each module-level name to the top-level statements that bind it."""
    bindings: dict[str, list[ast.stmt]] = {}
    for stmt in tree.body:
        for name in _names_bound_by(stmt):
            bindings.setdefault(name, []).append(stmt)
    return bindings


def _imported_names(tree: ast.Module) -> set[str]:
    """Names a module's top-level imports bind (star imports cannot be listed)."""
    return {
        (alias.asname or alias.name).split(".")[0]
        for stmt in tree.body
        if isinstance(stmt, ast.Import | ast.ImportFrom)
        for alias in stmt.names
        if alias.name != "*"
    }


def _names_bound_by(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    names: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


class DependencyScanner:
    """Fingerprints the module-level dependencies of code, memoised for one load.

    Responsibilities: index project modules' top-level bindings; resolve a name to the
    statements or objects behind it; hash those, recursing into what they reference;
    note third-party packages met on the way.
    """

    def __init__(self, root: Path):
        self.root = root
        self.packages: set[str] = set()
        self._indexes: dict[str, _ModuleIndex | None] = {}
        self._memo: dict[tuple[str, str, tuple[str, ...]], str] = {}
        self._in_progress: set[tuple[str, str, tuple[str, ...]]] = set()
        self._stack: list[tuple[str, str, tuple[str, ...]]] = []
        self._on_cycle: set[tuple[str, str, tuple[str, ...]]] = set()

    def references(self, node: ast.AST, module: ModuleType) -> dict[str, str]:
        """Label → fingerprint of every module-level thing `node` depends on."""
        found: dict[str, str] = {}
        for name, attrs in sorted(free_names(node).items()):
            fingerprint = self._name(module, name, tuple(sorted(attrs)))
            if fingerprint:
                found[f"{module.__name__}.{name}"] = fingerprint
        return found

    def module_tree(self, module: ModuleType) -> ast.Module | None:
        index = self._index(module)
        return index.tree if index else None

    def _index(self, module: ModuleType) -> _ModuleIndex | None:
        if module.__name__ not in self._indexes:
            self._indexes[module.__name__] = self._build_index(module)
        return self._indexes[module.__name__]

    def _build_index(self, module: ModuleType) -> _ModuleIndex | None:
        path = getattr(module, "__file__", None)
        if not is_project_file(path, self.root) or not str(path).endswith(".py"):
            return None
        try:
            tree = ast.parse(Path(str(path)).read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return None
        return _ModuleIndex(module, tree, _top_level_bindings(tree))

    def _name(self, module: ModuleType, name: str, attrs: tuple[str, ...]) -> str:
        key = (module.__name__, name, attrs)
        if key in self._memo:
            return self._memo[key]
        if key in self._in_progress:
            # A cycle (mutually recursive helpers): every name on it, from `key` up, gets a
            # fingerprint that depends on where the cycle was entered, so none is memoised;
            # each is expanded afresh and so covers all code on the cycle.
            self._on_cycle.update(self._stack[self._stack.index(key) :])
            return f"recursive:{module.__name__}.{name}"
        self._in_progress.add(key)
        self._stack.append(key)
        try:
            result = self._resolve(module, name, attrs)
        finally:
            self._in_progress.discard(key)
            self._stack.pop()
        if key in self._on_cycle:
            self._on_cycle.discard(key)
        else:
            self._memo[key] = result
        return result

    def _resolve(self, module: ModuleType, name: str, attrs: tuple[str, ...]) -> str:
        index = self._index(module)
        value = vars(module).get(name, _MISSING)
        statements = index.bindings.get(name, []) if index else []
        if not statements:
            if value is _MISSING and hasattr(builtins, name):
                return ""
            return self._object(value, attrs)
        parts = []
        for stmt in statements:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                parts.append(self._object(value, attrs))
            else:
                parts.append(normalized_statement(stmt))
                parts.extend(f"{k}={v}" for k, v in sorted(self.references(stmt, module).items()))
        parts.append(_value_token(value))
        return hash_parts(*parts)

    def _object(self, value: Any, attrs: tuple[str, ...]) -> str:
        """Fingerprint a live object: a project module, function, class, or plain value."""
        if value is _MISSING:
            return "missing"
        if inspect.ismodule(value):
            return self._module_object(value, attrs)
        home = _defining_module(value)
        if home is None:
            return _value_token(value)
        if self._index(home) is None:
            return self._package_token(home.__name__)
        own_name = getattr(value, "__name__", None)
        if own_name and own_name in vars(home):
            return self._name(home, own_name, attrs)
        return _value_token(value)

    def _module_object(self, module: ModuleType, attrs: tuple[str, ...]) -> str:
        index = self._index(module)
        if index is None:
            return self._package_token(module.__name__)
        if "" in attrs or not attrs:
            # The whole module: its text, and what its imports bring in (imported names are
            # bound in it, so `references` alone would not follow them).
            parts = [normalized_statement(index.tree)]
            parts.extend(f"{k}={v}" for k, v in sorted(self.references(index.tree, module).items()))
            imported = sorted(_imported_names(index.tree))
            parts.extend(f"{n}={self._name(module, n, ('',))}" for n in imported)
            return hash_parts(*parts)
        return hash_parts(*(f"{a}={self._name(module, a, ('',))}" for a in attrs))

    def _package_token(self, module_name: str) -> str:
        """What an operator depends on when it uses a third-party package: its version.

        Putting the version here, rather than in one environment hash for the whole
        workflow, means that importing a new package (an estimator swap) changes only the
        operators that use it, while upgrading a package still reruns every user of it.
        """
        top = module_name.split(".")[0]
        if top in sys.stdlib_module_names or top in ("builtins", "__main__"):
            return f"stdlib:{top}"
        if top == "ghostrun":
            return "ghostrun"
        self.packages.add(top)
        versions = package_versions([top])
        pinned = ",".join(f"{d}=={v}" for d, v in sorted(versions.items()))
        return f"package:{pinned or top}"


_MISSING = object()


def _defining_module(value: Any) -> ModuleType | None:
    """The module a function, class or other callable was defined in, if loaded."""
    if not callable(value):
        return None
    name = getattr(value, "__module__", None)
    return sys.modules.get(name) if isinstance(name, str) else None


def _value_token(value: Any) -> str:
    """Small plain values are fingerprinted by value too, catching in-place mutation."""
    if value is _MISSING or inspect.ismodule(value) or callable(value):
        return ""
    try:
        text = stable_repr(value)
    except (TypeError, ValueError, RecursionError):
        return ""
    return text if len(text) <= _MAX_VALUE_REPR else ""


def imported_packages(modules: Iterable[ModuleType]) -> set[str]:
    """Top-level third-party packages imported by these modules (by module globals)."""
    found: set[str] = set()
    for module in modules:
        for value in list(vars(module).values()):
            name = value.__name__ if inspect.ismodule(value) else getattr(value, "__module__", None)
            if isinstance(name, str):
                found.add(name.split(".")[0])
    return {
        p
        for p in found
        if p not in sys.stdlib_module_names and p not in ("builtins", "ghostrun", "__main__")
    }


AMBIENT_PACKAGES = ("numpy", "pandas", "pyarrow")
"""Packages whose objects flow between operators as data: every operator's result may
depend on their versions, whether or not it names them."""


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """Distribution versions of top-level import names, for the environment fingerprint."""
    versions = {}
    mapping = _packages_distributions()
    for package in sorted(set(packages)):
        for dist in mapping.get(package, []):
            versions[dist] = _dist_version(dist)
    return versions


@cache
def _packages_distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def dist_version(dist: str) -> str:
    """The installed version of a distribution, as every fingerprint takes it."""
    return _dist_version(dist)


@cache
def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def project_frames(exc: BaseException, root: Path) -> list[traceback.FrameSummary]:
    """The frames of an exception's traceback that are in the user's project code."""
    return [
        f for f in traceback.extract_tb(exc.__traceback__) if is_project_file(f.filename, root)
    ]
