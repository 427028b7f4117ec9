"""Which names a statement reads, binds and changes in place: the data flow of a script.

Reads count only when the statement has not bound the name first (`for c in cols: df[c]`
reads `cols` and `df`, not `c`), and names local to a comprehension, lambda or nested
function are not the script's. A change in place (`df["x"] = ...`, `model.fit(...)`,
`df.drop(..., inplace=True)`) both reads and binds the name: the step that does it
produces a new version of it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ghostrun.scaffold.calls import OUTPUT_METHODS, WRITE_METHODS

MUTATING_METHODS = frozenset({
    "fit", "partial_fit", "pop", "append", "extend", "update", "insert", "setdefault",
    "remove", "clear", "sort", "reverse", "popitem", "add", "discard",
})


@dataclass(frozen=True)
class Names:
    """The names one statement reads (in first-read order), binds, and changes in place."""

    uses: tuple[str, ...]
    defs: tuple[str, ...]
    mutated: frozenset[str]


def names_of(stmt: ast.stmt) -> Names:
    collector = _Collector()
    collector.visit(stmt)
    return Names(tuple(collector.uses), tuple(collector.defs), frozenset(collector.mutated))


def loaded_names(node: ast.AST) -> set[str]:
    """Every name `node` reads anywhere (scopes ignored): for quick "does it mention" checks."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.uses: dict[str, None] = {}
        self.defs: dict[str, None] = {}
        self.mutated: set[str] = set()
        self.bound: set[str] = set()
        self.scopes: list[set[str]] = []

    # -- the three things a name can undergo ------------------------------------------
    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def _load(self, name: str) -> None:
        if not self._local(name) and name not in self.bound:
            self.uses.setdefault(name)

    def _store(self, name: str) -> None:
        if self.scopes:
            self.scopes[-1].add(name)
            return
        self.bound.add(name)
        self.defs.setdefault(name)

    def _mutate(self, name: str) -> None:
        if self._local(name):
            return
        self._load(name)
        self.mutated.add(name)
        self.defs.setdefault(name)

    def _target(self, node: ast.expr) -> None:
        if isinstance(node, ast.Name):
            self._store(node.id)
        elif isinstance(node, ast.Tuple | ast.List):
            for elt in node.elts:
                self._target(elt)
        elif isinstance(node, ast.Starred):
            self._target(node.value)
        elif isinstance(node, ast.Subscript | ast.Attribute):
            self._changed_in_place(node)

    def _changed_in_place(self, node: ast.expr) -> None:
        while isinstance(node, ast.Subscript | ast.Attribute):
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
            node = node.value
        if isinstance(node, ast.Name):
            self._mutate(node.id)
        else:
            self.visit(node)

    # -- statements, in evaluation order ------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        else:
            self._store(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._target(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self._target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
        self._target(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._target(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._target(node.target)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._target(node.optional_vars)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(target)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._store(node.name)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._store(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._store(alias.asname or alias.name)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            base = call.func.value
            if isinstance(base, ast.Name) and call.func.attr not in OUTPUT_METHODS | WRITE_METHODS:
                self._mutate(base.id)  # `model.fit(X, y)`, `rows.append(r)`: a new version
        self.visit(call)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            inplace = any(k.arg == "inplace" and _is_true(k.value) for k in node.keywords)
            if inplace or func.attr in MUTATING_METHODS:
                self._mutate(func.value.id)

    # -- scopes of their own ------------------------------------------------------------
    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                       results: list[ast.expr]) -> None:
        first, *rest = node.generators
        self.visit(first.iter)  # evaluated outside the comprehension's scope
        self.scopes.append(set())
        for index, gen in enumerate(node.generators):
            if index:
                self.visit(gen.iter)
            self._target(gen.target)
            for cond in gen.ifs:
                self.visit(cond)
        for expr in results:
            self.visit(expr)
        self.scopes.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: ast.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self.scopes.append(set(_arg_names(node.args)))
        self.visit(node.body)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._store(node.name)
        for expr in [*node.decorator_list, *node.args.defaults]:
            self.visit(expr)
        self.scopes.append(set(_arg_names(node.args)))
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._store(node.name)
        for expr in [*node.decorator_list, *node.bases]:
            self.visit(expr)
        self.scopes.append(set())
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()


def _arg_names(args: ast.arguments) -> list[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every]


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True
