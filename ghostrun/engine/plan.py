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

The plan of a rerun after an edit that changed nothing (load the targets, prune the rest)
is first checked by a bound that proves it the one cheapest plan when it is, without
importing networkx (0.2 s: more than such a run should cost beyond process start).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
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
    shortcut = _targets_loaded(nodes)
    return shortcut if shortcut is not None else min_cut_plan(nodes)


def _targets_loaded(nodes: Mapping[str, PlanNode]) -> dict[str, State] | None:
    """Load every target and prune the rest, when a bound proves that the one cheapest
    plan; else None (the cut decides).

    With non-negative costs, the tie-breakers make any plan that also holds a non-target,
    or computes a target no dearer to load than to compute, strictly dearer. Computing the
    targets that are dearer to load saves at most S, the sum of their load − compute; but
    computing one of them holds its non-target inputs, which costs at least
    `_holding_inputs`. When that is at least S for each of them, nothing saves: this plan
    is strictly the cheapest, and the cut (exact) would find it too.
    """
    if any(n.compute < 0 or (n.load is not None and n.load < 0) for n in nodes.values()):
        return None
    dearer = []
    for node in nodes.values():
        if node.target and node.load is None:
            return None
        if node.target and node.load is not None and node.load > node.compute:
            dearer.append((node, node.load - node.compute))
    if dearer:
        saving = sum(s for _, s in dearer)
        holding = _holding_costs(nodes)
        if holding is None or any(_holding_inputs(n, nodes, holding) < saving for n, _ in dearer):
            return None
    return {name: "loaded" if node.target else "pruned" for name, node in nodes.items()}


def _holding_costs(nodes: Mapping[str, PlanNode]) -> dict[str, float] | None:
    """For each operator, at least what holding it costs: loading it, or computing it and
    holding its inputs (None for a cycle, which the cut handles)."""
    graph = {name: [i for i in node.inputs if i in nodes] for name, node in nodes.items()}
    holding: dict[str, float] = {}
    try:
        for name in TopologicalSorter(graph).static_order():
            node = nodes[name]
            computed = node.compute + _holding_inputs(node, nodes, holding)
            holding[name] = computed if node.load is None else min(node.load, computed)
    except CycleError:
        return None
    return holding


def _holding_inputs(
    node: PlanNode, nodes: Mapping[str, PlanNode], holding: Mapping[str, float]
) -> float:
    """At least what holding the non-target inputs of `node` costs (a target's own cost is
    counted apart): each one at least alone, and the dearest at least with what it needs
    (summing those could count a shared ancestor twice)."""
    inputs = {i: nodes[i] for i in node.inputs if i in nodes and not nodes[i].target}
    if not inputs:
        return 0.0
    alone = sum(min(n.compute, math.inf if n.load is None else n.load) for n in inputs.values())
    return max(alone, *(holding[i] for i in inputs))


def min_cut_plan(nodes: Mapping[str, PlanNode]) -> dict[str, State]:
    """The cheapest feasible assignment by one minimum cut, whatever the costs."""
    import networkx as nx  # 0.2 s to import: only when the shortcut above does not apply

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
