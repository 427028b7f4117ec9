"""The script's body as units: one statement each, with its role and data flow.

Roles: `ignore` (docstrings, `pass`), `import`, `helper` (a function or class the script
defines), `constant` (a literal bound once at top level), `setup` (seeding, warnings,
options), `output` (prints, plots, notebook-style displays), `write` (saving files), and
the ones that become operators: `read`, `split`, `model`, `metric`, `transform`. A call to
one of the script's own functions counts as what that function's body does
(`df = load(PATH)` reads).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ghostrun.scaffold.calls import CallKinds
from ghostrun.scaffold.names import Names, names_of

COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)
MODEL_KINDS = frozenset({"estimator", "fit"})


@dataclass(frozen=True, eq=False)
class Unit:
    """One top-level statement of the script's body."""

    stmt: ast.stmt
    role: str
    names: Names
    kinds: frozenset[str] = frozenset()
    helpers: tuple[str, ...] = ()

    @property
    def line(self) -> int:
        return self.stmt.lineno

    @property
    def end_line(self) -> int:
        return self.stmt.end_lineno or self.stmt.lineno

    @property
    def is_assignment(self) -> bool:
        return isinstance(self.stmt, ast.Assign | ast.AnnAssign | ast.AugAssign)


def build_units(body: Collection[ast.stmt], calls: CallKinds) -> list[Unit]:
    """Classify every statement of `body`, in order."""
    helper_kinds = HelperKinds.of_body(body, calls)
    names = {id(s): names_of(s) for s in body}
    redefined = _bound_more_than_once(body, names)
    units = []
    preparers: set[str] = set()
    for stmt in body:
        kinds, called = helper_kinds.of(stmt)
        role = _role(stmt, kinds, calls, redefined, preparers)
        if role == "transform" and "preparer" in kinds and isinstance(stmt, ast.Assign):
            preparers.update(names[id(stmt)].defs)
        units.append(Unit(stmt, role, names[id(stmt)], frozenset(kinds), called))
    return units


def _role(stmt: ast.stmt, kinds: set[str], calls: CallKinds, redefined: Collection[str],
          preparers: Collection[str]) -> str:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return "import"
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return "helper"
    if isinstance(stmt, ast.Pass | ast.Return | ast.Global | ast.Nonlocal) or _is_docstring(stmt):
        return "ignore"
    if _is_constant(stmt, redefined):
        return "constant"
    if isinstance(stmt, ast.Expr):
        role = _expression_role(stmt.value, kinds, calls)
        if role is not None:
            return role
    if isinstance(stmt, COMPOUND):
        return _compound_role(stmt, kinds)
    return _simple_role(stmt, kinds, preparers)


def _expression_role(value: ast.expr, kinds: set[str], calls: CallKinds) -> str | None:
    """Prints, displays, writes and setup calls; None for a call that changes something."""
    if not isinstance(value, ast.Call):
        return "output"  # a bare expression: a notebook cell's display
    top = calls.kinds(value)
    inner = value.func.value if isinstance(value.func, ast.Attribute) else None
    if isinstance(inner, ast.Call):  # `get_ipython().run_line_magic(...)`
        top |= calls.kinds(inner) & {"output", "setup"}
    if "setup" in top:
        return "setup"
    if "metric" in kinds and ("output" in top or "metric" in top):
        return "metric"  # a metric printed (or shown, notebook-style)
    if "write" in top:
        return "write"
    if "output" in top:
        return "output"
    kinds.discard("metric")  # computed and thrown away: not what the script reports
    return None


def _compound_role(stmt: ast.stmt, kinds: set[str]) -> str:
    if kinds & MODEL_KINDS:
        return "model"
    if "read" in kinds:
        return "read"
    every = [s for s in ast.walk(stmt) if isinstance(s, ast.stmt) and s is not stmt]
    if every and all(isinstance(s, ast.Expr) for s in every if not isinstance(s, COMPOUND)):
        return "output"  # a loop of prints
    return "transform"


def _simple_role(stmt: ast.stmt, kinds: set[str], preparers: Collection[str]) -> str:
    if "metric" in kinds:
        return "metric"
    if "read" in kinds:
        return "read"
    if "split" in kinds:
        return "split"
    if "estimator" in kinds or ("fit" in kinds and not _fits_a_preparer(stmt, preparers)):
        return "model"
    return "transform"


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _fits_a_preparer(stmt: ast.stmt, preparers: Collection[str]) -> bool:
    for node in ast.walk(stmt):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("fit", "partial_fit")
                and isinstance(node.func.value, ast.Name) and node.func.value.id in preparers):
            return True
    return False


def _is_constant(stmt: ast.stmt, redefined: Collection[str]) -> bool:
    """`SEED = 42`, `FEATURES = ["a", "b"]`: a literal bound once, to one name."""
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return False
    target = stmt.targets[0]
    if not isinstance(target, ast.Name) or target.id in redefined:
        return False
    try:
        ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _bound_more_than_once(body: Collection[ast.stmt], names: Mapping[int, Names]) -> set[str]:
    seen: set[str] = set()
    twice: set[str] = set()
    for stmt in body:
        for name in names[id(stmt)].defs:
            (twice if name in seen else seen).add(name)
    return twice


class HelperKinds:
    """Call kinds of a statement, including those of the script's functions it calls."""

    def __init__(self, helpers: Mapping[str, ast.stmt], calls: CallKinds) -> None:
        self.helpers = helpers
        self.calls = calls
        self.memo: dict[str, set[str]] = {}

    @classmethod
    def of_body(cls, body: Collection[ast.stmt], calls: CallKinds) -> HelperKinds:
        helpers = {s.name: s for s in body
                   if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        return cls(helpers, calls)

    def call_kinds(self, call: ast.Call) -> set[str]:
        """One call's kinds, a helper's body included."""
        kinds = self.calls.kinds(call)
        if isinstance(call.func, ast.Name) and call.func.id in self.helpers:
            kinds |= self._helper(call.func.id)
        return kinds

    def helper_body(self, name: str) -> list[ast.stmt]:
        return list(self.helpers[name].body)  # type: ignore[attr-defined]

    def of(self, node: ast.AST) -> tuple[set[str], tuple[str, ...]]:
        """Kinds of every call in `node` (helper bodies included), and the helpers called."""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return set(), ()
        kinds: set[str] = set()
        called: dict[str, None] = {}
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            kinds |= self.calls.kinds(call)
            if isinstance(call.func, ast.Name) and call.func.id in self.helpers:
                called.setdefault(call.func.id)
                kinds |= self._helper(call.func.id)
        return kinds, tuple(called)

    def _helper(self, name: str) -> set[str]:
        if name not in self.memo:
            self.memo[name] = set()  # a recursive helper sees itself as doing nothing more
            body = self.helpers[name].body  # type: ignore[attr-defined]
            found: set[str] = set()
            for stmt in body:
                found |= self._body_kinds(stmt)
            self.memo[name] = found - {"output", "write", "setup"}
        return self.memo[name]

    def _body_kinds(self, stmt: ast.stmt) -> set[str]:
        kinds: set[str] = set()
        for call in (n for n in ast.walk(stmt) if isinstance(n, ast.Call)):
            kinds |= self.calls.kinds(call)
            if isinstance(call.func, ast.Name) and call.func.id in self.helpers:
                kinds |= self._helper(call.func.id)
        return kinds
