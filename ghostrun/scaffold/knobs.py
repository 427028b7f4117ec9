"""Which literals of a step would become knobs, and the edits that make them parameters.

- Literal keywords of estimator constructors (`LGBMClassifier(num_leaves=31)`) are
  implicit knobs once they sit in an operator's body: nothing to change.
- Numeric literal keywords of other calls (`train_test_split(..., test_size=0.25)`), the
  numeric defaults of the script's own functions a step calls, and numeric module
  constants only one step uses become the operator's parameters with those defaults: a
  parameter with a default is a knob.
- A source's data file path becomes its `path` parameter: a data input, fingerprinted by
  content and never explored.

Seeds, thread counts and verbosity are left alone: exploring them finds noise.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ghostrun.scaffold.linking import PATH_KEYWORDS, RESERVED
from ghostrun.scaffold.plan import Edit, KnobHint, KnobKind, Param
from ghostrun.scaffold.units import HelperKinds

NOT_KNOBS = ("seed", "random", "jobs", "thread", "verbos", "axis", "ddof", "decimals", "header",
             "index_col", "skiprows", "level", "ndigits", "nrows", "usecols", "silent", "lower",
             "upper", "periods")


@dataclass
class StepKnobs:
    hints: list[KnobHint] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)  # module constants turned parameters


@dataclass(frozen=True)
class Constant:
    name: str
    value: Any
    line: int


def literal(node: ast.expr) -> tuple[bool, Any]:
    """(True, value) for a bool, number or string literal (`-1` included)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        ok, inner = literal(node.operand)
        if ok and _is_number(inner):
            return True, -inner if isinstance(node.op, ast.USub) else inner
        return False, None
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
        return True, node.value
    return False, None


def source_literal(value: Any) -> str:
    """`value` as code, strings in double quotes like the rest of a workflow."""
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return repr(value)


def worth_exploring(name: str) -> bool:
    lowered = name.lower()
    return not any(word in lowered for word in NOT_KNOBS)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class KnobFinder:
    """Finds one step's knobs; knows the script's helpers, constants and names."""

    def __init__(self, kinds: HelperKinds, constants: Mapping[str, Constant],
                 single_user: Mapping[str, int], taken: Collection[str]) -> None:
        self.kinds = kinds
        self.constants = constants
        self.single_user = single_user  # constant → the one step index that uses it
        self.taken = set(taken) | RESERVED
        self._names: set[str] = set()

    def find(self, index: int, role: str, nodes: list[ast.AST]) -> StepKnobs:
        found = StepKnobs()
        used = {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}
        self._names = self.taken | used
        calls = sorted((n for node in nodes for n in ast.walk(node) if isinstance(n, ast.Call)),
                       key=lambda c: (c.lineno, c.col_offset))
        if role == "data":
            self._paths(index, calls, nodes, found)
            return found
        self._implicit(calls, found)
        if role != "metric":
            self._keywords(calls, found)
            self._helper_defaults(calls, found)
            self._constants(index, nodes, found)
        found.hints.sort(key=lambda h: h.line)
        return found

    # -- kinds of knobs -------------------------------------------------------------------
    def _implicit(self, calls: Iterable[ast.Call], found: StepKnobs) -> None:
        seen: dict[str, int] = {}
        for call in calls:
            label = self.kinds.calls.estimator_label(call)
            if label is None:
                continue
            seen[label] = seen.get(label, 0) + 1
            prefix = label if seen[label] == 1 else f"{label}#{seen[label]}"
            for kw in call.keywords:
                ok, value = literal(kw.value)
                if ok and kw.arg is not None:
                    found.hints.append(KnobHint(f"{prefix}.{kw.arg}", value, kw.value.lineno,
                                                "implicit", f"{label}({kw.arg}=...)"))

    def _keywords(self, calls: Iterable[ast.Call], found: StepKnobs) -> None:
        for call in calls:
            kinds = self.kinds.calls.kinds(call)
            if self.kinds.calls.estimator_label(call) or kinds & {"metric", "read", "output"}:
                continue
            for kw in call.keywords:
                ok, value = literal(kw.value)
                if ok and _is_number(value) and kw.arg and worth_exploring(kw.arg):
                    origin = f"{ast.unparse(call.func)}({kw.arg}={value!r})"
                    self._lift(found, kw.arg, value, kw.value, "parameter", origin)

    def _helper_defaults(self, calls: Iterable[ast.Call], found: StepKnobs) -> None:
        for call in calls:
            func = call.func
            if not isinstance(func, ast.Name) or func.id not in self.kinds.helpers:
                continue
            helper = self.kinds.helpers[func.id]
            if not isinstance(helper, ast.FunctionDef) or _has_star(call):
                continue
            for arg, default in _defaults(helper.args)[len(call.args):]:
                ok, value = literal(default)
                passed = any(k.arg == arg for k in call.keywords)
                if ok and _is_number(value) and not passed and worth_exploring(arg):
                    name = self._fresh(arg)
                    origin = f"default of {func.id}({arg}={value!r})"
                    found.hints.append(KnobHint(name, value, default.lineno, "parameter", origin))
                    found.params.append(Param(name, source_literal(value)))
                    found.edits.append(self._append_keyword(call, f"{arg}={name}"))

    def _constants(self, index: int, nodes: list[ast.AST], found: StepKnobs) -> None:
        for const in self.constants.values():
            if self.single_user.get(const.name) != index or not _is_number(const.value):
                continue
            if not worth_exploring(const.name):
                continue
            origin = f"module constant {const.name} = {const.value!r}"
            self._rename(found, const, const.name.lower(), nodes, "constant", origin)

    def _paths(self, index: int, calls: Iterable[ast.Call], nodes: list[ast.AST],
               found: StepKnobs) -> None:
        for call in calls:
            if "read" not in self.kinds.call_kinds(call):
                continue
            first = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg in PATH_KEYWORDS), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                self._lift(found, "path", first.value, first, "data", "data file")
            elif isinstance(first, ast.Name) and self.single_user.get(first.id) == index:
                const = self.constants.get(first.id)
                if const is not None and isinstance(const.value, str):
                    origin = f"data file, module constant {const.name}"
                    self._rename(found, const, "path", nodes, "data", origin)

    # -- edits ----------------------------------------------------------------------------
    def _lift(self, found: StepKnobs, wanted: str, value: Any, node: ast.expr, kind: KnobKind,
              origin: str) -> None:
        name = self._fresh(wanted)
        found.hints.append(KnobHint(name, value, node.lineno, kind, origin))
        found.params.append(Param(name, source_literal(value)))
        found.edits.append(_replace(node, name))

    def _rename(self, found: StepKnobs, const: Constant, wanted: str, nodes: list[ast.AST],
                kind: KnobKind, origin: str) -> None:
        self._names.discard(const.name)  # every use of it is renamed
        name = self._fresh(wanted)
        found.hints.append(KnobHint(name, const.value, const.line, kind, origin))
        found.params.append(Param(name, source_literal(const.value)))
        found.replaces.append(const.name)
        for node in nodes:
            for n in ast.walk(node):
                if isinstance(n, ast.Name) and n.id == const.name:
                    found.edits.append(_replace(n, name))

    def _fresh(self, wanted: str) -> str:
        name, number = wanted, 2
        while name in self._names:
            name, number = f"{wanted}_{number}", number + 1
        self._names.add(name)
        return name

    @staticmethod
    def _append_keyword(call: ast.Call, text: str) -> Edit:
        """Insert `text` as the call's last argument: right after the current last one (a
        trailing comma stays after it), or inside the empty parentheses."""
        given = [*call.args, *(k.value for k in call.keywords)]
        if not given:
            line, col = call.end_lineno or call.lineno, (call.end_col_offset or 1) - 1
            return Edit(line, col, line, col, text)
        last = max(given, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
        line, col = last.end_lineno or last.lineno, last.end_col_offset or 0
        return Edit(line, col, line, col, ", " + text)


def _replace(node: ast.expr, text: str) -> Edit:
    return Edit(node.lineno, node.col_offset, node.end_lineno or node.lineno,
                node.end_col_offset or node.col_offset, text)


def _defaults(args: ast.arguments) -> list[tuple[str, ast.expr]]:
    """(name, default) of the positional-or-keyword parameters, in order, for every
    parameter (None-free: only those with a default), keeping their positions."""
    positional = [*args.posonlyargs, *args.args]
    with_default = positional[len(positional) - len(args.defaults):]
    pairs: list[tuple[str, ast.expr]] = [(a.arg, d) for a, d in zip(
        with_default, args.defaults, strict=True)]
    padding = [("", ast.Constant(None))] * (len(positional) - len(args.defaults))
    keyword_only = [(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                    if d is not None]
    return [*padding, *pairs, *keyword_only]


def _has_star(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords)
