"""The optimal plan: compute, load or prune each operator, minimising estimated time.

Helix's formulation. For each operator n two yes/no choices: X_n (its value is in memory
for this run: loaded or computed) and Y_n (it is computed). Rules:

- Y_n ⇒ X_n, and Y_n ⇒ X_i for every input i (computing needs the inputs);
- X_n ⇒ Y_n when n has no usable cache entry (nothing to load);
- X_t for every target t (its value is the run's output).

Cost: l_n·X_n + (c_n − l_n)·Y_n, i.e. l_n when loaded, c_n when computed, 0 when pruned.
Every rule is an implication, so feasible choices are the closures of an implication graph
and the cheapest one is a minimum-weight closure, found exactly by one minimum cut
(Picard 1976). networkx computes the cut; the graphs are a few hundred nodes at most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import networkx as nx

State = Literal["computed", "loaded", "pruned"]

# Tie-breakers: prefer pruning to loading, and loading to recomputing, at equal cost.
_LOAD_EPSILON = 1e-6
_COMPUTE_EPSILON = 2e-6
_SOURCE, _SINK = ("source",), ("sink",)


@dataclass(frozen=True)
class PlanNode:
    """What the planner knows of one operator; costs in seconds."""

    inputs: tuple[str, ...]
    compute: float
    load: float | None  # None: no cache entry, cannot be loaded
    target: bool = False


def plan(nodes: Mapping[str, PlanNode]) -> dict[str, State]:
    """The cheapest feasible assignment of states (exact)."""
    graph = nx.DiGraph()
    graph.add_node(_SOURCE)
    graph.add_node(_SINK)
    for name, node in nodes.items():
        x, y = ("x", name), ("y", name)
        load = (node.load if node.load is not None else 0.0) + _LOAD_EPSILON
        compute = node.compute + _COMPUTE_EPSILON
        _add_weight(graph, x, load)
        _add_weight(graph, y, compute - load)
        graph.add_edge(y, x)  # no capacity attribute: infinite
        for i in node.inputs:
            if i in nodes:
                graph.add_edge(y, ("x", i))
        if node.load is None:
            graph.add_edge(x, y)
        if node.target:
            graph.add_edge(_SOURCE, x)
    _, (chosen, _) = nx.minimum_cut(graph, _SOURCE, _SINK)
    return {name: _state(("x", name) in chosen, ("y", name) in chosen) for name in nodes}


def _add_weight(graph: nx.DiGraph, node: tuple[str, str], weight: float) -> None:
    """Weight w in a min-weight closure: an edge to the sink costs w if positive, an edge
    from the source pays −w if negative."""
    graph.add_node(node)
    if weight > 0:
        graph.add_edge(node, _SINK, capacity=weight)
    elif weight < 0:
        graph.add_edge(_SOURCE, node, capacity=-weight)


def _state(available: bool, computed: bool) -> State:
    if computed:
        return "computed"
    return "loaded" if available else "pruned"


def plan_cost(nodes: Mapping[str, PlanNode], states: Mapping[str, State]) -> float:
    total = 0.0
    for name, state in states.items():
        if state == "computed":
            total += nodes[name].compute
        elif state == "loaded":
            total += nodes[name].load or 0.0
    return total


def is_feasible(nodes: Mapping[str, PlanNode], states: Mapping[str, State]) -> bool:
    for name, node in nodes.items():
        state = states[name]
        if node.target and state == "pruned":
            return False
        if state == "loaded" and node.load is None:
            return False
        if state == "computed" and any(states.get(i, "loaded") == "pruned" for i in node.inputs):
            return False
    return True
