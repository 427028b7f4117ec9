"""Edges and names: what each draft takes from earlier ones, what it hands on, and what the
operator is called.

A draft's input is a variable it reads before binding it, taken from the latest earlier
draft that bound it; a draft's outputs are the variables later drafts take from it. An
operator is named by its role (`features`, `split`, `model`), a source by its data file's
stem, a metric by the label the script printed; never by a name the script already uses
for something else, since parameter names are operator names in a workflow.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from ghostrun.scaffold.grouping import Draft
from ghostrun.scaffold.metrics import identifier
from ghostrun.scaffold.names import Names, names_of

IsRead = Callable[[ast.Call], bool]
RESERVED = frozenset({"gr", "copy", *dir(builtins), *keyword.kwlist})


@dataclass(frozen=True)
class Link:
    """One draft's edges: inputs as (draft index, variable) in first-use order."""

    inputs: tuple[tuple[int, str], ...]
    outputs: tuple[str, ...]


def emitted(draft: Draft) -> list[ast.AST]:
    """The nodes that end up in the operator's body: a metric's prints give way to its
    value expression."""
    if draft.metric is None:
        return [u.stmt for u in draft.units]
    kept: list[ast.AST] = [u.stmt for u in draft.units if not isinstance(u.stmt, ast.Expr)]
    return [*kept, draft.metric.value]


def _flow(draft: Draft) -> list[Names]:
    if draft.metric is None:
        return [u.names for u in draft.units]
    kept = [u.names for u in draft.units if not isinstance(u.stmt, ast.Expr)]
    return [*kept, names_of(ast.Return(value=draft.metric.value))]


def link(drafts: Sequence[Draft]) -> list[Link]:
    latest: dict[str, int] = {}
    inputs: list[dict[str, int]] = []
    for index, draft in enumerate(drafts):
        local: set[str] = set()
        taken: dict[str, int] = {}
        for names in _flow(draft):
            for var in names.uses:
                if var not in local and var in latest:
                    taken.setdefault(var, latest[var])
            local.update(names.defs)
        inputs.append(taken)
        latest.update(dict.fromkeys(draft.defs, index))
    exported: list[set[str]] = [set() for _ in drafts]
    for taken in inputs:
        for var, source in taken.items():
            exported[source].add(var)
    return [
        Link(tuple((source, var) for var, source in taken.items()),
             tuple(v for v in draft.defs if v in exported[index]))
        for index, (draft, taken) in enumerate(zip(drafts, inputs, strict=True))
    ]


def script_names(tree: ast.Module) -> set[str]:
    """Every name the script binds or reads anywhere, with what Python reserves."""
    found = set(RESERVED)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.split(".")[0])
    return found


class Namer:
    """Picks unique operator names that do not shadow the script's own names."""

    def __init__(self, reserved: set[str], module_names: set[str]) -> None:
        self.reserved = reserved
        self.module_names = module_names
        self.taken: set[str] = set()

    def choose(self, candidates: Iterable[str | None], own: Collection[str]) -> str:
        """The first usable candidate; a name in `own` (the step's single output variable,
        or a metric's own variable) may be reused, since that is what its consumers read."""
        usable = [c for c in candidates if c and c.isidentifier() and not keyword.iskeyword(c)]
        for name in usable:
            if name in self.taken or name in self.module_names:
                continue
            if name not in self.reserved or name in own:
                return self._take(name)
        base = usable[0] if usable else "step"
        number = 2
        while (f"{base}_{number}" in self.taken | self.reserved):
            number += 1
        return self._take(f"{base}_{number}")

    def _take(self, name: str) -> str:
        self.taken.add(name)
        return name


def candidates(draft: Draft, before: Sequence[Draft], outputs: Sequence[str],
               constants: Mapping[str, object], is_read: IsRead) -> list[str | None]:
    """Names to try for a draft, best first."""
    own = outputs[0] if len(outputs) == 1 else None
    if draft.role == "data":
        return [data_stem(draft, constants, is_read), own, "raw"]
    if draft.role == "metric" and draft.metric is not None:
        return [*draft.metric.names, "metric"]
    if draft.role == "transform":
        split = any(d.role in ("split", "model") for d in before)
        return ["prepared" if split else "features", own, "prepared", "table"]
    if draft.role == "predict":
        return [own, "predictions"]
    return [draft.role, own]


def data_stem(draft: Draft, constants: Mapping[str, object], is_read: IsRead) -> str | None:
    """`train` for `pd.read_csv("data/train.csv")` (or a constant holding that path)."""
    for unit in draft.units:
        for call in (n for n in ast.walk(unit.stmt) if isinstance(n, ast.Call) and is_read(n)):
            path = path_argument(call, constants)
            if path is not None:
                stem = PurePosixPath(path.replace("\\", "/")).name.split(".")[0]
                return identifier(stem)
    return None


PATH_KEYWORDS = ("filepath_or_buffer", "path", "io", "fname", "file", "source", "path_or_buf")


def path_argument(call: ast.Call, constants: Mapping[str, object]) -> str | None:
    """The file path a reader call is given as a string literal or constant, if any."""
    first = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg in PATH_KEYWORDS), None)
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.Name) and isinstance(constants.get(first.id), str):
        return str(constants[first.id])
    return None
