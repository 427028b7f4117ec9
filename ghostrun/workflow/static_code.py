"""Whether importing a module is a pure function of its source text.

The quick load (`quickload`) reuses a recorded version when every project file still has
the same normalised code, without importing anything. That is exactly as safe as a real
import only if the import could not have produced other values: module-level code that
reads the environment, the clock or files, or that calls project code (which may do any
of that), makes the loaded workflow depend on more than the text. This module accepts
imports, definitions, and expressions built from literals, names, operators and a short
list of calls known to be pure; anything else is a reason to import for real.

Function bodies are not looked at (they do not run at import), except for `__doc__`: the
quick load ignores docstrings, so code that reads one is not quick-loadable.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Collection, Iterable

PURE_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "classmethod",
    "complex", "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hex",
    "int", "isinstance", "issubclass", "len", "list", "map", "max", "min", "object", "oct",
    "ord", "pow", "property", "range", "repr", "reversed", "round", "set", "slice", "sorted",
    "staticmethod", "str", "sum", "tuple", "type", "zip",
})  # fmt: skip
PURE_CALLS = frozenset({
    "abc.abstractmethod",
    "collections.Counter", "collections.OrderedDict", "collections.defaultdict",
    "collections.deque", "collections.namedtuple",
    "dataclasses.dataclass", "dataclasses.field",
    "datetime.date", "datetime.datetime", "datetime.time", "datetime.timedelta",
    "datetime.timezone",
    "decimal.Decimal", "enum.auto", "enum.unique", "fractions.Fraction",
    "functools.cache", "functools.cached_property", "functools.lru_cache", "functools.partial",
    "functools.reduce", "functools.total_ordering", "functools.wraps",
    "logging.getLogger",
    "numpy.arange", "numpy.array", "numpy.asarray", "numpy.bool_", "numpy.dtype",
    "numpy.float32", "numpy.float64", "numpy.full", "numpy.int32", "numpy.int64",
    "numpy.linspace", "numpy.ones", "numpy.zeros",
    "os.path.abspath", "os.path.basename", "os.path.dirname", "os.path.join",
    "os.path.normpath", "os.path.splitext",
    "pandas.CategoricalDtype", "pandas.DateOffset", "pandas.Timedelta", "pandas.Timestamp",
    "pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "re.compile", "re.escape",
    "warnings.filterwarnings", "warnings.simplefilter",
})  # fmt: skip
PURE_PREFIXES = ("ghostrun.", "itertools.", "math.", "operator.", "string.", "typing.")
# Methods called on a value the module computed itself (a literal, a Path, a list).
PURE_METHODS = frozenset({
    "absolute", "add", "append", "as_posix", "capitalize", "casefold", "center", "copy",
    "count", "decode", "difference", "discard", "encode", "endswith", "extend", "find",
    "format", "get", "index", "insert", "intersection", "items", "join", "joinpath", "keys",
    "ljust", "lower", "lstrip", "partition", "pop", "relative_to", "remove", "removeprefix",
    "removesuffix", "replace", "resolve", "reverse", "rfind", "rjust", "rpartition",
    "rsplit", "rstrip", "setdefault", "sort", "split", "splitlines", "startswith", "strip",
    "symmetric_difference", "title", "union", "update", "upper", "values", "with_name",
    "with_stem", "with_suffix", "zfill",
})  # fmt: skip
# Process state that differs between two imports of the same text.
AMBIENT_NAMES = frozenset({"environ", "environb", "argv", "orig_argv", "stdin", "modules"})
_CLOCK_WORDS = frozenset({"now", "today"})
_CLOCK_CALLS = frozenset({"pandas.Timestamp"})


class _Impure(Exception):
    """Why a module's import may depend on more than its text (the message)."""


def impurity(tree: ast.Module, project_modules: Collection[str] = ()) -> str | None:
    """Why importing `tree` might not be a pure function of its text; None if it is.

    `project_modules` are the top-level names of the project's own modules: calling into
    them runs code this check has not seen.
    """
    checker = _Checker(tree, frozenset(project_modules))
    try:
        checker.module()
    except _Impure as exc:
        return str(exc)
    return None


def _line(node: ast.AST) -> str:
    return f"line {getattr(node, 'lineno', '?')}"


class _Checker:
    """Walks the statements that run at import; raises `_Impure` at the first doubt."""

    def __init__(self, tree: ast.Module, project: frozenset[str]):
        self.tree = tree
        self.project = project
        self.origins, self.local = _bindings(tree)
        self.lazy_annotations = any(
            isinstance(s, ast.ImportFrom)
            and s.module == "__future__"
            and any(a.name == "annotations" for a in s.names)
            for s in tree.body
        )

    def module(self) -> None:
        for node in ast.walk(self.tree):
            if (isinstance(node, ast.Name) and node.id == "__doc__") or (
                isinstance(node, ast.Attribute) and node.attr == "__doc__"
            ):
                raise _Impure(f"{_line(node)} reads a docstring")
        self.body(self.tree.body)

    def body(self, statements: Iterable[ast.stmt]) -> None:
        for stmt in statements:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:  # noqa: C901 - one branch per statement kind
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            if any(alias.name == "*" for alias in stmt.names):
                raise _Impure(f"{_line(stmt)} star import")
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self.decorators(stmt.decorator_list)
            self.exprs([*stmt.bases, *(k.value for k in stmt.keywords)])
            self.body(stmt.body)
        elif isinstance(stmt, ast.Assign):
            self.exprs([*stmt.targets, stmt.value])
        elif isinstance(stmt, ast.AnnAssign):
            self.exprs([stmt.target, stmt.value])
            self.annotation(stmt.annotation)
        elif isinstance(stmt, ast.AugAssign):
            self.exprs([stmt.target, stmt.value])
        elif isinstance(stmt, ast.Expr):
            if not (isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                self.expr(stmt.value)
        elif isinstance(stmt, ast.If):
            if not _is_main_guard(stmt.test):
                self.expr(stmt.test)
                self.body([*stmt.body, *stmt.orelse])
        elif isinstance(stmt, ast.For):
            self.exprs([stmt.target, stmt.iter])
            self.body([*stmt.body, *stmt.orelse])
        elif isinstance(stmt, ast.Assert):
            self.exprs([stmt.test, stmt.msg])
        elif isinstance(stmt, ast.Delete):
            self.exprs(stmt.targets)
        elif not isinstance(stmt, ast.Pass | ast.Break | ast.Continue):
            raise _Impure(f"{_line(stmt)} module-level {type(stmt).__name__.lower()} statement")

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.decorators(node.decorator_list)
        self.exprs([*node.args.defaults, *node.args.kw_defaults])
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        for arg in every:
            if arg is not None:
                self.annotation(arg.annotation)
        self.annotation(node.returns)

    def annotation(self, node: ast.expr | None) -> None:
        if not self.lazy_annotations:
            self.expr(node)

    def decorators(self, decorators: Iterable[ast.expr]) -> None:
        """A bare decorator is called with the function: it must be a pure callable too."""
        for node in decorators:
            if isinstance(node, ast.Call):
                self.expr(node)
            else:
                self.expr(node)
                self.require_pure(self.origin(node), node)

    def exprs(self, nodes: Iterable[ast.expr | None]) -> None:
        for node in nodes:
            self.expr(node)

    def expr(self, node: ast.AST | None) -> None:
        if node is None:
            return
        if isinstance(node, ast.Name) and node.id in AMBIENT_NAMES:
            raise _Impure(f"{_line(node)} reads {node.id}")
        if isinstance(node, ast.Attribute) and node.attr in AMBIENT_NAMES:
            raise _Impure(f"{_line(node)} reads .{node.attr}")
        if isinstance(node, ast.Await | ast.Yield | ast.YieldFrom):
            raise _Impure(f"{_line(node)} {type(node).__name__.lower()} at module level")
        if isinstance(node, ast.Lambda):
            self.exprs([*node.args.defaults, *node.args.kw_defaults])  # the body runs later
            return
        if isinstance(node, ast.Call):
            self.call(node)
            return
        for child in ast.iter_child_nodes(node):
            self.expr(child)

    def call(self, node: ast.Call) -> None:
        origin = self.origin(node.func)
        if origin is not None:
            self.require_pure(origin, node)  # a dotted name of imports: nothing below to check
            if origin in _CLOCK_CALLS and _mentions_clock(node):
                raise _Impure(f"{_line(node)} reads the clock")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in PURE_METHODS:
            self.expr(node.func.value)
        else:
            raise _Impure(f"{_line(node)} calls {ast.unparse(node.func)}")
        self.exprs([*node.args, *(k.value for k in node.keywords)])

    def require_pure(self, origin: str | None, node: ast.AST) -> None:
        shown = origin or ast.unparse(node)
        if origin is None or origin.split(".")[0] in self.project:
            raise _Impure(f"{_line(node)} calls {shown}")
        if origin.startswith("builtins."):
            if origin.removeprefix("builtins.") in PURE_BUILTINS:
                return
        elif origin in PURE_CALLS or origin.startswith(PURE_PREFIXES):
            return
        raise _Impure(f"{_line(node)} calls {shown}")

    def origin(self, node: ast.AST) -> str | None:
        """The dotted name an expression refers to through imports (`np.array` →
        `numpy.array`), or None for anything computed or defined in this module."""
        if isinstance(node, ast.Name):
            if node.id in self.origins:
                return self.origins[node.id]
            if node.id in self.local or not hasattr(builtins, node.id):
                return None
            return f"builtins.{node.id}"
        if isinstance(node, ast.Attribute):
            base = self.origin(node.value)
            return f"{base}.{node.attr}" if base else None
        return None


def _bindings(tree: ast.Module) -> tuple[dict[str, str | None], set[str]]:
    """Import origins of names bound once, by an import, at module level; and every other
    name bound there. A name bound twice (an import and an assignment) has no origin."""
    origins: dict[str, str | None] = {}
    local: set[str] = set()
    counts: dict[str, int] = {}
    for stmt in _module_level(tree.body):
        for name, origin in _imported(stmt):
            counts[name] = counts.get(name, 0) + 1
            origins[name] = origin
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            local.add(stmt.name)
        elif not isinstance(stmt, ast.Import | ast.ImportFrom):
            local.update(
                n.id
                for n in ast.walk(stmt)
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
            )
    for name in list(origins):
        if counts[name] > 1 or name in local:
            origins[name] = None
    return origins, local


def _module_level(statements: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements whose bindings are module globals (not inside functions or classes)."""
    for stmt in statements:
        yield stmt
        if isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try):
            nested = [getattr(stmt, f, []) for f in ("body", "orelse", "finalbody")]
            handlers = [h.body for h in getattr(stmt, "handlers", [])]
            for block in [*nested, *handlers]:
                yield from _module_level(block)


def _imported(stmt: ast.stmt) -> list[tuple[str, str | None]]:
    if isinstance(stmt, ast.Import):
        return [
            (a.asname, a.name) if a.asname else (a.name.split(".")[0], a.name.split(".")[0])
            for a in stmt.names
        ]
    if isinstance(stmt, ast.ImportFrom):
        base = None if stmt.level else stmt.module
        return [(a.asname or a.name, f"{base}.{a.name}" if base else None) for a in stmt.names]
    return []


def _is_main_guard(test: ast.expr) -> bool:
    """`if __name__ == "__main__":` — its body does not run when the module is imported."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _mentions_clock(node: ast.Call) -> bool:
    values = [*node.args, *(k.value for k in node.keywords)]
    return any(
        isinstance(v, ast.Constant) and isinstance(v.value, str)
        and v.value.strip().lower() in _CLOCK_WORDS
        for v in values
    )  # fmt: skip
