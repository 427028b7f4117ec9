"""Checks that make a set of operators a valid DAG, each failing with the fix to make."""

from __future__ import annotations

import ast
import difflib
import graphlib
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ghostrun.errors import WorkflowError
from ghostrun.workflow.types import Location, Operator


def single_definition(name: str, nodes: Sequence[ast.FunctionDef], file: str) -> None:
    if len(nodes) > 1:
        lines = ", ".join(str(n.lineno) for n in nodes)
        raise WorkflowError(
            f"two operators are named '{name}' (defined at lines {lines}); operator names "
            "must be unique, so rename or delete one.",
            file=file,
            line=nodes[-1].lineno,
        )


def parameters(
    name: str,
    func: Callable[..., Any],
    op_names: Collection[str],
    inputs: Mapping[str, Any],
    location: Location,
) -> None:
    """Every parameter must name an operator, have a default, or be a configured input."""
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.POSITIONAL_ONLY:
            raise WorkflowError(
                f"operator '{name}' has a positional-only parameter '{p.name}'; ghostrun passes "
                "inputs by name, so remove the '/' from its signature.",
                file=location.file,
                line=location.line,
            )
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name in op_names or p.name in inputs:
            continue
        raise WorkflowError(_unknown_input_message(name, p.name, op_names), **_at(location))


def _unknown_input_message(op: str, param: str, op_names: Collection[str]) -> str:
    close = difflib.get_close_matches(param, list(op_names), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (
        f"operator '{op}' takes '{param}', which names no operator and has no default; "
        f"add an operator named '{param}', give the parameter a default, or set it under "
        f"`inputs` in [tool.ghostrun].{hint}"
    )


def topological(ops: Sequence[Operator], file: str) -> list[Operator]:
    """Operators in dependency order (ties broken by line), or the cycle as an error."""
    by_name = {op.name: op for op in ops}
    sorter = graphlib.TopologicalSorter({op.name: op.inputs for op in ops})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
        first = by_name[cycle[0]]
        raise WorkflowError(
            f"operators form a cycle: {' → '.join(cycle)} (each feeds the next); an operator "
            "cannot consume its own output, so rename one of these parameters.",
            file=file,
            line=first.location.line,
        ) from None
    ordered: list[Operator] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda n: by_name[n].location.line)
        ordered.extend(by_name[n] for n in ready)
        sorter.done(*ready)
    return ordered


def one_primary(primaries: Sequence[Operator], file: str) -> None:
    if len(primaries) > 1:
        names = ", ".join(op.name for op in primaries)
        raise WorkflowError(
            f"several metrics are marked primary=True ({names}); keep it on one.",
            file=file,
            line=primaries[1].location.line,
        )


def _at(location: Location) -> dict[str, Any]:
    return {"file": location.file, "line": location.line}
