"""The loaded workflow: an immutable DAG of operators in topological order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from ghostrun.workflow.types import Goal, Operator

Direction = Literal["upstream", "downstream"]


@dataclass(frozen=True)
class Workflow:
    """One loaded version of the user's module.

    Responsibilities: hold the operators (in topological order) and answer graph
    questions about them. It is never edited: a new save is loaded into a new Workflow.
    """

    path: Path
    root: Path
    operators: Mapping[str, Operator]
    primary: str | None
    goal: Goal
    packages: Mapping[str, str]
    hamilton_style: bool = False
    _dependents: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "operators", MappingProxyType(dict(self.operators)))
        object.__setattr__(self, "packages", MappingProxyType(dict(self.packages)))
        dependents: dict[str, list[str]] = {name: [] for name in self.operators}
        for op in self.operators.values():
            for name in op.inputs:
                dependents[name].append(op.name)
        frozen = {k: tuple(v) for k, v in dependents.items()}
        object.__setattr__(self, "_dependents", MappingProxyType(frozen))

    @property
    def relpath(self) -> str:
        return _relative(self.path, self.root)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(n for n, op in self.operators.items() if op.kind == "metric")

    @property
    def sinks(self) -> tuple[str, ...]:
        return tuple(n for n in self.operators if not self._dependents[n])

    def dependents(self, name: str) -> tuple[str, ...]:
        return self._dependents[name]

    def closure(self, names: Iterable[str], direction: Direction) -> set[str]:
        """The given operators and everything up- or downstream of them."""
        step = (
            (lambda n: self.operators[n].inputs)
            if direction == "upstream"
            else (lambda n: self._dependents[n])
        )
        seen: set[str] = set()
        stack = [n for n in names if n in self.operators]
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                stack.extend(step(name))
        return seen

    def in_order(self, names: Iterable[str]) -> list[str]:
        wanted = set(names)
        return [n for n in self.operators if n in wanted]


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
